using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.Learning.Metrics;

namespace PreferenceStudio.Learning.Loop;

/// <summary>
/// Everything a training run records about one reward model (issue: held-out accuracy with ties excluded, mean held-out
/// log-likelihood with ties as 0.5, expected calibration error, per-rater accuracy, and where the environment knows its
/// true reward, EPIC distance to it and, in tabular environments, the scaled return of the greedy policy planned on it).
/// </summary>
/// <param name="Policy">The greedy tabular policy planned on the model's reward (null outside tabular environments).</param>
public sealed record ModelReport(
    PreferenceMetricsResult Heldout,
    int TrainCount,
    double? Epic,
    ScaledReturnResult? Evaluation,
    int[]? Policy,
    IReadOnlyDictionary<string, double>? LatentSpread = null)
{
    /// <summary>The report as a flat JSON-ready object (snake_case names, NaN as null) for storage and the API.</summary>
    public Dictionary<string, object?> ToJson(string modelType)
    {
        static double? N(double v) => double.IsFinite(v) ? v : null;
        var json = new Dictionary<string, object?>
        {
            ["model"] = modelType,
            ["heldout_accuracy"] = N(Heldout.Accuracy),
            ["heldout_loglik"] = N(Heldout.MeanLogLikelihood),
            ["ece"] = N(Heldout.ExpectedCalibrationError),
            ["n_train"] = TrainCount,
            ["n_test"] = Heldout.Count,
            ["n_test_decisive"] = Heldout.DecisiveCount,
            ["epic"] = Epic is { } e ? N(e) : null,
        };
        var raters = new SortedDictionary<string, Dictionary<string, object?>>(StringComparer.Ordinal);
        foreach (var (rater, accuracy) in Heldout.PerRater ?? new Dictionary<string, RaterAccuracy>())
            raters[rater] = new Dictionary<string, object?> { ["accuracy"] = N(accuracy.Accuracy), ["count"] = accuracy.Count };
        foreach (var (rater, spread) in LatentSpread ?? new Dictionary<string, double>())
        {
            if (!raters.TryGetValue(rater, out var entry)) raters[rater] = entry = [];
            entry["latent_std"] = N(spread);
        }
        if (raters.Count > 0) json["per_rater"] = raters;
        if (Evaluation is { } ev)
        {
            json["scaled_return"] = N(ev.ScaledReturn);
            json["policy_value"] = N(ev.PolicyValue);
            json["optimal_value"] = N(ev.OptimalValue);
            json["uniform_value"] = N(ev.UniformValue);
        }
        return json;
    }
}

/// <summary>Measures a trained reward model. Runs on the training thread (it evaluates the model in batches).</summary>
public static class ModelEvaluation
{
    /// <summary>Coverage transitions for EPIC outside tabular environments: enough for a stable correlation, cheap to evaluate.</summary>
    public const int EpicTransitions = 2000;

    public static ModelReport Evaluate(IPreferenceEnvironment env, IRewardModel model, IReadOnlyList<PreferencePair> train,
        IReadOnlyList<PreferencePair> test, int seed)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(model);
        var heldout = PreferenceMetrics.Evaluate(model, test);
        int trainCount = train.Count(p => p.Label != PreferenceChoice.Incomparable);
        double? epic = null;
        ScaledReturnResult? evaluation = null;
        int[]? policy = null;
        var learned = EpicReward.Model(model, env);
        var truth = EpicReward.True(env);
        if (env is ITabularEnvironment tabular)
        {
            epic = EpicDistance.Tabular(tabular, learned, truth);
            policy = RewardTable.Plan(model, tabular).Policy;
            evaluation = ScaledReturn.Evaluate(tabular, policy);
        }
        else
        {
            epic = EpicDistance.Sampled(learned, truth, EpicDistance.Sample(env, new Random(seed), EpicTransitions));
        }
        // A per-rater model's uncertainty about each rater: the mean posterior standard deviation of the rater's latent.
        Dictionary<string, double>? spread = null;
        if (model is IPerRaterRewardModel perRater)
            spread = perRater.Raters.ToDictionary(r => r, r => perRater.Latent(r).Std.DefaultIfEmpty(double.NaN).Average(), StringComparer.Ordinal);
        return new ModelReport(heldout, trainCount, epic, evaluation, policy, spread);
    }
}
