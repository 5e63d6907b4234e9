using System.Text;
using System.Text.Json;
using PreferenceStudio.Environments;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PreferenceStudio.Learning;

/// <summary>
/// Partial-return (Bradley-Terry) reward model: an MLP r_hat over step features, segment return R = sum of r_hat,
/// P(right preferred) = sigmoid(R(right) - R(left)) (METHODS.md section 1), optionally mixed with 10% random labels.
/// </summary>
/// <remarks>Inference calls are serialised by a lock: a TorchSharp module is not safe for concurrent forward passes.</remarks>
public sealed class BradleyTerryRewardModel : IRewardModel
{
    /// <summary>The <see cref="ModelType"/> of this model.</summary>
    public const string TypeName = "bt";

    private const string Magic = "preferencestudio/reward-model@1";
    private const int InferenceChunk = 4096;

    private readonly Sequential _net;
    private readonly IPreferenceEnvironment _env;
    private readonly CheckpointHeader _header;
    private readonly Device _device;
    private readonly Lock _gate = new();

    internal BradleyTerryRewardModel(Sequential net, IPreferenceEnvironment env, CheckpointHeader header, Device device)
    {
        _net = net;
        _env = env;
        _header = header;
        _device = device;
    }

    public string ModelType => TypeName;

    public string EnvironmentName => _env.Name;

    /// <summary>Whether probabilities include the 10% random-label mixing the model was trained with.</summary>
    public bool LabelNoise => _header.LabelNoise;

    /// <summary>The device the weights live on ("cpu" or "cuda").</summary>
    public string DeviceName => _device.type == DeviceType.CUDA ? "cuda" : "cpu";

    internal Sequential Network => _net;

    public double[] StepRewards(IReadOnlyList<float[]> stepFeatures)
    {
        ArgumentNullException.ThrowIfNull(stepFeatures);
        int f = _env.FeatureSize;
        var flat = new float[stepFeatures.Count * f];
        for (int i = 0; i < stepFeatures.Count; i++)
        {
            if (stepFeatures[i].Length != f) throw new ArgumentException($"Feature vector {i} has {stepFeatures[i].Length} entries; the model reads {f}.");
            Array.Copy(stepFeatures[i], 0, flat, i * f, f);
        }
        lock (_gate)
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            _net.eval();
            var input = tensor(flat, [stepFeatures.Count, f], device: _device);
            return ToDoubles(_net.forward(input).squeeze(-1));
        }
    }

    public double SegmentReturn(Segment segment) => SegmentReturns([segment])[0];

    public double[] SegmentReturns(IReadOnlyList<Segment> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        var result = new double[segments.Count];
        for (int start = 0; start < segments.Count; start += InferenceChunk)
        {
            var chunk = segments.Skip(start).Take(InferenceChunk).ToList();
            lock (_gate)
            {
                using var noGrad = torch.no_grad();
                using var scope = torch.NewDisposeScope();
                _net.eval();
                var (features, mask) = SegmentTensors.Encode(_env, chunk, _device);
                ToDoubles(RewardNetwork.SegmentReturns(_net, features, mask)).CopyTo(result, start);
            }
        }
        return result;
    }

    public double PreferRightProbability(Segment left, Segment right) =>
        PreferRightProbabilities([new PreferencePair(left, right, PreferenceChoice.Equal)])[0];

    /// <summary>
    /// Compares returns over the same number of steps: a segment that ended at a terminal state earlier than its
    /// partner continues with absorbing steps, as in training.
    /// </summary>
    public double[] PreferRightProbabilities(IReadOnlyList<PreferencePair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var result = new double[pairs.Count];
        for (int start = 0; start < pairs.Count; start += InferenceChunk)
        {
            var chunk = pairs.Skip(start).Take(InferenceChunk).ToList();
            double[] d;
            lock (_gate)
            {
                using var noGrad = torch.no_grad();
                using var scope = torch.NewDisposeScope();
                _net.eval();
                var (lx, lm, rx, rm) = SegmentTensors.EncodePairs(_env, chunk, _device);
                d = ToDoubles(RewardNetwork.SegmentReturns(_net, rx, rm) - RewardNetwork.SegmentReturns(_net, lx, lm));
            }
            for (int i = 0; i < d.Length; i++) result[start + i] = Probability(d[i]);
        }
        return result;
    }

    /// <summary>One file: a JSON header (architecture, environment) followed by the module's weights.</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        lock (_gate)
        {
            using var stream = File.Create(path);
            using var writer = new BinaryWriter(stream, Encoding.UTF8);
            writer.Write(Magic);
            writer.Write(JsonSerializer.Serialize(_header));
            _net.save(writer);
        }
    }

    /// <summary>
    /// Loads a checkpoint written by <see cref="Save"/>. The environment is looked up by the name stored in the file
    /// unless given. Weights go to <paramref name="device"/> ("auto", "cpu" or "cuda").
    /// </summary>
    public static BradleyTerryRewardModel Load(string path, IPreferenceEnvironment? env = null, string device = "auto")
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        CheckpointHeader header;
        try
        {
            if (reader.ReadString() != Magic) throw new RewardTrainingException($"{path} is not a PreferenceStudio reward-model checkpoint.");
            header = JsonSerializer.Deserialize<CheckpointHeader>(reader.ReadString())
                ?? throw new RewardTrainingException($"{path} has an empty checkpoint header.");
        }
        catch (Exception e) when (e is EndOfStreamException or JsonException or IOException)
        {
            throw new RewardTrainingException($"{path} is not a readable reward-model checkpoint: {e.Message}", e);
        }
        if (header.ModelType != TypeName)
            throw new RewardTrainingException($"{path} holds a '{header.ModelType}' model, not '{TypeName}'.");
        env ??= EnvironmentRegistry.Get(header.Environment);
        if (env.Name != header.Environment || env.FeatureSize != header.FeatureSize)
            throw new RewardTrainingException($"{path} was trained on {header.Environment} ({header.FeatureSize} features), not {env.Name} ({env.FeatureSize}).");
        var dev = TorchDevices.Resolve(device);
        var net = RewardNetwork.Build(header.FeatureSize, header.HiddenSizes, header.LeakySlope, header.TanhOutput, header.Bias);
        net.load(reader);
        net.to(dev);
        return new BradleyTerryRewardModel(net, env, header, dev);
    }

    public void Dispose() => _net.Dispose();

    private double Probability(double d)
    {
        double p = 1.0 / (1.0 + Math.Exp(-d));
        return _header.LabelNoise ? 0.9 * p + 0.05 : p;
    }

    private static double[] ToDoubles(Tensor t) => t.to(torch.CPU).to_type(ScalarType.Float64).data<double>().ToArray();

    internal sealed record CheckpointHeader(
        string ModelType, string Environment, int FeatureSize, int[] HiddenSizes, double LeakySlope, bool TanhOutput, bool LabelNoise, bool Bias = true);
}
