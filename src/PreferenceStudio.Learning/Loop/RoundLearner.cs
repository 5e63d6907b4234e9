using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Planning;

namespace PreferenceStudio.Learning.Loop;

/// <summary>What one round of learning produced: the reward model, its held-out metrics and the next policy.</summary>
public sealed record RoundLearningResult(
    IRewardModel Model,
    PreferenceMetricsResult Heldout,
    int TrainCount,
    int TestCount,
    int[] Policy,
    ScaledReturnResult Evaluation);

/// <summary>
/// The learning half of a round: trains a reward model on the labels so far, measures it on the held-out labels,
/// and plans the next policy greedily on the learned reward (value iteration for tabular environments).
/// Runs on the training thread.
/// </summary>
public static class RoundLearner
{
    public static RoundLearningResult Learn(
        ITabularEnvironment env,
        IRewardModelTrainer trainer,
        IReadOnlyList<PreferencePair> train,
        IReadOnlyList<PreferencePair> test,
        RewardModelOptions options,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var model = trainer.Train(env, train, options, progress, cancellationToken);
        try
        {
            var heldout = PreferenceMetrics.Evaluate(model, test);
            var plan = RewardTable.Plan(model, env);
            var evaluation = ScaledReturn.Evaluate(env, plan.Policy);
            int trainCount = train.Count(p => p.Label != PreferenceChoice.Incomparable);
            return new RoundLearningResult(model, heldout, trainCount, heldout.Count, plan.Policy, evaluation);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }
}
