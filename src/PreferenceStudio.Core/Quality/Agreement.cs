namespace PreferenceStudio.Core.Quality;

/// <summary>
/// Agreement between raters over units (pairs) answered by several of them, with nominal categories (left, right,
/// equal, incomparable). Formulas as in METHODS.md section 6.
/// </summary>
public static class Agreement
{
    /// <summary>
    /// Krippendorff's alpha for nominal data over units with at least two answers: 1 - D_o / D_e from the coincidence
    /// matrix (each unit's ordered answer pairs weighted 1 / (m_u - 1)). Null when fewer than two pairable answers
    /// exist or every answer is the same category (no disagreement is possible, so none can be measured).
    /// </summary>
    public static double? KrippendorffAlpha(IEnumerable<IReadOnlyList<string>> units)
    {
        var coincidence = new Dictionary<(string, string), double>();
        foreach (var unit in units)
        {
            int m = unit.Count;
            if (m < 2) continue;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < m; j++)
                    if (i != j)
                    {
                        var key = (unit[i], unit[j]);
                        coincidence[key] = coincidence.GetValueOrDefault(key) + 1.0 / (m - 1);
                    }
        }
        var marginal = new Dictionary<string, double>();
        foreach (var ((c, _), v) in coincidence) marginal[c] = marginal.GetValueOrDefault(c) + v;
        double n = marginal.Values.Sum();
        if (n < 2) return null;
        double observed = coincidence.Where(kv => kv.Key.Item1 != kv.Key.Item2).Sum(kv => kv.Value) / n;
        double expected = (n * n - marginal.Values.Sum(v => v * v)) / (n * (n - 1));
        return expected <= 0 ? null : 1 - observed / expected;
    }

    /// <summary>
    /// Fleiss' kappa over units with at least two answers: (P_bar - P_e) / (1 - P_e), with P_i = (sum_c n_ic^2 - n_i) /
    /// (n_i (n_i - 1)) per unit and P_e from the pooled category shares. Exact when every unit has the same number of
    /// answers; with unequal counts it is the usual generalisation (prefer alpha then). Null when no unit qualifies or
    /// all answers share one category.
    /// </summary>
    public static double? FleissKappa(IEnumerable<IReadOnlyList<string>> units)
    {
        var perUnit = new List<double>();
        var totals = new Dictionary<string, int>();
        int answers = 0;
        foreach (var unit in units)
        {
            int m = unit.Count;
            if (m < 2) continue;
            var counts = unit.GroupBy(x => x).Select(g => g.Count()).ToList();
            perUnit.Add((counts.Sum(c => (double)c * c) - m) / (m * (double)(m - 1)));
            foreach (var a in unit) totals[a] = totals.GetValueOrDefault(a) + 1;
            answers += m;
        }
        if (perUnit.Count == 0) return null;
        double pe = totals.Values.Sum(c => (double)c / answers * c / answers);
        return pe >= 1 ? null : (perUnit.Average() - pe) / (1 - pe);
    }

    /// <summary>
    /// For each rater, the share of their answers that match the majority of the other answers to the same unit
    /// (leave-one-out). Answers to units with no other answer, or whose other answers tie, are not counted.
    /// </summary>
    public static Dictionary<string, (double Agreement, int Count)> LeaveOneOutMajority(IEnumerable<IReadOnlyList<(string Rater, string Answer)>> units)
    {
        var agree = new Dictionary<string, (int Match, int Count)>(StringComparer.Ordinal);
        foreach (var unit in units)
        {
            if (unit.Count < 2) continue;
            for (int i = 0; i < unit.Count; i++)
            {
                var others = unit.Where((_, j) => j != i).GroupBy(x => x.Answer).Select(g => (g.Key, Count: g.Count()))
                    .OrderByDescending(g => g.Count).ToList();
                if (others.Count > 1 && others[0].Count == others[1].Count) continue;
                var (rater, answer) = unit[i];
                var (match, count) = agree.GetValueOrDefault(rater);
                agree[rater] = (match + (others[0].Key == answer ? 1 : 0), count + 1);
            }
        }
        return agree.ToDictionary(kv => kv.Key, kv => ((double)kv.Value.Match / kv.Value.Count, kv.Value.Count), StringComparer.Ordinal);
    }

    /// <summary>The median, or null for no values.</summary>
    public static double? Median(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return null;
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
