namespace PreferenceStudio.Environments.Planning;

/// <summary>Optimal values and a greedy deterministic policy of a tabular environment under some reward.</summary>
/// <param name="Values">V(s) over the horizon; 0 for illegal states and for terminal states under a reward that is 0 there.</param>
/// <param name="QValues">Q(s, a) = r(s, a) + gamma * V_{H-1}(s') at the full horizon.</param>
/// <param name="Policy">Greedy action per state (lowest action index on ties; 0 for terminal/illegal states).</param>
public sealed record PlanningResult(double[] Values, double[,] QValues, int[] Policy);

/// <summary>
/// Finite-horizon value iteration (backward induction) for deterministic tabular dynamics.
/// </summary>
/// <remarks>
/// The studio uses gamma = 1 with a finite horizon, as Knox et al. compute V* with gamma = 1: the horizon keeps values
/// finite when a learned reward has a positive loop (an infinite-horizon undiscounted solve would diverge). The
/// default horizon is the environment's <see cref="IPreferenceEnvironment.MaxEpisodeSteps"/>, the longest episode a
/// rollout may take, so the plan covers exactly what a rollout can experience. On the delivery board (10 x 10, every
/// start within a few dozen moves of a goal) 50 steps is long enough for V* to equal the infinite-horizon optimum.
/// The returned policy is stationary: greedy on Q at the full horizon.
/// Terminal states are absorbing: every action stays put and earns the reward table's entry for that state on each
/// remaining step. Tables of the true reward (and <see cref="TabularRewards.FromFunction"/>) hold 0 there, the usual
/// "absorbing with reward 0"; a learned reward may hold its own absorbing-step reward, so that only reward differences
/// relative to the absorbing state matter (see the Learning project's RewardTable).
/// </remarks>
public static class ValueIteration
{
    /// <summary>Solves with a reward given as a function of (state index, action).</summary>
    public static PlanningResult Solve(ITabularEnvironment env, Func<int, int, double> reward, double gamma = 1.0, int? horizon = null)
    {
        ArgumentNullException.ThrowIfNull(env);
        var table = TransitionTable.Build(env);
        return Solve(table, TabularRewards.FromFunction(table, reward), gamma, horizon ?? env.MaxEpisodeSteps);
    }

    /// <summary>Solves with a tabulated reward [state, action].</summary>
    public static PlanningResult Solve(TransitionTable table, double[,] reward, double gamma, int horizon)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(reward);
        if (horizon < 1) throw new ArgumentOutOfRangeException(nameof(horizon), horizon, "The horizon must be at least 1 step.");
        if (gamma is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must lie in [0, 1].");
        if (reward.GetLength(0) != table.StateCount || reward.GetLength(1) != table.ActionCount)
            throw new ArgumentException($"The reward table must be {table.StateCount} x {table.ActionCount}.", nameof(reward));

        int n = table.StateCount, m = table.ActionCount;
        var v = new double[n];
        var q = new double[n, m];
        for (int k = 0; k < horizon; k++)
        {
            var next = new double[n];
            for (int s = 0; s < n; s++)
            {
                if (!table.IsValid(s)) continue;
                double best = double.NegativeInfinity;
                for (int a = 0; a < m; a++)
                {
                    double value = reward[s, a] + gamma * v[table.Next(s, a)];
                    q[s, a] = value;
                    if (value > best) best = value;
                }
                next[s] = best;
            }
            v = next;
        }
        return new PlanningResult(v, q, GreedyPolicy(table, q));
    }

    /// <summary>Argmax per state with ties to the lowest action index; 0 for terminal and illegal states.</summary>
    public static int[] GreedyPolicy(TransitionTable table, double[,] q)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(q);
        var policy = new int[table.StateCount];
        for (int s = 0; s < table.StateCount; s++)
        {
            if (!table.IsValid(s) || table.IsTerminal(s)) continue;
            int best = 0;
            for (int a = 1; a < table.ActionCount; a++)
                if (q[s, a] > q[s, best]) best = a;
            policy[s] = best;
        }
        return policy;
    }
}
