using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.Learning.Metrics;

namespace PreferenceStudio.Learning.Loop;

/// <summary>
/// Everything a training run measures about one reward model, as computed (<see cref="Metrics"/> is its recorded form).
/// </summary>
/// <param name="Policy">The greedy tabular policy planned on the model's reward (null outside tabular environments).</param>
public sealed record ModelReport(
    PreferenceMetricsResult Heldout,
    int TrainCount,
    ScaledReturnResult? Evaluation,
    int[]? Policy,
    RewardModelMetrics Metrics);

/// <summary>Measures a trained reward model. Runs on the training thread (it evaluates the model in batches).</summary>
public static class ModelEvaluation
{
    /// <summary>Coverage transitions for EPIC outside tabular environments: enough for a stable correlation, cheap to evaluate.</summary>
    public const int EpicTransitions = 2000;

    /// <summary>
    /// Held-out accuracy with ties excluded, mean held-out log-likelihood with ties as 0.5, expected calibration error,
    /// per-rater accuracy and, where the environment knows its true reward, EPIC distance to it and, in tabular
    /// environments, the scaled return of the greedy policy planned on it.
    /// </summary>
    /// <param name="measureFit">Also score the training pairs (train_accuracy, train_loglik): `studio train` reports how well the model fits.</param>
    public static ModelReport Evaluate(IPreferenceEnvironment env, IRewardModel model, string modelType, IReadOnlyList<PreferencePair> train,
        IReadOnlyList<PreferencePair> test, int seed, bool measureFit = false)
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
        var fit = measureFit ? PreferenceMetrics.Evaluate(model, train) : null;
        var latent = model is IPerRaterRewardModel raterModel ? LatentCheck.Evaluate(raterModel, test, seed) : null;
        var raters = new SortedDictionary<string, RaterMetrics>(StringComparer.Ordinal);
        foreach (var (rater, accuracy) in heldout.PerRater ?? new Dictionary<string, RaterAccuracy>())
            raters[rater] = new RaterMetrics(RewardModelMetrics.Finite(accuracy.Accuracy), accuracy.Count);
        foreach (var (rater, std) in spread ?? [])
            raters[rater] = (raters.GetValueOrDefault(rater) ?? new RaterMetrics(null, 0)) with { LatentStd = RewardModelMetrics.Finite(std) };
        var metrics = new RewardModelMetrics
        {
            Model = modelType,
            NTrain = trainCount,
            NTest = heldout.Count,
            NTestDecisive = heldout.DecisiveCount,
            HeldoutAccuracy = RewardModelMetrics.Finite(heldout.Accuracy),
            HeldoutLogLikelihood = RewardModelMetrics.Finite(heldout.MeanLogLikelihood),
            ExpectedCalibrationError = RewardModelMetrics.Finite(heldout.ExpectedCalibrationError),
            TrainAccuracy = fit is null ? null : RewardModelMetrics.Finite(fit.Accuracy),
            TrainLogLikelihood = fit is null ? null : RewardModelMetrics.Finite(fit.MeanLogLikelihood),
            Epic = epic is { } e ? RewardModelMetrics.Finite(e) : null,
            ScaledReturn = evaluation is null ? null : RewardModelMetrics.Finite(evaluation.ScaledReturn),
            PolicyValue = evaluation is null ? null : RewardModelMetrics.Finite(evaluation.PolicyValue),
            OptimalValue = evaluation is null ? null : RewardModelMetrics.Finite(evaluation.OptimalValue),
            UniformValue = evaluation is null ? null : RewardModelMetrics.Finite(evaluation.UniformValue),
            PerRater = raters.Count > 0 ? raters : null,
            LatentGain = latent?.Gain,
            OwnLatentAccuracy = latent?.Own,
            ShuffledLatentAccuracy = latent?.Shuffled,
            PriorLatentAccuracy = latent?.Prior,
        };
        return new ModelReport(heldout, trainCount, evaluation, policy, metrics);
    }
}
