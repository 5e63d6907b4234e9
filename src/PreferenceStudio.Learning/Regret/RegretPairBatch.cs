using PreferenceStudio.Environments;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace PreferenceStudio.Learning.Regret;

/// <summary>
/// Pairs as tensors for the regret likelihood: step features and masks of both sides, and (reward forms) the state
/// indices of each segment's first and last state, so D(right) - D(left) is a few batched operations.
/// </summary>
/// <remarks>
/// Reward forms pad a terminated shorter side with absorbing steps (see SegmentTensors), as partial return does, so
/// both sides accrue the same number of steps of learned reward. The advantage form does not pad: the optimal
/// advantage of acting in an absorbing state is 0 by definition, so those steps add nothing to D.
/// </remarks>
internal sealed class RegretPairBatch : IDisposable
{
    private readonly Tensor _leftX, _leftMask, _rightX, _rightMask;
    private readonly Tensor? _leftStart, _leftEnd, _rightStart, _rightEnd;

    private RegretPairBatch(Tensor lx, Tensor lm, Tensor rx, Tensor rm, Tensor? ls, Tensor? le, Tensor? rs, Tensor? re)
    {
        (_leftX, _leftMask, _rightX, _rightMask) = (lx, lm, rx, rm);
        (_leftStart, _leftEnd, _rightStart, _rightEnd) = (ls, le, rs, re);
    }

    public static RegretPairBatch Encode(IPreferenceEnvironment env, IReadOnlyList<PreferencePair> pairs, RegretForm form, Device device)
    {
        if (form == RegretForm.Advantage)
        {
            var (lx, lm) = SegmentTensors.Encode(env, pairs.Select(p => p.Left).ToList(), device);
            var (rx, rm) = SegmentTensors.Encode(env, pairs.Select(p => p.Right).ToList(), device);
            return new RegretPairBatch(lx, lm, rx, rm, null, null, null, null);
        }
        var tabular = (ITabularEnvironment)env;
        var (plx, plm, prx, prm) = SegmentTensors.EncodePairs(env, pairs, device);
        Tensor Index(Func<PreferencePair, double[]> state) =>
            tensor(pairs.Select(p => (long)tabular.StateIndex(state(p))).ToArray(), device: device);
        return new RegretPairBatch(plx, plm, prx, prm,
            Index(p => p.Left.States[0]), Index(p => p.Left.States[^1]),
            Index(p => p.Right.States[0]), Index(p => p.Right.States[^1]));
    }

    /// <summary>D(right) - D(left) per pair in float64; <paramref name="values"/> is V_hat [S] for the reward forms.</summary>
    public Tensor ScoreDifference(Sequential net, Tensor? values)
    {
        var d = RegretNetwork.SegmentSums(net, _rightX, _rightMask).to_type(ScalarType.Float64)
              - RegretNetwork.SegmentSums(net, _leftX, _leftMask).to_type(ScalarType.Float64);
        if (_leftStart is null) return d;
        if (values is null) throw new InvalidOperationException("The reward forms of the regret model need V_hat.");
        return d + values.index_select(0, _rightEnd!) - values.index_select(0, _rightStart!)
                 - values.index_select(0, _leftEnd!) + values.index_select(0, _leftStart);
    }

    public void Dispose()
    {
        foreach (var t in new[] { _leftX, _leftMask, _rightX, _rightMask, _leftStart, _leftEnd, _rightStart, _rightEnd })
            t?.Dispose();
    }
}
