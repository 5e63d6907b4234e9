using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace PreferenceStudio.Learning;

/// <summary>
/// P(right preferred) from a score difference d = score(right) - score(left), shared by every preference model:
/// sigmoid(d), or with Christiano et al.'s 10% uniformly random labels 0.9 * sigmoid(d) + 0.05; and its cross-entropy
/// against soft targets (1 right, 0 left, 0.5 equal).
/// </summary>
internal static class PreferenceLikelihood
{
    public static double Probability(double d, bool labelNoise)
    {
        double p = 1.0 / (1.0 + Math.Exp(-d));
        return labelNoise ? 0.9 * p + 0.05 : p;
    }

    /// <summary>Cross-entropy per pair (no reduction).</summary>
    public static Tensor PairLoss(Tensor d, Tensor y, bool labelNoise)
    {
        if (!labelNoise) return F.binary_cross_entropy_with_logits(d, y, reduction: nn.Reduction.None);
        using var scale = 0.9.ToScalar();
        using var floor = 0.05.ToScalar();
        var p = torch.sigmoid(d).mul(scale).add(floor, TorchConstants.One);
        return -(y * p.log()).add((1 - y) * (1 - p).log(), TorchConstants.One);
    }

    /// <summary>Mean cross-entropy over all pairs.</summary>
    public static Tensor MeanLoss(Tensor d, Tensor y, bool labelNoise) =>
        labelNoise ? PairLoss(d, y, labelNoise).mean() : F.binary_cross_entropy_with_logits(d, y);
}
