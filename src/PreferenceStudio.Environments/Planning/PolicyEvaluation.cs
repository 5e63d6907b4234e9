namespace PreferenceStudio.Environments.Planning;

/// <summary>
/// Exact finite-horizon evaluation (gamma = 1 by default) of deterministic and uniform-random policies on
/// deterministic tabular dynamics. Terminal states are absorbing and earn their reward-table entry on each remaining
/// step (0 for the true reward), as in <see cref="ValueIteration"/>.
/// </summary>
public static class PolicyEvaluation
{
    /// <summary>V^pi(s) of a deterministic policy (one action per state) over <paramref name="horizon"/> steps.</summary>
    public static double[] Deterministic(TransitionTable table, double[,] reward, int[] policy, int horizon, double gamma = 1.0)
    {
        ArgumentNullException.ThrowIfNull(policy);
        Check(table, reward, horizon);
        if (policy.Length != table.StateCount)
            throw new ArgumentException($"The policy needs one action per state ({table.StateCount}); got {policy.Length}.", nameof(policy));
        return Evaluate(table, horizon, (s, v) =>
        {
            int a = policy[s];
            if (a < 0 || a >= table.ActionCount)
                throw new ArgumentException($"The policy's action {a} at state {s} is outside 0..{table.ActionCount - 1}.", nameof(policy));
            return Backup(table, reward, v, s, a, gamma);
        });
    }

    /// <summary>V of the policy that picks every action with equal probability, over <paramref name="horizon"/> steps.</summary>
    public static double[] Uniform(TransitionTable table, double[,] reward, int horizon, double gamma = 1.0)
    {
        Check(table, reward, horizon);
        return Evaluate(table, horizon, (s, v) =>
        {
            double total = 0;
            for (int a = 0; a < table.ActionCount; a++) total += Backup(table, reward, v, s, a, gamma);
            return total / table.ActionCount;
        });
    }

    /// <summary>Mean of <paramref name="values"/> over the environment's (uniform) start states.</summary>
    public static double MeanOverStarts(ITabularEnvironment env, double[] values)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(values);
        if (env.StartStates.Count == 0) throw new InvalidOperationException($"{env.Name} has no start states.");
        double total = 0;
        foreach (int s in env.StartStates) total += values[s];
        return total / env.StartStates.Count;
    }

    private static double Backup(TransitionTable table, double[,] reward, double[] v, int s, int a, double gamma) =>
        reward[s, a] + gamma * v[table.Next(s, a)];

    private static double[] Evaluate(TransitionTable table, int horizon, Func<int, double[], double> backup)
    {
        var v = new double[table.StateCount];
        for (int k = 0; k < horizon; k++)
        {
            var next = new double[table.StateCount];
            for (int s = 0; s < table.StateCount; s++)
                if (table.IsValid(s)) next[s] = backup(s, v);
            v = next;
        }
        return v;
    }

    private static void Check(TransitionTable table, double[,] reward, int horizon)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(reward);
        if (horizon < 1) throw new ArgumentOutOfRangeException(nameof(horizon), horizon, "The horizon must be at least 1 step.");
        if (reward.GetLength(0) != table.StateCount || reward.GetLength(1) != table.ActionCount)
            throw new ArgumentException($"The reward table must be {table.StateCount} x {table.ActionCount}.", nameof(reward));
    }
}
