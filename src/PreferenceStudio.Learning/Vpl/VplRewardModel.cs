using System.Text;
using PreferenceStudio.Environments;
using TorchSharp;
using static TorchSharp.torch;

namespace PreferenceStudio.Learning.Vpl;

/// <summary>A training rater's posterior q(z | all their training labels): mean and standard deviation per latent dimension.</summary>
public sealed record VplRaterLatent(string Rater, int Labels, double[] Mean, double[] Std);

/// <summary>Checkpoint header of a VPL model; ModelType comes first, as <see cref="RewardCheckpoint"/> requires.</summary>
internal sealed record VplCheckpointHeader(
    string ModelType, string Environment, VplArchitecture Architecture, bool LabelNoise, VplRaterLatent[] Raters);

/// <summary>
/// A variational per-rater reward model (VPL; Poddar et al. 2024, METHODS.md section 1): a latent z per rater, inferred
/// by a set encoder from that rater's labelled pairs, and a reward r(s, z) shared by all raters.
/// P(right preferred | z) = sigmoid(R(right | z) - R(left | z)).
/// </summary>
/// <remarks>
/// As a plain <see cref="IRewardModel"/> (the population view) it uses z = 0, the prior mean: the reward of a rater
/// about whom nothing is known, not the average of the training raters' rewards (which a mixed crowd makes meaningless).
/// <see cref="ForRater"/> uses the posterior mean from all of the rater's training labels, <see cref="ForContext"/>
/// the posterior mean from given labels. Those views share this model's weights: disposing a view does nothing,
/// disposing this model frees them. Inference calls are serialised by a lock.
/// </remarks>
public sealed class VplRewardModel : IPerRaterRewardModel
{
    /// <summary>The <see cref="ModelType"/> of this model.</summary>
    public const string TypeName = "vpl";

    /// <summary>The rater name given to pairs whose Rater is null; they are treated as one rater.</summary>
    public const string AnonymousRater = "(anonymous)";

    private const int InferenceChunk = 4096;

    private readonly VplNetwork _net;
    private readonly IPreferenceEnvironment _env;
    private readonly VplCheckpointHeader _header;
    private readonly Device _device;
    private readonly Dictionary<string, VplRaterLatent> _raters;
    private readonly Lock _gate = new();
    private readonly VplLatentReward _population;

    internal VplRewardModel(VplNetwork net, IPreferenceEnvironment env, VplCheckpointHeader header, Device device)
    {
        _net = net;
        _env = env;
        _header = header;
        _device = device;
        _raters = header.Raters.ToDictionary(r => r.Rater, StringComparer.Ordinal);
        _population = new VplLatentReward(this, new float[header.Architecture.LatentSize], "population (z = 0)");
    }

    public string ModelType => TypeName;

    public string EnvironmentName => _env.Name;

    /// <summary>Size of the latent z.</summary>
    public int LatentSize => _header.Architecture.LatentSize;

    /// <summary>Whether probabilities include the 10% random-label mixing the model was trained with.</summary>
    public bool LabelNoise => _header.LabelNoise;

    /// <summary>The device the weights live on ("cpu" or "cuda").</summary>
    public string DeviceName => _device.type == DeviceType.CUDA ? "cuda" : "cpu";

    public IReadOnlyCollection<string> Raters => _header.Raters.Select(r => r.Rater).ToList();

    /// <summary>Each training rater's posterior, as stored in the checkpoint.</summary>
    public IReadOnlyList<VplRaterLatent> RaterLatents => _header.Raters;

    internal IPreferenceEnvironment Environment => _env;

    /// <summary>The key a pair's rater is grouped under (null becomes <see cref="AnonymousRater"/>).</summary>
    public static string RaterKey(string? rater) => rater ?? AnonymousRater;

    public IRewardModel ForRater(string rater)
    {
        var latent = Known(rater);
        return new VplLatentReward(this, latent.Mean.Select(v => (float)v).ToArray(), $"rater '{latent.Rater}'");
    }

    public IRewardModel ForContext(IReadOnlyList<PreferencePair> context)
    {
        var (mean, _) = LatentFor(context);
        return new VplLatentReward(this, mean.Select(v => (float)v).ToArray(), $"context of {context.Count} pair(s)");
    }

