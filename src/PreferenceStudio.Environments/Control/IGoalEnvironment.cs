namespace PreferenceStudio.Environments.Control;

/// <summary>
/// An environment whose task has a goal, so a rollout can be scored as a success or a failure besides its return.
/// Mountain car succeeds at the flag; multi-goal navigation within 0.5 of the goal of its default rater kind
/// (per-kind success: <see cref="MultiGoalNavigation.IsSuccess(int, double[])"/>). Pendulum has no goal.
/// </summary>
public interface IGoalEnvironment
{
    /// <summary>True when <paramref name="state"/> achieves the task's goal.</summary>
    bool IsSuccess(double[] state);

    /// <summary>True when any state of the episode (or segment) achieves the goal.</summary>
    bool ReachedGoal(Segment episode) => episode.States.Any(IsSuccess);
}
