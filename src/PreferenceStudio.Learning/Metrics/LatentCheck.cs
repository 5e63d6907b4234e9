namespace PreferenceStudio.Learning.Metrics;

/// <summary>
/// How much a per-rater model's latents carry (issue 16): held-out accuracy of each rater's pairs scored with the
/// rater's own latent, with another rater's latent (raters shuffled), and with the prior (the population's z = 0).
/// <see cref="Gain"/> = own - shuffled: clearly positive when the raters differ and the model tells them apart, about
/// zero when they do not or when it does not.
/// </summary>
public sealed record LatentCheckResult(double Own, double Shuffled, double Prior, int Pairs, int Raters)
{
    public double Gain => Own - Shuffled;
}

public static class LatentCheck
{
    /// <summary>Shuffles averaged, so one lucky assignment of raters does not decide the shuffled accuracy.</summary>
    public const int Shuffles = 5;

    /// <summary>
    /// Scores the decisive pairs of raters the model knows. Each shuffle is a seeded derangement (no rater keeps their
    /// own latent). Null when fewer than two known raters have a decisive pair.
    /// </summary>
    public static LatentCheckResult? Evaluate(IPerRaterRewardModel model, IReadOnlyList<PreferencePair> pairs, int seed)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pairs);
        var known = model.Raters.ToHashSet(StringComparer.Ordinal);
        var usable = pairs.Where(p => p.RightTarget is 0.0 or 1.0 && p.Rater is { } r && known.Contains(r)).ToList();
        var raters = usable.Select(p => p.Rater!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        if (raters.Length < 2) return null;

        // Only which latent predicts changes (the pairs' rater); the labels scored against stay the same, so
        // PreferenceMetrics' accuracy (a 0.5 prediction counts half) serves all three.
        static double Accuracy(IRewardModel model, IEnumerable<PreferencePair> pairs) => PreferenceMetrics.Evaluate(model, pairs.ToList()).Accuracy;
        double own = Accuracy(model, usable);
        double prior = Accuracy(model, usable.Select(p => p with { Rater = null }));
        var rng = new Random(seed);
        double shuffled = 0;
        for (int s = 0; s < Shuffles; s++)
        {
            var other = Derangement(raters, rng);
            shuffled += Accuracy(model, usable.Select(p => p with { Rater = other[p.Rater!] }));
        }
        return new LatentCheckResult(own, shuffled / Shuffles, prior, usable.Count, raters.Length);
    }

    /// <summary>A uniformly drawn permutation with no fixed point (redrawn until it has none; about e tries).</summary>
    private static Dictionary<string, string> Derangement(string[] raters, Random rng)
    {
        var order = raters.ToArray();
        do rng.Shuffle(order);
        while (order.Where((r, i) => r == raters[i]).Any());
        return raters.Select((r, i) => (r, order[i])).ToDictionary(x => x.r, x => x.Item2, StringComparer.Ordinal);
    }
}
