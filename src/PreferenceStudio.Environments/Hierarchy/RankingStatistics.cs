namespace PreferenceStudio.Environments.Hierarchy;

/// <summary>How often one factor was ranked first, and its mean position (1 = most important) over the raters.</summary>
public sealed record FactorStanding(string Factor, int RankedFirst, double? MeanRank);

/// <summary>Raters' current rankings summarised: who ranked, each factor's standing, and agreement (Kendall's W).</summary>
/// <param name="KendallW">Null when fewer than two raters (or fewer than two factors) make agreement undefined.</param>
public sealed record RankingSummary(int Raters, IReadOnlyList<FactorStanding> Factors, double? KendallW);

/// <summary>Clip choices of one rater that their own hierarchy decided, and how many of those went the other way.</summary>
public readonly record struct HierarchyConsistency(int Decided, int Disagreements)
{
    /// <summary>Disagreements over decided choices; null when the hierarchy decided none of them.</summary>
    public double? Rate => Decided == 0 ? null : (double)Disagreements / Decided;
}

/// <summary>
/// The statistics researchers read about raters' factor rankings (issue 5): pure functions over rankings and labels,
/// so they can be checked on hand-made cases.
/// </summary>
public static class RankingStatistics
{
    /// <summary>
    /// Each factor's standing (in <paramref name="factors"/>' order) and Kendall's W over the raters' rankings. Every
    /// ranking must order exactly <paramref name="factors"/>, most important first.
    /// </summary>
    public static RankingSummary Summarise(IReadOnlyList<string> factors, IReadOnlyList<IReadOnlyList<string>> rankings)
    {
        ArgumentNullException.ThrowIfNull(factors);
        ArgumentNullException.ThrowIfNull(rankings);
        var ranks = RankSums(factors, rankings);
        var standings = factors.Select((f, i) => new FactorStanding(
            f,
            rankings.Count(r => r.Count > 0 && r[0] == f),
            rankings.Count == 0 ? null : ranks[i] / rankings.Count)).ToList();
        return new RankingSummary(rankings.Count, standings, KendallW(factors, rankings));
    }

    /// <summary>
    /// Kendall's coefficient of concordance, W = 12 S / (m² (n³ − n)), where S is the sum over the n factors of the
    /// squared deviation of each factor's rank sum from its mean m (n + 1) / 2. Rankings are total orders, so no tie
    /// correction applies. 1: every rater gave the same order; 0: no agreement at all. Null for m &lt; 2 or n &lt; 2.
    /// </summary>
    public static double? KendallW(IReadOnlyList<string> factors, IReadOnlyList<IReadOnlyList<string>> rankings)
    {
        ArgumentNullException.ThrowIfNull(factors);
        ArgumentNullException.ThrowIfNull(rankings);
        int m = rankings.Count, n = factors.Count;
        if (m < 2 || n < 2) return null;
        var sums = RankSums(factors, rankings);
        double mean = m * (n + 1) / 2.0;
        double s = sums.Sum(r => (r - mean) * (r - mean));
        return 12 * s / ((double)m * m * ((double)n * n * n - n));
    }

    /// <summary>
    /// Index of the version in force at <paramref name="at"/> among versions created at the given times (oldest
    /// first): the latest created at or before it. A label with no time, or older than every version (answered before
    /// the rater ranked), is judged by the current (latest) version. -1 when there are no versions.
    /// </summary>
    public static int VersionInForce(IReadOnlyList<DateTimeOffset> createdAt, DateTimeOffset? at)
    {
        ArgumentNullException.ThrowIfNull(createdAt);
        if (createdAt.Count == 0) return -1;
        if (at is null) return createdAt.Count - 1;
        int found = -1;
        for (int i = 0; i < createdAt.Count; i++)
            if (createdAt[i] <= at.Value) found = i;
        return found < 0 ? createdAt.Count - 1 : found;
    }

    /// <summary>
    /// Counts the rater's Left/Right choices that the hierarchy decided (<c>Verdict</c> not null) and those where the
    /// choice went against it. Equal and can't-tell answers state no side, so they count as neither.
    /// </summary>
    public static HierarchyConsistency Consistency(IEnumerable<(PreferenceChoice Choice, PreferenceChoice? Verdict)> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        int decided = 0, disagreements = 0;
        foreach (var (choice, verdict) in labels)
        {
            if (choice is not (PreferenceChoice.Left or PreferenceChoice.Right) || verdict is null) continue;
            decided++;
            if (verdict != choice) disagreements++;
        }
        return new HierarchyConsistency(decided, disagreements);
    }

    private static double[] RankSums(IReadOnlyList<string> factors, IReadOnlyList<IReadOnlyList<string>> rankings)
    {
        var sums = new double[factors.Count];
        foreach (var ranking in rankings)
        {
            if (ranking.Count != factors.Count || ranking.Distinct(StringComparer.Ordinal).Count() != factors.Count
                || ranking.Any(f => !factors.Contains(f, StringComparer.Ordinal)))
                throw new ArgumentException($"A ranking must order each of {string.Join(", ", factors)} exactly once; got {string.Join(", ", ranking)}.", nameof(rankings));
            for (int i = 0; i < factors.Count; i++)
                sums[i] += IndexOf(ranking, factors[i]) + 1;
        }
        return sums;
    }

    private static int IndexOf(IReadOnlyList<string> ranking, string factor)
    {
        for (int i = 0; i < ranking.Count; i++)
            if (string.Equals(ranking[i], factor, StringComparison.Ordinal)) return i;
        return -1;
    }
}
