namespace PreferenceStudio.Environments.Hierarchy;

/// <summary>A pair of segments (indices into the labelled buffer) and the hierarchy's verdict on it.</summary>
public readonly record struct HierarchyLabel(int Left, int Right, PreferenceChoice Choice, int Level);

/// <summary>
/// Labels pairs of segments automatically with a rater's factor hierarchy: the "factor hierarchy" label source.
/// Spreads are measured over the whole buffer the pairs are drawn from, as HERON measures them over its replay buffer.
/// </summary>
public static class HierarchyLabeler
{
    /// <summary>
    /// Steps per piece the hierarchy compares by default: single steps, as HERON compares single transitions of its
    /// buffer. Whole 50-step Pendulum segments gave rewards PPO could not swing up on (mean true return -1482 after 4
    /// rounds), single steps -155 (README, "Measured"): a segment's summed factors mix the states a reward must tell apart.
    /// </summary>
    public const int DefaultPieceLength = 1;

    /// <summary>
    /// The segments cut into consecutive pieces of <paramref name="length"/> steps as <see cref="Planning.SegmentCutter"/>
    /// cuts rollouts (a shorter tail only when the segment ends in a terminal state); a segment no longer than that stays whole.
    /// </summary>
    public static List<Segment> Pieces(IPreferenceEnvironment env, IEnumerable<Segment> segments, int length)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        return segments.SelectMany(segment => segment.Length <= length
            ? [segment]
            : Planning.SegmentCutter.Cut(segment, length, env.IsTerminal(segment.States[^1]))).ToList();
    }

    /// <summary>
    /// Draws <paramref name="pairCount"/> random pairs of distinct segments and labels each with the HERON rule;
    /// pairs no level decides are dropped, so fewer labels may come back. Deterministic for a given
    /// <paramref name="rng"/> state.
    /// </summary>
    public static List<HierarchyLabel> Label(IPreferenceEnvironment env, IReadOnlyList<Segment> segments, FactorHierarchy hierarchy, int pairCount, Random rng)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(segments);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegative(pairCount);
        var labels = new List<HierarchyLabel>();
        if (segments.Count < 2) return labels;
        var factors = segments.Select(env.SegmentFactors).ToList();
        var spreads = HeronRule.Spreads(factors);
        for (int k = 0; k < pairCount; k++)
        {
            int i = rng.Next(segments.Count);
            int j = rng.Next(segments.Count - 1);
            if (j >= i) j++;
            if (HeronRule.Decide(env, hierarchy, factors[i], factors[j], spreads) is { } verdict)
                labels.Add(new HierarchyLabel(i, j, verdict.Choice, verdict.Level));
        }
        return labels;
    }
}
