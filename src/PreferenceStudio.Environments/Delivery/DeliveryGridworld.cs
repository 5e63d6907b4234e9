using System.Reflection;
using System.Text.Json;

namespace PreferenceStudio.Environments.Delivery;

/// <summary>
/// The delivery gridworld of Knox et al. (METHODS.md section 3): a 10 x 10 board of roads, mud, coins, roadblocks,
/// houses (blocked), sheep and goals (terminal). States are [row, col]; actions are up, down, left, right.
/// The true reward is w . phi with w = [gas -1, goal +50, sheep -50, coin +1, roadblock -1, mud -2].
/// </summary>
public sealed class DeliveryGridworld : ITabularEnvironment
{
    public const string EnvironmentName = "delivery-gridworld";

    /// <summary>Feature weights of the true reward, in <see cref="FeatureNames"/> order.</summary>
    public static readonly double[] TrueWeights = [-1, 50, -50, 1, -1, -2];

    private static readonly (int Dr, int Dc)[] Moves = [(-1, 0), (1, 0), (0, -1), (0, 1)];

    private static readonly Lazy<DeliveryGridworld> StandardBoard = new(() => new DeliveryGridworld(LoadBuiltInBoard()));

    /// <summary>The board used in the human study, shipped with the project.</summary>
    public static DeliveryGridworld Standard => StandardBoard.Value;

    private readonly int[,] _cells;
    private readonly int[] _startStates;

    public DeliveryGridworld(int[,] cells)
    {
        _cells = cells;
        Rows = cells.GetLength(0);
        Cols = cells.GetLength(1);
        _startStates = Enumerable.Range(0, Rows * Cols)
            .Where(i => !IsTerminalCell(_cells[i / Cols, i % Cols]) && !IsBlockedCell(_cells[i / Cols, i % Cols]))
            .ToArray();
    }

    public int Rows { get; }
    public int Cols { get; }
    public int Cell(int row, int col) => _cells[row, col];

    public string Name => EnvironmentName;
    public string DisplayName => "Delivery gridworld";
    public ActionSpace ActionSpace { get; } = ActionSpace.Discrete("up", "down", "left", "right");
    public int ActionCount => 4;
    public IReadOnlyList<string> ActionNames => ActionSpace.Names;
    public int FeatureSize => 6;
    public IReadOnlyList<string> FeatureNames { get; } = ["gas", "goal", "sheep", "coin", "roadblock", "mud"];

    /// <summary>The six reward features as factors, better in the direction of their true weight.</summary>
    public IReadOnlyList<RewardFactor> Factors { get; } =
    [
        new("gas", "Moves on road, each costing fuel", FactorDirection.LowerIsBetter),
        new("goal", "Reaching the delivery destination", FactorDirection.HigherIsBetter),
        new("sheep", "Running into a sheep", FactorDirection.LowerIsBetter),
        new("coin", "Coins picked up on the way", FactorDirection.HigherIsBetter),
        new("roadblock", "Roadblocks driven through", FactorDirection.LowerIsBetter),
        new("mud", "Moves through mud, slower and costlier than road", FactorDirection.LowerIsBetter),
    ];
    // The human study showed 3-move segments, but partial-return labels on such short segments rarely include a goal
    // or a sheep and leave the reward's level unpinned: the planned policy then circles coins (scaled return about 0.12
    // to 0.19 after 300 oracle labels, seeds 1-5). With 10 moves it passed 0.99 in 4 of 5 seeds (README, "Measured").
    public int DefaultSegmentLength => 10;
    public int MaxEpisodeSteps => 50;
    public int StateCount => Rows * Cols;
    public IReadOnlyList<int> StartStates => _startStates;

    public static bool IsTerminalCell(int code) => code is 1 or 3 or 7 or 9;
    public static bool IsBlockedCell(int code) => code is 2 or 8;
    public static bool IsMudCell(int code) => code is 6 or 7 or 8 or 9 or 10 or 11;

