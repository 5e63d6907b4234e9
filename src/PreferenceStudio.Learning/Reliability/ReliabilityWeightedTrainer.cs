using PreferenceStudio.Environments;

namespace PreferenceStudio.Learning.Reliability;

/// <summary>How labels are weighted by who gave them: <see cref="None"/> (all alike) or <see cref="Reliability"/>.</summary>
public static class RaterWeighting
{
    public const string None = "none";
    public const string Reliability = "reliability";
    public static readonly IReadOnlyList<string> All = [None, Reliability];
}

/// <summary>Settings of the reliability EM (METHODS.md section 6).</summary>
public sealed record ReliabilityOptions
{
    /// <summary>Most E/M updates of the reliabilities; each is followed by training the model again.</summary>
    public int MaxIterations { get; init; } = 4;

    /// <summary>Stop early once no rater's reliability moved by more than this.</summary>
    public double Tolerance { get; init; } = 0.02;

    /// <summary>Pseudo-counts of a Beta(1 + agree, 1 + disagree) prior: a rater with few labels stays near the middle.</summary>
    public double PriorAgree { get; init; } = 1;
    public double PriorDisagree { get; init; } = 1;

    /// <summary>Where a rater without gold answers starts: the benefit of the doubt, not certainty.</summary>
    public double Initial { get; init; } = 0.75;

    /// <summary>
    /// Whether a gold pair's fixed answer also trains the model (once per pair, weight 1), beside the raters' answers
    /// to it. Off in the studio, where gold pairs check raters and the reward learns from raters, as with weighting
    /// off; the crowd simulation turns it on in both modes alike.
    /// </summary>
    public bool TrainOnGold { get; init; }
}

/// <summary>A model trained with reliability weighting, and what it concluded about each rater.</summary>
/// <param name="Reliability">Each rater's estimated probability of answering in line with their true preference,
/// in [0, 1]; raters are keyed as in the pairs (null becomes <see cref="AnonymousRater"/>).</param>
/// <param name="GoldAccuracy">Each rater's share of gold pairs answered exactly as fixed, where they answered any.</param>
public sealed record ReliabilityFit(IRewardModel Model, IReadOnlyDictionary<string, double> Reliability,
    IReadOnlyDictionary<string, (double Accuracy, int Count)> GoldAccuracy, int Iterations)
{
    public const string AnonymousRater = "(anonymous)";
}

/// <summary>
/// Dawid-Skene style EM over any reward model (METHODS.md section 6). Each rater r has a reliability a_r = P(their
/// answer agrees with their true preference). Starting from gold answers where a rater has them (else
/// <see cref="ReliabilityOptions.Initial"/>), it alternates: train the model with each label weighted by |2 a_r - 1|
/// (and turned around when a_r &lt; 0.5: an answer that is reliably backwards is informative); then, for each label,
/// the probability that the true preference is the one the rater gave, from the model's prediction and the other
/// raters' answers to the same pair (the label itself is left out, so a rater cannot vouch for themselves), or the gold
/// answer where the pair has one (an answer to a gold pair agrees when it is exactly the fixed answer, as the quality
/// page scores it); a_r becomes the rater's expected agreement under a Beta prior. "Equal" answers train (weighted like
/// the rater's others) but do not count towards a reliability, except on gold pairs. Pairs passed as fixed (labelled by a
/// rule, not answered by a rater) train with every fit, unweighted, and take no part in the estimate. A careful rater ends
/// near 1, a random clicker near 0.5 (weight near 0), an adversarial one near 0 (turned around).
/// With a per-rater model (VPL) the prediction is the rater's own reward, and answers are not pooled across raters:
/// a rater whose preferences differ from the others' is not thereby unreliable.
/// </summary>
public sealed class ReliabilityWeightedTrainer(IRewardModelTrainer inner, ReliabilityOptions? options = null)
{
    private readonly ReliabilityOptions _options = options ?? new ReliabilityOptions();

    public string ModelType => inner.ModelType;

    public ReliabilityFit Train(IPreferenceEnvironment env, IReadOnlyList<PreferencePair> train, RewardModelOptions modelOptions,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default, IReadOnlyList<PreferencePair>? fixedPairs = null)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(train);
        fixedPairs ??= [];
        var usable = train.Where(p => p.RightTarget is not null).ToList();
        if (usable.Count == 0) return Fit(inner.Train(env, train.Concat(fixedPairs).ToList(), modelOptions, progress, cancellationToken), new(), new(), 0);

        var units = PairUnits.Group(usable);
        var unitOf = new int[usable.Count];
        var gold = new double?[units.Count];
        for (int u = 0; u < units.Count; u++)
        {
            foreach (var i in units[u]) unitOf[i] = u;
            gold[u] = units[u].Select(i => usable[i].Gold).FirstOrDefault(g => g is PreferenceChoice.Left or PreferenceChoice.Right or PreferenceChoice.Equal) is { } g
                ? Target(g) : null;
        }
        var raterOf = usable.Select(p => p.Rater ?? ReliabilityFit.AnonymousRater).ToArray();
        var raters = raterOf.Distinct(StringComparer.Ordinal).ToList();

