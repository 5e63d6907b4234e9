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
}

/// <summary>SAC settings per control task (one place to change them, as <see cref="PpoPresets"/> is for PPO).</summary>
public static class SacPresets
{
    public static SacOptions For(string environment) => new();
}
