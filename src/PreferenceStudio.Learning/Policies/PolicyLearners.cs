using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Control;
using PreferenceStudio.Learning.Policies.Sac;

namespace PreferenceStudio.Learning.Policies;

/// <summary>The policy learners of continuous-action campaigns, by the names settings and flags use.</summary>
public static class PolicyLearners
{
    /// <summary>Proximal policy optimisation: on-policy, continuing from the last round's policy.</summary>
    public const string Ppo = "ppo";

    /// <summary>Soft actor-critic: off-policy, its replay buffer relabelled whenever the reward model changes (PEBBLE).</summary>
    public const string Sac = "sac";

    public static IReadOnlyList<string> All { get; } = [Ppo, Sac];

    /// <summary>
    /// The learner a campaign or simulation gets when none is named: SAC for continuous actions (README, "Continuous
    /// control from few labels": on Pendulum it reached -200 with a median of 150 oracle labels, PPO in the same loop
    /// needed more); tabular environments are planned exactly and ignore it.
    /// </summary>
    public static string DefaultFor(IPreferenceEnvironment env) => env.ActionSpace.IsDiscrete ? Ppo : Sac;

    /// <summary>Policy-training steps per round when none are given: SAC updates once per step, so it needs far fewer.</summary>
    public static int DefaultSteps(string learner) => learner == Sac ? 10_000 : 50_000;

    /// <summary>
    /// Unsupervised exploration steps before the first round when none are given: mountain car's random actions never
    /// reach the flag, so no clip shows it without exploration; the other tasks' random clips already cover their states.
    /// </summary>
    public static int DefaultExplorationSteps(IPreferenceEnvironment env) => env.Name == MountainCar.EnvironmentName ? 10_000 : 0;
}

/// <summary>SAC settings per control task (one place to change them, as <see cref="PpoPresets"/> is for PPO).</summary>
public static class SacPresets
{
    /// <summary>
    /// Mountain car takes 100-200 steps to reach the flag, and a learned reward charges for throttle: at gamma 0.99 the
    /// discounted cost of idling for ever (100 steps' worth) is close to that of driving to the flag, hence gamma 0.999.
    /// That alone did not make SAC solve it, even on the true reward after exploration (0% success in 40,000 steps): one-step
    /// targets carry the flag's value back one step per critic update, through slowly moving target networks, over a
    /// path of 100+ steps. With 20-step returns the same run succeeded in every evaluation episode within 5,000 steps,
    /// and from learned rewards after 50 labels in most seeds (README, "Continuous control from few labels").
    /// </summary>
    public static SacOptions For(string environment) => environment switch
    {
        MountainCar.EnvironmentName => new SacOptions { Gamma = 0.999, NSteps = 20 },
        _ => new SacOptions(),
    };
}
