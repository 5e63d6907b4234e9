using PreferenceStudio.Environments;

namespace PreferenceStudio.Learning.Metrics;

/// <summary>One (s, a, s') at which a reward is evaluated; s' need not be the true successor of (s, a).</summary>
public readonly record struct EpicTransition(double[] State, double[] Action, double[] Next);

/// <summary>
/// A reward R(s, a, s') that <see cref="EpicDistance"/> can compare, evaluated in batches (a reward model answers a
/// whole batch in one forward pass).
/// </summary>
/// <remarks>
/// EPIC's canonicalisation evaluates rewards at (s, a, S') with S' drawn independently of (s, a), triples the
/// deterministic dynamics never produce. Our true rewards and learned rewards only exist on real transitions, so
/// <see cref="True"/> and <see cref="Model"/> are defined as functions of (s, a) alone: they ignore the given s' and
/// use the true successor T(s, a) (the true reward is env.Step(s, a).Reward; the model reads the step features of
/// s --a--> T(s, a), as <see cref="RewardTable"/> does). Two rewards that agree on every real transition then have
/// distance 0, while extrapolating a model to impossible steps would make even a perfect model look wrong.
/// Rewards built with <see cref="FromFunction"/> are evaluated at the given s' as written, which is what shaping
/// terms gamma * Phi(s') - Phi(s) need; wrap a per-step reward in <see cref="AtTrueSuccessor"/> to give it the same
/// (s, a) reading as the true reward.
/// </remarks>
public sealed class EpicReward
{
    private readonly Func<IReadOnlyList<EpicTransition>, double[]> _evaluate;

    private EpicReward(Func<IReadOnlyList<EpicTransition>, double[]> evaluate, bool ignoresNext)
    {
        _evaluate = evaluate;
        IgnoresNext = ignoresNext;
    }

    /// <summary>The reward does not read s' (so expectations over S' need not be sampled).</summary>
    public bool IgnoresNext { get; }

    public double[] Evaluate(IReadOnlyList<EpicTransition> transitions)
    {
        ArgumentNullException.ThrowIfNull(transitions);
        var values = _evaluate(transitions);
        if (values.Length != transitions.Count)
            throw new InvalidOperationException($"A reward returned {values.Length} values for {transitions.Count} transitions.");
        return values;
    }

    /// <summary>Any reward function R(s, a, s'), e.g. <see cref="IRaterKinds.KindReward"/> of one kind.</summary>
    public static EpicReward FromFunction(Func<double[], double[], double[], double> reward, bool ignoresNext = false)
    {
        ArgumentNullException.ThrowIfNull(reward);
        return new EpicReward(ts => ts.Select(t => reward(t.State, t.Action, t.Next)).ToArray(), ignoresNext);
    }

    /// <summary>A reward evaluated a batch at a time.</summary>
    public static EpicReward FromBatch(Func<IReadOnlyList<EpicTransition>, double[]> rewards, bool ignoresNext = false)
    {
        ArgumentNullException.ThrowIfNull(rewards);
        return new EpicReward(rewards, ignoresNext);
    }

    /// <summary>R(s, a, s') = reward(s, a, T(s, a)): a per-step reward read on the true transition, s' ignored.</summary>
    public static EpicReward AtTrueSuccessor(IPreferenceEnvironment env, Func<double[], double[], double[], double> reward)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(reward);
        return FromFunction((s, a, _) => reward(s, a, env.Step(s, a).Next), ignoresNext: true);
    }

    /// <summary>
    /// The true reward of one rater kind (<see cref="IRaterKinds.KindReward"/>), read on the true transition like
    /// <see cref="True"/>, so a per-rater model (<see cref="Model"/> of ForRater) compares with it on equal terms.
    /// </summary>
    public static EpicReward RaterKind(IPreferenceEnvironment env, int kind)
    {
        ArgumentNullException.ThrowIfNull(env);
        if (env is not IRaterKinds kinds) throw new ArgumentException($"{env.Name} has no rater kinds.", nameof(env));
        ArgumentOutOfRangeException.ThrowIfNegative(kind);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(kind, kinds.RaterKinds.Count);
        return AtTrueSuccessor(env, (s, a, next) => kinds.KindReward(kind, s, a, next));
    }

    /// <summary>The environment's true reward, env.Step(s, a).Reward (s' ignored).</summary>
    public static EpicReward True(IPreferenceEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(env);
        return FromFunction((s, a, _) => env.Step(s, a).Reward, ignoresNext: true);
    }

    /// <summary>
    /// A learned reward: the model's step reward of s --a--> T(s, a) (s' ignored). For a per-rater model pass
    /// <see cref="IPerRaterRewardModel.ForRater"/>'s model.
    /// </summary>
    public static EpicReward Model(IRewardModel model, IPreferenceEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(env);
        return FromBatch(ts => model.StepRewards(ts.Select(t => env.StepFeatures(t.State, t.Action, env.Step(t.State, t.Action).Next)).ToList()),
            ignoresNext: true);
    }
}
