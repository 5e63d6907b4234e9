using PreferenceStudio.Environments;

namespace PreferenceStudio.Learning.Policies;

/// <summary>
/// The steps of one rollout, in collection order: step i went from <see cref="States"/>[i] with
/// <see cref="Actions"/>[i] to <see cref="Next"/>[i], earning <see cref="TrueRewards"/>[i] under the environment's reward.
/// </summary>
public sealed record StepBatch(double[][] States, double[][] Actions, double[][] Next, double[] TrueRewards)
{
    public int Count => Actions.Length;
}

/// <summary>The reward PPO maximises. Called once per rollout with all its steps, so learned models run in one batch.</summary>
public interface IStepRewardSource
{
    /// <summary>Short description for reports, e.g. "true" or "bt:model.pt".</summary>
    string Name { get; }

    /// <summary>One reward per step of <paramref name="steps"/>.</summary>
    double[] Rewards(IPreferenceEnvironment env, StepBatch steps);
}

/// <summary>The environment's own reward.</summary>
public sealed class TrueRewardSource : IStepRewardSource
{
    public static TrueRewardSource Instance { get; } = new();

    public string Name => "true";

    public double[] Rewards(IPreferenceEnvironment env, StepBatch steps) => steps.TrueRewards;
}

/// <summary>The true reward of one rater kind (<see cref="IRaterKinds"/>), e.g. one goal of multi-goal navigation.</summary>
public sealed class RaterKindRewardSource(IRaterKinds kinds, int kind) : IStepRewardSource
{
    public string Name => $"true:{kinds.RaterKinds[kind]}";

    public double[] Rewards(IPreferenceEnvironment env, StepBatch steps)
    {
        var r = new double[steps.Count];
        for (int i = 0; i < r.Length; i++) r[i] = kinds.KindReward(kind, steps.States[i], steps.Actions[i], steps.Next[i]);
        return r;
    }
}

/// <summary>A learned reward: <see cref="IRewardModel.StepRewards"/> of each step's features, one model call per rollout.</summary>
public sealed class LearnedRewardSource(IRewardModel model, string? name = null) : IStepRewardSource
{
    public string Name { get; } = name ?? model.ModelType;

    /// <summary>The reward model the rewards come from (SAC relabels its buffer with it).</summary>
    public IRewardModel Model => model;

    public double[] Rewards(IPreferenceEnvironment env, StepBatch steps)
    {
        var features = new float[steps.Count][];
        for (int i = 0; i < features.Length; i++) features[i] = env.StepFeatures(steps.States[i], steps.Actions[i], steps.Next[i]);
        return model.StepRewards(features);
    }
}
