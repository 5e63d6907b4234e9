using System.Text.Json.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using static TorchSharp.torch.nn;

namespace PreferenceStudio.Learning.Vpl;

/// <summary>Shape of a <see cref="VplNetwork"/>; stored in the checkpoint header so a file rebuilds its own network.</summary>
internal sealed record VplArchitecture(
    int FeatureSize,
    int LatentSize,
    int[] EncoderHiddenSizes,
    double EncoderLeakySlope,
    int[] DecoderHiddenSizes,
    double DecoderLeakySlope,
    bool Bias,
    bool TanhOutput)
{
    /// <summary>Width of one pair's encoder input (see <see cref="VplPairFeatures"/>).</summary>
    [JsonIgnore]
    public int PairInputSize => VplPairFeatures.InputSize(FeatureSize);
}

/// <summary>
/// The VPL encoder q(z | context) and decoder r(s, z). The encoder is a permutation-invariant set encoder: each
/// labelled pair is embedded by Linear + LeakyReLU layers, the embeddings are mean-pooled, and linear heads give the
/// mean and log-variance of z. The log-variance head also reads log(1 + set size): a mean alone cannot tell one label
/// from sixteen that agree, and the posterior should narrow as labels accumulate (roughly var ~ 1/n, linear in log n).
/// The mean head does not read it, so a rater's mean stays stable for sets larger than those seen in training.
/// </summary>
internal sealed class VplNetwork : Module
{
    private const double MinLogVar = -12, MaxLogVar = 6;

    private readonly Sequential pairEmbedding;
    private readonly Linear meanHead;
    private readonly Linear logVarHead;
    private readonly Sequential decoder;

    public VplNetwork(VplArchitecture a) : base("vpl")
    {
        Architecture = a;
        var enc = new List<(string, Module<Tensor, Tensor>)>();
        long inputs = a.PairInputSize;
        for (int i = 0; i < a.EncoderHiddenSizes.Length; i++)
        {
            enc.Add(($"fc{i}", Linear(inputs, a.EncoderHiddenSizes[i])));
            enc.Add(($"act{i}", LeakyReLU(a.EncoderLeakySlope)));
            inputs = a.EncoderHiddenSizes[i];
        }
        pairEmbedding = Sequential(enc);
        meanHead = Linear(inputs, a.LatentSize);
        logVarHead = Linear(inputs + 1, a.LatentSize);
        var dec = new List<(string, Module<Tensor, Tensor>)>();
        inputs = a.FeatureSize + a.LatentSize;
        for (int i = 0; i < a.DecoderHiddenSizes.Length; i++)
        {
            dec.Add(($"fc{i}", Linear(inputs, a.DecoderHiddenSizes[i], hasBias: a.Bias)));
            dec.Add(($"act{i}", LeakyReLU(a.DecoderLeakySlope)));
            inputs = a.DecoderHiddenSizes[i];
        }
        dec.Add(("head", Linear(inputs, 1, hasBias: a.Bias)));
        if (a.TanhOutput) dec.Add(("tanh", Tanh()));
        decoder = Sequential(dec);
        RegisterComponents();
    }

    public VplArchitecture Architecture { get; }

    /// <summary>
    /// Re-draws every Linear layer as PyTorch's default does (uniform in +-1/sqrt(fan_in)) from a private generator,
    /// so a seed fixes the weights even when other threads draw from libtorch's global generator at the same time.
    /// Call on the CPU, before moving the network.
    /// </summary>
    public void Initialize(Generator generator) => LinearInitialization.Reset(this, generator);

    /// <summary>The set encoder's parameters (pair embedding, mean and log-variance heads).</summary>
    public IEnumerable<TorchSharp.Modules.Parameter> EncoderParameters() =>
        pairEmbedding.parameters().Concat(meanHead.parameters()).Concat(logVarHead.parameters());

    /// <summary>The decoder r(s, z)'s parameters.</summary>
    public IEnumerable<TorchSharp.Modules.Parameter> DecoderParameters() => decoder.parameters();

    /// <summary>Per-pair embeddings: [..., In] -> [..., H].</summary>
    public Tensor Embed(Tensor pairInputs) => pairEmbedding.forward(pairInputs);

    /// <summary>Posterior from pooled (mean) embeddings [B, H] and set sizes [B, 1].</summary>
    public (Tensor Mean, Tensor LogVar) Heads(Tensor pooled, Tensor count)
    {
        var mean = meanHead.forward(pooled);
        var logVar = logVarHead.forward(torch.cat([pooled, (count + 1).log()], 1)).clamp(MinLogVar, MaxLogVar);
        return (mean, logVar);
    }

    /// <summary>q(z | set) for sets padded to one size: inputs [B, C, In], mask [B, C] (1 = real pair). An empty set is allowed.</summary>
    public (Tensor Mean, Tensor LogVar) Encode(Tensor pairInputs, Tensor mask)
    {
        var count = mask.sum(1, keepdim: true);
        var pooled = (Embed(pairInputs) * mask.unsqueeze(-1)).sum(1) / count.clamp_min(1);
        return Heads(pooled, count);
    }

    /// <summary>Per-step rewards r(s, z): features [N, F], latents [N, D] -> [N].</summary>
    public Tensor StepRewards(Tensor features, Tensor z) => decoder.forward(torch.cat([features, z], -1)).squeeze(-1);

    /// <summary>Sum of r(s, z) over each segment's counted steps: features [N, T, F], mask [N, T], latents [N, D] -> [N].</summary>
    public Tensor SegmentReturns(Tensor features, Tensor mask, Tensor z)
    {
        var zSteps = z.unsqueeze(1).expand(features.shape[0], features.shape[1], z.shape[1]);
        return (decoder.forward(torch.cat([features, zSteps], -1)).squeeze(-1) * mask).sum(1);
    }
}
