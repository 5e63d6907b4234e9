namespace PreferenceStudio.Environments.Planning;

/// <summary>Cuts whole trajectories into the short segments shown to raters.</summary>
public static class SegmentCutter
{
    /// <summary>
    /// Consecutive, non-overlapping segments of exactly <paramref name="length"/> actions. A shorter final piece is kept
    /// only when the trajectory ended at a terminal state, as in the human study (segments are shorter when a goal or
    /// sheep is reached); a remainder left by the step limit is dropped, because a cut-off piece would show raters
    /// less behaviour than its partner for no reason in the task. Zero-action pieces are never produced.
    /// </summary>
    public static IReadOnlyList<Segment> Cut(IPreferenceEnvironment env, Segment trajectory, int length)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(trajectory);
        return Cut(trajectory, length, env.IsTerminal(trajectory.States[^1]));
    }

    /// <summary>As <see cref="Cut(IPreferenceEnvironment, Segment, int)"/> with the terminal flag given directly.</summary>
    public static IReadOnlyList<Segment> Cut(Segment trajectory, int length, bool endedAtTerminal)
    {
        ArgumentNullException.ThrowIfNull(trajectory);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        var pieces = new List<Segment>();
        int total = trajectory.Actions.Length;
        for (int start = 0; start < total; start += length)
        {
            int take = Math.Min(length, total - start);
            if (take < length && !endedAtTerminal) break;
            pieces.Add(new Segment(trajectory.States[start..(start + take + 1)], trajectory.Actions[start..(start + take)]));
        }
        return pieces;
    }
}
