namespace PreferenceStudio.Environments.Planning;

/// <summary>
/// The deterministic dynamics of a tabular environment as arrays: for every (state, action) the next state's index
/// and whether it is terminal. Built once and shared by value iteration, policy evaluation and reward tables.
/// </summary>
public sealed class TransitionTable
{
    private readonly int[] _next;
    private readonly bool[] _nextTerminal;
    private readonly bool[] _terminal;
    private readonly bool[] _valid;

    private TransitionTable(int stateCount, int actionCount, int[] next, bool[] nextTerminal, bool[] terminal, bool[] valid)
    {
        StateCount = stateCount;
        ActionCount = actionCount;
        _next = next;
        _nextTerminal = nextTerminal;
        _terminal = terminal;
        _valid = valid;
    }

    public int StateCount { get; }

    public int ActionCount { get; }

    /// <summary>Index of the state reached by taking <paramref name="action"/> in <paramref name="state"/>.</summary>
    public int Next(int state, int action) => _next[state * ActionCount + action];

    /// <summary>Whether the state reached by (state, action) is terminal.</summary>
    public bool NextIsTerminal(int state, int action) => _nextTerminal[state * ActionCount + action];

    /// <summary>Whether the state itself is terminal (absorbing: every action stays in it).</summary>
    public bool IsTerminal(int state) => _terminal[state];

    /// <summary>
    /// Whether the index is a legal state. Tabular indices can cover cells the agent can never occupy (houses);
    /// planners treat those like terminal states so they never contribute value.
    /// </summary>
    public bool IsValid(int state) => _valid[state];

    /// <summary>Enumerates the environment's dynamics. Throws when a transition leaves the state space.</summary>
    public static TransitionTable Build(ITabularEnvironment env)
    {
        ArgumentNullException.ThrowIfNull(env);
        int n = env.StateCount, m = env.ActionCount;
        var next = new int[n * m];
        var nextTerminal = new bool[n * m];
        var terminal = new bool[n];
        var valid = new bool[n];
        for (int s = 0; s < n; s++)
        {
            var state = env.StateAt(s);
            valid[s] = env.ValidateState(state) is null;
            terminal[s] = valid[s] && env.IsTerminal(state);
            for (int a = 0; a < m; a++)
            {
                if (!valid[s] || terminal[s])
                {
                    // Absorbing: the planner never leaves these states.
                    next[s * m + a] = s;
                    nextTerminal[s * m + a] = true;
                    continue;
                }
                var step = env.Step(state, a);
                int j = env.StateIndex(step.Next);
                if (j < 0 || j >= n)
                    throw new InvalidOperationException($"{env.Name}: action {a} from state {s} leads to index {j}, outside 0..{n - 1}.");
                next[s * m + a] = j;
                nextTerminal[s * m + a] = step.Terminal;
            }
        }
        return new TransitionTable(n, m, next, nextTerminal, terminal, valid);
    }
}