        // Gold accuracy, and the starting point: a rater's gold answers say more than any default.
        var goldAccuracy = new Dictionary<string, (double, int)>(StringComparer.Ordinal);
        var reliability = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var rater in raters)
        {
            var answered = Enumerable.Range(0, usable.Count).Where(i => raterOf[i] == rater && gold[unitOf[i]] is not null).ToList();
            double agree = answered.Count(i => usable[i].RightTarget!.Value == gold[unitOf[i]]!.Value);
            if (answered.Count > 0) goldAccuracy[rater] = (agree / answered.Count, answered.Count);
            reliability[rater] = answered.Count > 0
                ? (agree + _options.PriorAgree) / (answered.Count + _options.PriorAgree + _options.PriorDisagree)
                : _options.Initial;
        }
        // With TrainOnGold the fixed answers train the model too, once per gold pair; the fixed pairs always do.
        var extra = (_options.TrainOnGold
            ? units.Select((unit, u) => (unit, u)).Where(x => gold[x.u] is not null)
                .Select(x => usable[x.unit[0]] with { Label = usable[x.unit[0]].Gold!.Value, Rater = null, Weight = 1.0 })
            : []).Concat(fixedPairs).ToList();

        IRewardModel? model = null;
        int iteration = 0;
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                model?.Dispose();
                model = inner.Train(env, Weighted(usable, raterOf, reliability).Concat(extra).ToList(), modelOptions, progress, cancellationToken);
                if (iteration >= _options.MaxIterations) break;
                iteration++;
                var updated = Update(model, usable, units, unitOf, gold, raterOf, reliability);
                double moved = raters.Max(r => Math.Abs(updated[r] - reliability[r]));
                reliability = updated;
                if (moved < _options.Tolerance)
                {
                    // Converged: one last fit on the final weights.
                    model.Dispose();
                    model = inner.Train(env, Weighted(usable, raterOf, reliability).Concat(extra).ToList(), modelOptions, progress, cancellationToken);
                    break;
                }
            }
            return Fit(model, reliability, goldAccuracy, iteration);
        }
        catch
        {
            model?.Dispose();
            throw;
        }
    }

    private static ReliabilityFit Fit(IRewardModel model, Dictionary<string, double> reliability, Dictionary<string, (double, int)> gold, int iterations) =>
        new(model, reliability, gold, iterations);

    /// <summary>
    /// Each label weighted by |2 a - 1| (turned around when a &lt; 0.5), scaled so the weights average 1: a crowd of
    /// equally careful raters trains exactly as without weighting.
    /// </summary>
    public static List<PreferencePair> Weighted(List<PreferencePair> usable, string[] raterOf, IReadOnlyDictionary<string, double> reliability)
    {
        var raw = raterOf.Select(r => Math.Abs(2 * reliability[r] - 1)).ToArray();
        double mean = raw.Average();
        // Nobody is better than a coin: nothing to prefer, so all count alike rather than not at all.
        if (mean < 1e-6) return usable.ToList();
        var result = new List<PreferencePair>(usable.Count);
        for (int i = 0; i < usable.Count; i++)
        {
            var p = usable[i];
            var label = reliability[raterOf[i]] < 0.5 ? Flip(p.Label) : p.Label;
            result.Add(p with { Label = label, Weight = p.Weight * raw[i] / mean });
        }
        return result;
    }

    /// <summary>One E and M step: every rater's expected agreement with the truth as the model and the others see it.</summary>
    private Dictionary<string, double> Update(IRewardModel model, List<PreferencePair> usable, List<List<int>> units, int[] unitOf,
        double?[] gold, string[] raterOf, IReadOnlyDictionary<string, double> reliability)
    {
        bool perRater = model is IPerRaterRewardModel { Raters.Count: > 0 };
        var p = PreferenceMetrics.Predict(model, usable);
        var agree = new Dictionary<string, double>(StringComparer.Ordinal);
        var count = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < usable.Count; i++)
        {
            double agreement;
            double answer = usable[i].RightTarget!.Value;
            // A gold answer is scored exactly: "equal" agrees only with an "equal" gold answer, and nothing else with one.
            if (gold[unitOf[i]] is { } g) agreement = answer == g ? 1 : 0;
            else if (usable[i].Label == PreferenceChoice.Equal) continue; // a tie says nothing about how carefully the rater looks
            else
            {
                // P(true preference is right) from the model and every other rater's answer to this pair.
                double pr = Math.Clamp(p[i], 1e-4, 1 - 1e-4);
                double right = pr, left = 1 - pr;
                if (!perRater)
                    foreach (var j in units[unitOf[i]])
                    {
                        if (j == i) continue;
                        double a = Math.Clamp(reliability[raterOf[j]], 1e-3, 1 - 1e-3);
                        switch (usable[j].Label)
                        {
                            case PreferenceChoice.Right: right *= a; left *= 1 - a; break;
                            case PreferenceChoice.Left: right *= 1 - a; left *= a; break;
                        }
                    }
                double truthRight = right / (right + left);
                agreement = answer == 1 ? truthRight : 1 - truthRight;
            }
            var rater = raterOf[i];
            agree[rater] = agree.GetValueOrDefault(rater) + agreement;
            count[rater] = count.GetValueOrDefault(rater) + 1;
        }
        return reliability.Keys.ToDictionary(r => r,
            r => (agree.GetValueOrDefault(r) + _options.PriorAgree) / (count.GetValueOrDefault(r) + _options.PriorAgree + _options.PriorDisagree),
            StringComparer.Ordinal);
    }

    private static double Target(PreferenceChoice c) => c switch { PreferenceChoice.Right => 1, PreferenceChoice.Left => 0, _ => 0.5 };

    private static PreferenceChoice Flip(PreferenceChoice c) => c switch
    {
        PreferenceChoice.Left => PreferenceChoice.Right,
        PreferenceChoice.Right => PreferenceChoice.Left,
        _ => c,
    };
}
