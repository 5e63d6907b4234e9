namespace PreferenceStudio.Environments;

/// <summary>
/// An environment whose raters may want different things (VPL's setting): each rater kind has its own true reward,
/// e.g. its own goal in multi-goal navigation. Simulated raters of a kind answer by that kind's reward, and the
/// studio evaluates a per-rater model or policy against the reward of the rater's kind.
/// </summary>
public interface IRaterKinds
{
    /// <summary>Names of the kinds, e.g. "goal-a", "goal-b".</summary>
    IReadOnlyList<string> RaterKinds { get; }

    /// <summary>True reward of the step s --a--> s' for raters of kind <paramref name="kind"/> (index into <see cref="RaterKinds"/>).</summary>
    double KindReward(int kind, double[] state, double[] action, double[] next);
}