    public int StateIndex(double[] state) => (int)state[0] * Cols + (int)state[1];
    public double[] StateAt(int index) => [index / Cols, index % Cols];

    public double[] SampleStart(Random rng) => StateAt(_startStates[rng.Next(_startStates.Length)]);

    public bool IsTerminal(double[] state) => IsTerminalCell(_cells[(int)state[0], (int)state[1]]);

    public string? ValidateState(double[] state)
    {
        if (state.Length != 2) return $"a state is [row, col]; got {state.Length} numbers";
        if (state.Any(v => v != Math.Floor(v))) return $"[{string.Join(", ", state)}] is not a pair of whole numbers";
        if (state[0] < 0 || state[0] >= Rows || state[1] < 0 || state[1] >= Cols)
            return $"[{state[0]}, {state[1]}] is off the {Rows} x {Cols} board";
        if (IsBlockedCell(_cells[(int)state[0], (int)state[1]]))
            return $"[{state[0]}, {state[1]}] is a house; the agent can never stand there";
        return null;
    }

    public Transition Step(double[] state, double[] action) => Step(state, (int)action[0]);

    public float[] StepFeatures(double[] state, double[] action, double[] next) => StepFeatures(state, (int)action[0], next);

    public double[] StepFactors(double[] state, double[] action, double[] next) =>
        StepFeatures(state, (int)action[0], next).Select(v => (double)v).ToArray();

    public Transition Step(double[] state, int action)
    {
        var next = NextState(state, action);
        var phi = StepFeatures(state, action, next);
        double reward = 0;
        for (int i = 0; i < phi.Length; i++) reward += TrueWeights[i] * phi[i];
        return new Transition(next, reward, IsTerminal(next));
    }

    public double[] NextState(double[] state, int action)
    {
        int r = (int)state[0], c = (int)state[1];
        if (IsTerminalCell(_cells[r, c])) return [r, c];
        var (dr, dc) = Moves[action];
        int nr = r + dr, nc = c + dc;
        if (nr < 0 || nr >= Rows || nc < 0 || nc >= Cols || IsBlockedCell(_cells[nr, nc])) return [r, c];
        return [nr, nc];
    }

    /// <summary>
    /// phi of a move, by the cell entered (METHODS.md): road = gas; coin = gas + coin; roadblock = gas + roadblock;
    /// mud replaces gas; goal and sheep carry only their own feature. A move that leaves the agent in place
    /// (off the board or into a house) costs gas, or mud when it stands in mud. Terminal cells are absorbing with 0.
    /// </summary>
    public float[] StepFeatures(double[] state, int action, double[] next)
    {
        var phi = new float[6];
        int r = (int)state[0], c = (int)state[1];
        int here = _cells[r, c];
        if (IsTerminalCell(here)) return phi;
        bool stayed = (int)next[0] == r && (int)next[1] == c;
        if (stayed)
        {
            if (IsMudCell(here)) phi[5] = 1; else phi[0] = 1;
            return phi;
        }
        int entered = _cells[(int)next[0], (int)next[1]];
        switch (entered)
        {
            case 1 or 7: phi[1] = 1; break;
            case 3 or 9: phi[2] = 1; break;
            default:
                if (IsMudCell(entered)) phi[5] = 1; else phi[0] = 1;
                if (entered is 4 or 10) phi[3] = 1;
                if (entered is 5 or 11) phi[4] = 1;
                break;
        }
        return phi;
    }

    private static int[,] LoadBuiltInBoard()
    {
        using var stream = Assembly.GetExecutingAssembly()
            .GetManifestResourceStream("PreferenceStudio.Environments.Delivery.board.json")
            ?? throw new InvalidOperationException("The built-in delivery board resource is missing from the assembly.");
        using var doc = JsonDocument.Parse(stream);
        var board = doc.RootElement.GetProperty("board");
        int rows = board.GetArrayLength(), cols = board[0].GetArrayLength();
        var cells = new int[rows, cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                cells[r, c] = (int)board[r][c].GetDouble();
        return cells;
    }
}
