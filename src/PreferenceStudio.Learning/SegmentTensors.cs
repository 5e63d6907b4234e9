using PreferenceStudio.Environments;
using TorchSharp;
using static TorchSharp.torch;

namespace PreferenceStudio.Learning;

/// <summary>
/// Segments as dense step-feature tensors: features [N, T, F] and a mask [N, T] that is 1 on counted steps and 0 on
/// padding, so segments of different lengths share one batch.
/// </summary>
/// <remarks>
/// When the two segments of a pair differ in length because one reached a terminal state, the shorter one is extended
/// with absorbing steps (the features of acting in its terminal state) up to the other's length, as the human-study
/// data pads such segments with "no move" steps. Both sides of a comparison then sum the same number of steps, so a
/// constant added to every step reward cancels: the learned reward is fixed relative to the absorbing state's reward
/// instead of drifting by an arbitrary per-step offset that would decide whether a planner hurries to a goal or
/// loiters forever. A shorter segment that did not end at a terminal is only masked (nothing is known about its future).
/// </remarks>
internal static class SegmentTensors
{
    /// <summary>Each segment over its own steps only (for per-segment returns).</summary>
    public static (Tensor Features, Tensor Mask) Encode(IPreferenceEnvironment env, IReadOnlyList<Segment> segments, Device device)
    {
        int length = Math.Max(1, segments.Select(s => s.Actions.Length).DefaultIfEmpty(0).Max());
        return Build(env, segments.Select(s => (s, s.Actions.Length)).ToList(), length, device);
    }

    /// <summary>Left and right segments of each pair, the terminated shorter side padded with absorbing steps.</summary>
    public static (Tensor LeftFeatures, Tensor LeftMask, Tensor RightFeatures, Tensor RightMask) EncodePairs(
        IPreferenceEnvironment env, IReadOnlyList<PreferencePair> pairs, Device device)
    {
        var lefts = new List<(Segment, int)>(pairs.Count);
        var rights = new List<(Segment, int)>(pairs.Count);
        int length = 1;
        foreach (var pair in pairs)
        {
            int steps = Math.Max(pair.Left.Actions.Length, pair.Right.Actions.Length);
            length = Math.Max(length, steps);
            lefts.Add((pair.Left, Counted(env, pair.Left, steps)));
            rights.Add((pair.Right, Counted(env, pair.Right, steps)));
        }
        var (lx, lm) = Build(env, lefts, length, device);
        var (rx, rm) = Build(env, rights, length, device);
        return (lx, lm, rx, rm);
    }

    private static int Counted(IPreferenceEnvironment env, Segment segment, int pairLength) =>
        segment.Actions.Length < pairLength && env.IsTerminal(segment.States[^1]) ? pairLength : segment.Actions.Length;

    /// <summary>Features of the steps 0..counted-1, absorbing steps past the segment's end; zeros and mask 0 after.</summary>
    private static (Tensor Features, Tensor Mask) Build(IPreferenceEnvironment env, IReadOnlyList<(Segment Segment, int Counted)> rows, int length, Device device)
    {
        int f = env.FeatureSize;
        var features = new float[rows.Count * length * f];
        var mask = new float[rows.Count * length];
        for (int i = 0; i < rows.Count; i++)
        {
            var (seg, counted) = rows[i];
            if (counted > length) throw new ArgumentException($"Segment {i} has {counted} steps; the batch holds {length}.");
            float[]? absorbing = null;
            for (int t = 0; t < counted; t++)
            {
                float[] phi;
                if (t < seg.Actions.Length)
                    phi = env.StepFeatures(seg.States[t], seg.Actions[t], seg.States[t + 1]);
                else
                {
                    var end = seg.States[^1];
                    phi = absorbing ??= env.StepFeatures(end, new double[env.ActionSpace.Dimensions], end);
                }
                if (phi.Length != f)
                    throw new InvalidOperationException($"{env.Name} returned {phi.Length} step features; its FeatureSize is {f}.");
                Array.Copy(phi, 0, features, (i * length + t) * f, f);
                mask[i * length + t] = 1f;
            }
        }
        return (tensor(features, [rows.Count, length, f], device: device), tensor(mask, [rows.Count, length], device: device));
    }
}
