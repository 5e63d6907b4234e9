namespace PreferenceStudio.Environments.Planning;

/// <summary>Epsilon-greedy rollouts of whole episodes under the true dynamics.</summary>
public static class Rollouts
{
    /// <summary>
    /// Runs <paramref name="episodes"/> episodes from the start distribution. At each step the agent takes a uniformly
    /// random action with probability <paramref name="epsilon"/>, else <paramref name="policyAction"/>(state). Each
    /// trajectory ends at a terminal state or after <see cref="IPreferenceEnvironment.MaxEpisodeSteps"/> actions.
    /// </summary>
    public static IReadOnlyList<Segment> Collect(IPreferenceEnvironment env, Func<double[], double[]> policyAction, int episodes, double epsilon, Random rng)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(policyAction);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegative(episodes);
        if (epsilon is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must lie in [0, 1].");

        var trajectories = new List<Segment>(episodes);
        for (int e = 0; e < episodes; e++)
        {
            var state = env.SampleStart(rng);
            var states = new List<double[]> { state };
            var actions = new List<double[]>();
            while (!env.IsTerminal(state) && actions.Count < env.MaxEpisodeSteps)
            {
                var action = rng.NextDouble() < epsilon ? env.ActionSpace.Sample(rng) : policyAction(state);
                state = env.Step(state, action).Next;
                actions.Add(action);
                states.Add(state);
            }
            trajectories.Add(new Segment(states.ToArray(), actions.ToArray()));
        }
        return trajectories;
    }

    /// <summary>Rollouts of a tabular deterministic policy (one action per state index).</summary>
    public static IReadOnlyList<Segment> Collect(ITabularEnvironment env, int[] policy, int episodes, double epsilon, Random rng)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(policy);
        return Collect(env, s => [policy[env.StateIndex(s)]], episodes, epsilon, rng);
    }

    /// <summary>Rollouts of the uniform random policy.</summary>
    public static IReadOnlyList<Segment> CollectRandom(IPreferenceEnvironment env, int episodes, Random rng) =>
        Collect(env, _ => env.ActionSpace.Sample(rng), episodes, 1.0, rng);
}
