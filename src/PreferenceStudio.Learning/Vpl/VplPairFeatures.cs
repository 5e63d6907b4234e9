using PreferenceStudio.Environments;
using TorchSharp;
using static TorchSharp.torch;

namespace PreferenceStudio.Learning.Vpl;

/// <summary>
/// The encoder's view of one labelled pair: [(mean phi(right) - mean phi(left)) * s, mean phi(left) + mean phi(right), |s|]
/// with s = 2y - 1 (+1 right preferred, -1 left, 0 equal) and mean phi the per-step mean of the step features over the
/// pair's counted steps (a terminated shorter side continues with absorbing steps, as in <see cref="SegmentTensors"/>).
/// </summary>
/// <remarks>
/// Why this form: the first block is "preferred minus rejected", so swapping the two sides and the label gives the same
/// input, and the encoder cannot pick up a left/right habit; the second block says which features the comparison was
/// about at all (a preference between two goal-free segments says nothing about the goal); |s| tells an "equal"
/// answer apart from two identical segments. Both sides count the same number of steps, so the per-step mean
/// difference is the summed difference over a constant, which keeps inputs in the features' own range for long
/// segments. For linear rewards over the features (the delivery gridworld) this summary fixes both returns exactly.
/// </remarks>
internal static class VplPairFeatures
{
    public static int InputSize(int featureSize) => 2 * featureSize + 1;

    /// <summary>Per-step mean features of each side: [N, F] each, from the padded pair tensors.</summary>
    public static (Tensor Left, Tensor Right) MeanFeatures(Tensor leftX, Tensor leftMask, Tensor rightX, Tensor rightMask)
    {
        var left = (leftX * leftMask.unsqueeze(-1)).sum(1) / leftMask.sum(1, keepdim: true).clamp_min(1);
        var right = (rightX * rightMask.unsqueeze(-1)).sum(1) / rightMask.sum(1, keepdim: true).clamp_min(1);
        return (left, right);
    }

    /// <summary>Encoder inputs [N, 2F + 1] from mean features and the labels' "right preferred" targets y [N].</summary>
    public static Tensor Inputs(Tensor meanLeft, Tensor meanRight, Tensor target)
    {
        var sign = (target * 2 - 1).unsqueeze(-1);
        return torch.cat([(meanRight - meanLeft) * sign, meanLeft + meanRight, sign.abs()], 1);
    }

    /// <summary>Encoder inputs of labelled pairs (incomparable pairs must be filtered out before).</summary>
    public static Tensor Inputs(IPreferenceEnvironment env, IReadOnlyList<PreferencePair> pairs, Device device)
    {
        using var scope = torch.NewDisposeScope();
        var (lx, lm, rx, rm) = SegmentTensors.EncodePairs(env, pairs, device);
        var (left, right) = MeanFeatures(lx, lm, rx, rm);
        var y = tensor(pairs.Select(p => (float)(p.RightTarget ?? throw new ArgumentException("An incomparable pair cannot describe a rater."))).ToArray(), device: device);
        return Inputs(left, right, y).MoveToOuterDisposeScope();
    }
}
