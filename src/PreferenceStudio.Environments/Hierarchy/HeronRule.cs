namespace PreferenceStudio.Environments.Hierarchy;

/// <summary>Which side a hierarchy prefers, and the level (0 = most important factor) that decided it.</summary>
public readonly record struct HeronVerdict(PreferenceChoice Choice, int Level);

/// <summary>
/// HERON's hierarchical decision rule: compare two segments on the most important factor; if they differ by more than
/// that level's margin times the factor's spread, the better one wins; otherwise move to the next factor. A pair no
/// level decides gets no label.
/// </summary>
public static class HeronRule
{
    /// <summary>Spread of each factor over a buffer of factor vectors: the population standard deviation.</summary>
    public static double[] Spreads(IReadOnlyList<double[]> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) return [];
        int n = values[0].Length;
        var spreads = new double[n];
        for (int f = 0; f < n; f++)
        {
            double mean = 0;
            foreach (var v in values) mean += v[f];
            mean /= values.Count;
            double var = 0;
            foreach (var v in values) var += (v[f] - mean) * (v[f] - mean);
            spreads[f] = Math.Sqrt(var / values.Count);
        }
        return spreads;
    }

    /// <summary>
    /// The hierarchy's verdict on left against right (factor vectors in the environment's factor order), or null
    /// when every level is within its margin. A difference must exceed the margin strictly, and be non-zero, to decide.
    /// </summary>
    public static HeronVerdict? Decide(IPreferenceEnvironment env, FactorHierarchy hierarchy, double[] left, double[] right, double[] spreads)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(hierarchy);
        for (int level = 0; level < hierarchy.Indices.Count; level++)
        {
            int f = hierarchy.Indices[level];
            double diff = right[f] - left[f];
            if (diff == 0 || Math.Abs(diff) <= hierarchy.Margins[level] * spreads[f]) continue;
            bool rightBetter = env.Factors[f].Direction == FactorDirection.HigherIsBetter ? diff > 0 : diff < 0;
            return new HeronVerdict(rightBetter ? PreferenceChoice.Right : PreferenceChoice.Left, level);
        }
        return null;
    }
}
