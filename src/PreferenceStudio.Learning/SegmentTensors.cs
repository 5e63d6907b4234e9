using PreferenceStudio.Environments;
using TorchSharp;
using static TorchSharp.torch;

namespace PreferenceStudio.Learning;

/// <summary>
/// Segments as dense step-feature tensors: features [N, T, F] and a mask [N, T] that is 1 on real steps and 0 on the
/// padding that lets segments of different lengths (cut short at a terminal) share one batch.
/// </summary>
internal static class SegmentTensors
{
    /// <summary>Longest segment, at least 1 so empty segments still give a well-formed tensor.</summary>
    public static int MaxLength(IEnumerable<Segment> segments) => Math.Max(1, segments.Select(s => s.Actions.Length).DefaultIfEmpty(0).Max());

    public static (Tensor Features, Tensor Mask) Encode(IPreferenceEnvironment env, IReadOnlyList<Segment> segments, int length, Device device)
    {
        int f = env.FeatureSize;
        var features = new float[segments.Count * length * f];
        var mask = new float[segments.Count * length];
        for (int i = 0; i < segments.Count; i++)
        {
            var seg = segments[i];
            if (seg.Actions.Length > length)
                throw new ArgumentException($"Segment {i} has {seg.Actions.Length} steps; the batch holds {length}.");
            for (int t = 0; t < seg.Actions.Length; t++)
            {
                var phi = env.StepFeatures(seg.States[t], seg.Actions[t], seg.States[t + 1]);
                if (phi.Length != f)
                    throw new InvalidOperationException($"{env.Name} returned {phi.Length} step features; its FeatureSize is {f}.");
                Array.Copy(phi, 0, features, (i * length + t) * f, f);
                mask[i * length + t] = 1f;
            }
        }
        return (tensor(features, [segments.Count, length, f], device: device), tensor(mask, [segments.Count, length], device: device));
    }
}
