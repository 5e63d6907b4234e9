using System.Text;
using PreferenceStudio.Environments;
using TorchSharp;
using static TorchSharp.torch;

namespace PreferenceStudio.Learning;

/// <summary>
/// Partial-return (Bradley-Terry) reward model (METHODS.md section 1): an ensemble of K MLPs r_k over step features
/// (K = 1 is the plain model). Its reward is the members' mean r_hat = mean_k r_k, segment return R = sum of r_hat, and
/// P(right preferred) = sigmoid(R(right) - R(left)), optionally mixed with 10% random labels. Each member's own
/// probability (<see cref="MemberPreferRightProbabilities"/>) measures disagreement for query selection.
/// </summary>
/// <remarks>Inference calls are serialised by a lock: a TorchSharp module is not safe for concurrent forward passes.</remarks>
public sealed class BradleyTerryRewardModel : IEnsembleRewardModel
{
    /// <summary>The <see cref="ModelType"/> of this model.</summary>
    public const string TypeName = "bt";

    private const int InferenceChunk = 4096;

    private readonly EnsembleNetwork _net;
    private readonly IPreferenceEnvironment _env;
    private readonly CheckpointHeader _header;
    private readonly Device _device;
    private readonly Lock _gate = new();

    internal BradleyTerryRewardModel(EnsembleNetwork net, IPreferenceEnvironment env, CheckpointHeader header, Device device)
    {
        _net = net;
        _env = env;
        _header = header with { Members = net.Members };
        _device = device;
    }

    public string ModelType => TypeName;

    public string EnvironmentName => _env.Name;

    public int MemberCount => _net.Members;

    /// <summary>Whether probabilities include the 10% random-label mixing the model was trained with.</summary>
    public bool LabelNoise => _header.LabelNoise;

    /// <summary>The device the weights live on ("cpu" or "cuda").</summary>
    public string DeviceName => _device.type == DeviceType.CUDA ? "cuda" : "cpu";

    internal EnsembleNetwork Network => _net;

    public double[] StepRewards(IReadOnlyList<float[]> stepFeatures)
    {
        ArgumentNullException.ThrowIfNull(stepFeatures);
        int f = _env.FeatureSize;
        var flat = SegmentTensors.FlattenSteps(stepFeatures, f);
        lock (_gate)
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            _net.eval();
            var input = tensor(flat, [stepFeatures.Count, f], device: _device);
            return SegmentTensors.ToDoubles(_net.Shared(input).mean([0]));
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
                SegmentTensors.ToDoubles(_net.SharedSegmentReturns(features, mask).mean([0])).CopyTo(result, start);
            }
        }
        return result;
    }

    public double PreferRightProbability(Segment left, Segment right) =>
        PreferRightProbabilities([new PreferencePair(left, right, PreferenceChoice.Equal)])[0];

    /// <summary>
    /// sigmoid of the difference of mean-reward returns. Compares returns over the same number of steps: a segment that
    /// ended at a terminal state earlier than its partner continues with absorbing steps, as in training.
    /// </summary>
    public double[] PreferRightProbabilities(IReadOnlyList<PreferencePair> pairs)
    {
        var d = ReturnDifferences(pairs);
        var result = new double[pairs.Count];
        for (int i = 0; i < result.Length; i++) result[i] = Probability(d.Mean[i]);
        return result;
    }

    /// <summary>P(right preferred) under each member alone: [member][pair].</summary>
    public double[][] MemberPreferRightProbabilities(IReadOnlyList<PreferencePair> pairs)
    {
        var d = ReturnDifferences(pairs).Members;
        return d.Select(row => row.Select(Probability).ToArray()).ToArray();
    }

    /// <summary>One file: the checkpoint magic, a JSON header (type, architecture, environment, members), then the weights.</summary>
    public void Save(string path)
    {
        lock (_gate) RewardCheckpoint.Write(path, _header, writer => _net.save(writer));
    }

    /// <summary>
    /// Loads a checkpoint written by <see cref="Save"/>, including single-model checkpoints written before ensembles
    /// (they load as one member). The environment is looked up by the name stored in the file unless given. Weights go
    /// to <paramref name="device"/> ("auto", "cpu" or "cuda").
    /// </summary>
    public static BradleyTerryRewardModel Load(string path, IPreferenceEnvironment? env = null, string device = "auto")
    {
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var header = RewardCheckpoint.ReadHeader<CheckpointHeader>(reader, path);
        env = RewardCheckpoint.Environment(path, header.ModelType, TypeName, header.Environment, header.FeatureSize, env);
        var dev = TorchDevices.Resolve(device);
        EnsembleNetwork net;
        try
        {
            net = header.Members == 0
                ? EnsembleNetwork.FromLegacy(reader, header.FeatureSize, header.HiddenSizes, header.LeakySlope, header.TanhOutput, header.Bias)
                : new EnsembleNetwork(header.Members, header.FeatureSize, header.HiddenSizes, header.LeakySlope, header.TanhOutput, header.Bias);
            if (header.Members > 0) net.load(reader);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException or ArgumentException or InvalidOperationException or KeyNotFoundException)
        {
            throw new RewardTrainingException($"{path} has weights that do not match its header: {e.Message}", e);
        }
        net.to(dev);
        return new BradleyTerryRewardModel(net, env, header, dev);
    }

    public void Dispose() => _net.Dispose();

    /// <summary>R(right) - R(left) per member [K][N] and under the mean reward [N].</summary>
    private (double[][] Members, double[] Mean) ReturnDifferences(IReadOnlyList<PreferencePair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var members = Enumerable.Range(0, _net.Members).Select(_ => new double[pairs.Count]).ToArray();
        var mean = new double[pairs.Count];
        for (int start = 0; start < pairs.Count; start += InferenceChunk)
        {
            var chunk = pairs.Skip(start).Take(InferenceChunk).ToList();
            lock (_gate)
            {
                using var noGrad = torch.no_grad();
                using var scope = torch.NewDisposeScope();
                _net.eval();
                var (lx, lm, rx, rm) = SegmentTensors.EncodePairs(_env, chunk, _device);
                var d = _net.SharedSegmentReturns(rx, rm) - _net.SharedSegmentReturns(lx, lm);
                for (int k = 0; k < members.Length; k++) SegmentTensors.ToDoubles(d[k]).CopyTo(members[k], start);
                SegmentTensors.ToDoubles(d.mean([0])).CopyTo(mean, start);
            }
        }
        return (members, mean);
    }

    private double Probability(double d) => PreferenceLikelihood.Probability(d, _header.LabelNoise);


    /// <summary>
    /// The checkpoint header; ModelType must stay the first property (<see cref="RewardCheckpoint.PeekModelType"/>).
    /// Members is 0 in checkpoints written before ensembles: their payload is a single Sequential network.
    /// </summary>
    internal sealed record CheckpointHeader(
        string ModelType, string Environment, int FeatureSize, int[] HiddenSizes, double LeakySlope, bool TanhOutput, bool LabelNoise,
        bool Bias = true, int Members = 0);
}
