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
    /// <summary>
    /// Step feature vectors laid end to end, ready for one [count, featureSize] tensor; a vector of another length
    /// than the model reads is refused with its index.
    /// </summary>
    public static float[] FlattenSteps(IReadOnlyList<float[]> stepFeatures, int featureSize)
    {
        var flat = new float[stepFeatures.Count * featureSize];
        for (int i = 0; i < stepFeatures.Count; i++)
        {
            if (stepFeatures[i].Length != featureSize)
                throw new ArgumentException($"Feature vector {i} has {stepFeatures[i].Length} entries; the model reads {featureSize}.");
            Array.Copy(stepFeatures[i], 0, flat, i * featureSize, featureSize);
        }
        return flat;
    }

    /// <summary>A tensor's values as doubles, copied to the CPU (made contiguous first, so a view reads in order).</summary>
    public static double[] ToDoubles(Tensor t) => t.to(CPU).to_type(ScalarType.Float64).contiguous().data<double>().ToArray();

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
        var (lefts, rights, length) = PairRows(env, pairs);
        var (lx, lm) = Build(env, lefts, length, device);
        var (rx, rm) = Build(env, rights, length, device);
        return (lx, lm, rx, rm);
    }

    /// <summary>Each side's segments with the steps counted for it (see <see cref="Counted"/>), and the longest pair.</summary>
    private static (List<(Segment, int)> Lefts, List<(Segment, int)> Rights, int Length) PairRows(IPreferenceEnvironment env, IReadOnlyList<PreferencePair> pairs)
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
        return (lefts, rights, length);
    }

    private static int Counted(IPreferenceEnvironment env, Segment segment, int pairLength) =>
        segment.Actions.Length < pairLength && env.IsTerminal(segment.States[^1]) ? pairLength : segment.Actions.Length;

    /// <summary>Features of the steps 0..counted-1, absorbing steps past the segment's end; zeros and mask 0 after.</summary>
    private static (Tensor Features, Tensor Mask) Build(IPreferenceEnvironment env, IReadOnlyList<(Segment Segment, int Counted)> rows, int length, Device device)
    {
        var (features, mask) = BuildArrays(env, rows, length);
        return (tensor(features, [rows.Count, length, env.FeatureSize], device: device), tensor(mask, [rows.Count, length], device: device));
    }

    /// <summary>
    /// Training tensors for labelled pairs. When the pairs hold few distinct step-feature vectors (the delivery
    /// gridworld has at most 64), each step is stored as an index into a table of the distinct vectors, and a batch runs
    /// the network once per table row instead of once per step: the same rewards for a fraction of the work, which keeps
    /// an ensemble about as cheap as one network there. Otherwise the dense [N, T, F] features are kept.
    /// </summary>
    public static PairTensors EncodeForTraining(IPreferenceEnvironment env, IReadOnlyList<PreferencePair> pairs, int batchSize, Device device)
    {
        var (lefts, rights, length) = PairRows(env, pairs);
        int f = env.FeatureSize;
        var (lx, lm) = BuildArrays(env, lefts, length);
        var (rx, rm) = BuildArrays(env, rights, length);
        // Worth it only while the table is smaller than the steps one batch would run through the network directly.
        int limit = 2 * Math.Min(batchSize, pairs.Count) * length;
        var rows = new Dictionary<RowKey, long>();
        long[]? Index(float[] x)
        {
            var index = new long[x.Length / f];
            for (int i = 0; i < index.Length; i++)
            {
                var key = new RowKey(x, i * f, f);
                if (!rows.TryGetValue(key, out long row))
                {
                    if (rows.Count >= limit) return null;
                    rows[key] = row = rows.Count;
                }
                index[i] = row;
            }
            return index;
        }
        if (Index(lx) is { } li && Index(rx) is { } ri)
        {
            var table = new float[rows.Count * f];
            foreach (var (key, row) in rows) Array.Copy(key.Source, key.Offset, table, row * f, f);
            return new PairTensors(
                tensor(table, [rows.Count, f], device: device),
                tensor(li, [pairs.Count, length], device: device), tensor(lm, [pairs.Count, length], device: device),
                tensor(ri, [pairs.Count, length], device: device), tensor(rm, [pairs.Count, length], device: device));
        }
        return new PairTensors(null,
            tensor(lx, [pairs.Count, length, f], device: device), tensor(lm, [pairs.Count, length], device: device),
            tensor(rx, [pairs.Count, length, f], device: device), tensor(rm, [pairs.Count, length], device: device));
    }

    private static (float[] Features, float[] Mask) BuildArrays(IPreferenceEnvironment env, IReadOnlyList<(Segment Segment, int Counted)> rows, int length)
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
        return (features, mask);
    }

    /// <summary>A step's feature vector inside a flat array, compared by value.</summary>
    private readonly struct RowKey(float[] source, int offset, int length) : IEquatable<RowKey>
    {
        public float[] Source => source;
        public int Offset => offset;

        public bool Equals(RowKey other) => source.AsSpan(offset, length).SequenceEqual(other.Source.AsSpan(other.Offset, length));

        public override bool Equals(object? obj) => obj is RowKey other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.AddBytes(System.Runtime.InteropServices.MemoryMarshal.AsBytes(source.AsSpan(offset, length)));
            return hash.ToHashCode();
        }
    }
}

/// <summary>
/// Labelled pairs on the training device (see <see cref="SegmentTensors.EncodeForTraining"/>): per side either dense
/// step features [N, T, F] or indices [N, T] into a table of distinct step features, with the step masks.
/// </summary>
internal sealed class PairTensors(Tensor? table, Tensor left, Tensor leftMask, Tensor right, Tensor rightMask) : IDisposable
{
    /// <summary>Whether steps are stored as indices into a table of distinct step features.</summary>
    public bool Indexed => table is not null;

    /// <summary>Steps per segment row (the longest pair's length).</summary>
    public long Length => left.shape[1];

    /// <summary>
    /// R(right) - R(left) of each member on its own pairs: <paramref name="pairs"/> holds K blocks of B pair indices,
    /// member-major; the result is [K, B].
    /// </summary>
    public Tensor Differences(EnsembleNetwork net, Tensor pairs)
    {
        long k = net.Members, b = pairs.shape[0] / k, t = left.shape[1];
        if (table is null)
        {
            // Both sides in one pass (one matrix product per layer instead of two): rows [K, 2B*T, F], right first.
            long f = left.shape[2];
            var steps = torch.cat([right.index_select(0, pairs).reshape(k, b * t, f), left.index_select(0, pairs).reshape(k, b * t, f)], 1);
            var mask = torch.cat([rightMask.index_select(0, pairs).reshape(k, b, t), leftMask.index_select(0, pairs).reshape(k, b, t)], 1);
            var returns = (net.forward(steps).reshape(k, 2 * b, t) * mask).sum(2);
            return returns.narrow(1, 0, b) - returns.narrow(1, b, b);
        }
        var rewards = net.Shared(table);
        Tensor Returns(Tensor steps, Tensor mask) =>
            (rewards.gather(1, steps.index_select(0, pairs).reshape(k, b * t)).reshape(k, b, t) * mask.index_select(0, pairs).reshape(k, b, t)).sum(2);
        return Returns(right, rightMask) - Returns(left, leftMask);
    }

    public void Dispose()
    {
        table?.Dispose();
        left.Dispose();
        leftMask.Dispose();
        right.Dispose();
        rightMask.Dispose();
    }
}
