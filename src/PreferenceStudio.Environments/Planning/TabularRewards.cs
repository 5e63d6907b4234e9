namespace PreferenceStudio.Environments.Planning;

/// <summary>Tabular reward functions r(s, a) as [state, action] arrays.</summary>
public static class TabularRewards
{
    /// <summary>The environment's true reward for every (state, action); 0 for terminal and illegal states.</summary>
    public static double[,] True(ITabularEnvironment env, TransitionTable? table = null)
    {
        ArgumentNullException.ThrowIfNull(env);
        table ??= TransitionTable.Build(env);
        return FromFunction(table, (s, a) => env.Step(env.StateAt(s), a).Reward);
    }

    /// <summary>Tabulates a reward function; terminal and illegal states get 0 (absorbing with reward 0).</summary>
    public static double[,] FromFunction(TransitionTable table, Func<int, int, double> reward)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(reward);
        var r = new double[table.StateCount, table.ActionCount];
        for (int s = 0; s < table.StateCount; s++)
        {
            if (!table.IsValid(s) || table.IsTerminal(s)) continue;
            for (int a = 0; a < table.ActionCount; a++) r[s, a] = reward(s, a);
        }
        return r;
    }
}