    /// <summary>The reward of a given latent z (length <see cref="LatentSize"/>), e.g. a point between two raters.</summary>
    public IRewardModel ForLatent(IReadOnlyList<double> z)
    {
        ArgumentNullException.ThrowIfNull(z);
        if (z.Count != LatentSize) throw new ArgumentException($"The latent has {z.Count} entries; this model's z has {LatentSize}.", nameof(z));
        return new VplLatentReward(this, z.Select(v => (float)v).ToArray(), "given latent");
    }

    public (double[] Mean, double[] Std) Latent(string rater)
    {
        var latent = Known(rater);
        return (latent.Mean.ToArray(), latent.Std.ToArray());
    }

    /// <summary>q(z | context); incomparable pairs are ignored, and no pairs at all give the encoder's empty-set answer.</summary>
    public (double[] Mean, double[] Std) LatentFor(IReadOnlyList<PreferencePair> context)
    {
        ArgumentNullException.ThrowIfNull(context);
        lock (_gate) return Posterior(_net, _env, context, _device);
    }

    /// <summary>
    /// Posterior standard deviations of z after each candidate is added to <paramref name="context"/> with each
    /// answer: [candidate][0 = left preferred, 1 = right preferred][latent dimension]. One batched encoder pass.
    /// Null for a candidate whose two segments have the same per-step mean features: the encoder then sees the same
    /// input whatever the answer (see <see cref="VplPairFeatures"/>), so the answer cannot tell anything about z, and
    /// the posterior the encoder would report for a left/right answer to it (never seen in training, where such pairs
    /// are ties) is an extrapolation, not information.
    /// </summary>
    public double[][]?[] PosteriorStdWithEach(IReadOnlyList<PreferencePair> context, IReadOnlyList<(Segment Left, Segment Right)> candidates)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(candidates);
        var result = new double[][]?[candidates.Count];
        if (candidates.Count == 0) return result;
        var usable = context.Where(p => p.RightTarget is not null).ToList();
        lock (_gate)
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            _net.eval();
            var contextSum = usable.Count == 0
                ? torch.zeros(1, _header.Architecture.EncoderHiddenSizes[^1], device: _device)
                : _net.Embed(VplPairFeatures.Inputs(_env, usable, _device)).sum(0, keepdim: true);
            var asked = candidates.Select(c => new PreferencePair(c.Left, c.Right, PreferenceChoice.Right)).ToList();
            var (lx, lm, rx, rm) = SegmentTensors.EncodePairs(_env, asked, _device);
            var (left, right) = VplPairFeatures.MeanFeatures(lx, lm, rx, rm);
            var indistinct = SegmentTensors.ToDoubles((right - left).abs().amax([1]));
            var count = torch.full(candidates.Count, 1, usable.Count + 1f, device: _device);
            for (int answer = 0; answer < 2; answer++)
            {
                var y = torch.full(candidates.Count, answer == 0 ? 0f : 1f, device: _device);
                var pooled = (_net.Embed(VplPairFeatures.Inputs(left, right, y)) + contextSum) / (usable.Count + 1f);
                var (_, logVar) = _net.Heads(pooled, count);
                var std = SegmentTensors.ToDoubles((logVar * 0.5).exp());
                int d = LatentSize;
                for (int k = 0; k < candidates.Count; k++)
                {
                    if (indistinct[k] == 0) continue;
                    result[k] ??= new double[2][];
                    result[k]![answer] = std.AsSpan(k * d, d).ToArray();
                }
            }
        }
        return result;
    }

    public double[] StepRewards(IReadOnlyList<float[]> stepFeatures) => _population.StepRewards(stepFeatures);

    public double SegmentReturn(Segment segment) => _population.SegmentReturn(segment);

    public double[] SegmentReturns(IReadOnlyList<Segment> segments) => _population.SegmentReturns(segments);

    public double PreferRightProbability(Segment left, Segment right) => _population.PreferRightProbability(left, right);

    public double[] PreferRightProbabilities(IReadOnlyList<PreferencePair> pairs) => _population.PreferRightProbabilities(pairs);

    /// <summary>One file: the magic string, a JSON header (architecture, environment, each training rater's latent), the weights.</summary>
    public void Save(string path)
    {
        lock (_gate) RewardCheckpoint.Write(path, _header, writer => _net.save(writer));
    }

    /// <summary>
    /// Loads a checkpoint written by <see cref="Save"/>. The environment is looked up by the name stored in the file
    /// unless given. Weights go to <paramref name="device"/> ("auto", "cpu" or "cuda").
    /// </summary>
    public static VplRewardModel Load(string path, IPreferenceEnvironment? env = null, string device = "auto")
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = File.OpenRead(path);
        using var reader = new BinaryReader(stream, Encoding.UTF8);
        var header = RewardCheckpoint.ReadHeader<VplCheckpointHeader>(reader, path);
        if (header.ModelType == TypeName && (header.Architecture is null || header.Raters is null))
            throw new RewardTrainingException($"{path} has an incomplete VPL checkpoint header.");
        env = RewardCheckpoint.Environment(path, header.ModelType, TypeName, header.Environment, header.Architecture?.FeatureSize ?? 0, env);
        var dev = TorchDevices.Resolve(device);
        // Not null: a VPL header without an architecture was refused above, and other model types by Environment.
        var net = new VplNetwork(header.Architecture!);
        try
        {
            net.load(reader);
            net.to(dev);
            net.eval();
        }
        catch (Exception e) when (e is not RewardTrainingException)
        {
            net.Dispose();
            throw new RewardTrainingException($"{path} has VPL weights that do not fit its header: {e.Message}", e);
        }
        return new VplRewardModel(net, env, header, dev);
    }

    public void Dispose() => _net.Dispose();

    internal static (double[] Mean, double[] Std) Posterior(VplNetwork net, IPreferenceEnvironment env, IReadOnlyList<PreferencePair> context, Device device)
    {
        var usable = context.Where(p => p.RightTarget is not null).ToList();
        using var noGrad = torch.no_grad();
        using var scope = torch.NewDisposeScope();
        net.eval();
        var inputs = usable.Count == 0
            ? torch.zeros(1, 1, net.Architecture.PairInputSize, device: device)
            : VplPairFeatures.Inputs(env, usable, device).unsqueeze(0);
        var mask = usable.Count == 0 ? torch.zeros(1, 1, device: device) : torch.ones(1, usable.Count, device: device);
        var (mean, logVar) = net.Encode(inputs, mask);
        return (SegmentTensors.ToDoubles(mean), SegmentTensors.ToDoubles((logVar * 0.5).exp()));
    }

    /// <summary>Segment returns under latent z, chunked; callers hold no lock.</summary>
    internal double[] SegmentReturns(IReadOnlyList<Segment> segments, float[] z)
    {
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
                SegmentTensors.ToDoubles(_net.SegmentReturns(features, mask, Latents(z, chunk.Count))).CopyTo(result, start);
            }
        }
        return result;
    }

    /// <summary>P(right preferred | z), padding a terminated shorter side with absorbing steps as in training.</summary>
    internal double[] PreferRightProbabilities(IReadOnlyList<PreferencePair> pairs, float[] z)
    {
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
                var latents = Latents(z, chunk.Count);
                d = SegmentTensors.ToDoubles(_net.SegmentReturns(rx, rm, latents) - _net.SegmentReturns(lx, lm, latents));
            }
            for (int i = 0; i < d.Length; i++) result[start + i] = PreferenceLikelihood.Probability(d[i], LabelNoise);
        }
        return result;
    }

    internal double[] StepRewards(IReadOnlyList<float[]> stepFeatures, float[] z)
    {
        int f = _env.FeatureSize;
        var flat = SegmentTensors.FlattenSteps(stepFeatures, f);
        lock (_gate)
        {
            using var noGrad = torch.no_grad();
            using var scope = torch.NewDisposeScope();
            _net.eval();
            return SegmentTensors.ToDoubles(_net.StepRewards(tensor(flat, [stepFeatures.Count, f], device: _device), Latents(z, stepFeatures.Count)));
        }
    }

    private Tensor Latents(float[] z, int count) => tensor(z, [1, z.Length], device: _device).expand(count, z.Length);

    private VplRaterLatent Known(string rater)
    {
        ArgumentNullException.ThrowIfNull(rater);
        if (_raters.TryGetValue(rater, out var latent)) return latent;
        var known = _raters.Keys.Order(StringComparer.Ordinal).ToList();
        throw new ArgumentException(
            $"Rater '{rater}' has no labels in this model's training data, so it has no latent. " +
            $"Known raters ({known.Count}): {string.Join(", ", known.Take(20))}{(known.Count > 20 ? ", ..." : "")}. " +
            "For a new rater, use ForContext or LatentFor with their labelled pairs.", nameof(rater));
    }

}
