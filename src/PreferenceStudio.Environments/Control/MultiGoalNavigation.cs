using System.Globalization;

namespace PreferenceStudio.Environments.Control;

/// <summary>
/// Multi-goal navigation (METHODS.md section 3, VPL's control task): a point mass in a D4RL maze2d maze with two to
/// four goals, one rater kind per goal.
/// <para>
/// State = observation = [x, y, vx, vy] in cell units (cell (row, col) covers x in [col, col+1], y in [row, row+1];
/// y grows downward). Action [fx, fy] in [-1, 1]^2 (clipped). One step, dt = 0.1, semi-implicit Euler with linear damping:
///   v' = clip(v + (Acceleration a - Damping v) dt, -TopSpeed, TopSpeed) per axis  (= 0.8 v + 0.5 a; top speed 2.5 cells/s),
///   then x moves by vx' dt and, if the agent (a square of half-width <see cref="Radius"/>) would overlap a wall, stops
///   flush against it with vx' = 0; then the same for y. At most 0.25 cells per step, so walls cannot be tunnelled.
/// </para>
/// <para>
/// Reward of kind k for s --a--> s' (<see cref="KindReward"/>): -D_k(cell(s')) / max D_k + (1 if |p' - g_k| &lt;= 0.5 else 0),
/// where D_k is the BFS distance in cells from a cell to goal k's cell and max D_k its largest value over the maze,
/// so the value part lies in [-1, 0]. <see cref="Step"/> pays the reward of <see cref="DefaultKind"/>.
/// Success (<see cref="IsSuccess(int, double[])"/>): within 0.5 of the goal's cell centre. Never terminal: a goal
/// one kind wants is just a place for another, so episodes run <see cref="MaxEpisodeSteps"/> steps.
/// </para>
/// </summary>
public sealed class MultiGoalNavigation : IObservedEnvironment, IGoalEnvironment, IRaterKinds
{
    public const string EnvironmentName = "multi-goal-nav";
    public const double Dt = 0.1, Acceleration = 5, Damping = 2, Radius = 0.15, SuccessRadius = 0.5, GoalBonus = 1;
    public const int DefaultEpisodeSteps = 300, MaxGoals = 4;

    /// <summary>Acceleration / Damping: the speed full force settles at.</summary>
    public const double TopSpeed = Acceleration / Damping;

    // Tolerance for "touching is not overlapping", so a position clamped flush against a wall stays legal after rounding.
    private const double Touch = 1e-9;
    private const double StartJitter = 0.25;

    private readonly (int Row, int Col)[] _starts;

    public MultiGoalNavigation(MazeLayout maze, int goalCount = 2, int defaultKind = 0, int episodeSteps = DefaultEpisodeSteps)
    {
        if (goalCount < 1 || goalCount > maze.Goals.Count)
            throw new ArgumentOutOfRangeException(nameof(goalCount), goalCount, $"Maze '{maze.Name}' has goals 1..{maze.Goals.Count}.");
        if (defaultKind < 0 || defaultKind >= goalCount)
            throw new ArgumentOutOfRangeException(nameof(defaultKind), defaultKind, $"The default kind must be one of 0..{goalCount - 1}.");
        if (episodeSteps < 1) throw new ArgumentOutOfRangeException(nameof(episodeSteps), episodeSteps, "An episode needs at least one step.");
        Maze = maze;
        GoalCount = goalCount;
        DefaultKind = defaultKind;
        MaxEpisodeSteps = episodeSteps;
        var goals = maze.Goals.Take(goalCount).ToHashSet();
        _starts = maze.FreeCells.Where(c => !goals.Contains(c)).ToArray();
        RaterKinds = Enumerable.Range(0, goalCount).Select(k => $"goal-{KindLetter(k)}").ToArray();
        Factors =
        [
            .. Enumerable.Range(0, goalCount).Select(k => new RewardFactor($"distance-{KindLetter(k)}",
                $"Shortest-path distance to goal {char.ToUpperInvariant(KindLetter(k))}, as a fraction of the longest in the maze", FactorDirection.LowerIsBetter)),
            new RewardFactor("effort", "Squared force: how hard the agent pushes", FactorDirection.LowerIsBetter),
        ];
    }

    public MazeLayout Maze { get; }
    public int GoalCount { get; }

    /// <summary>The rater kind whose reward <see cref="Step"/> pays and whose goal <see cref="IsSuccess(double[])"/> checks.</summary>
    public int DefaultKind { get; }

    public string Name => EnvironmentName;
    public string DisplayName => "Multi-goal navigation";
    public ActionSpace ActionSpace { get; } = ActionSpace.Continuous([-1, -1], [1, 1], "fx", "fy");

    public int ObservationSize => 4;
    public IReadOnlyList<string> ObservationNames { get; } = ["x", "y", "vx", "vy"];

    /// <summary>Observation of s then the force applied: (x, y, vx, vy, fx, fy).</summary>
    public int FeatureSize => 6;
    public IReadOnlyList<string> FeatureNames { get; } = ["x", "y", "vx", "vy", "fx", "fy"];

    /// <summary>distance-a, distance-b, ... (normalised BFS distance of s' to each goal), then effort (|a|^2).</summary>
    public IReadOnlyList<RewardFactor> Factors { get; }

    public IReadOnlyList<string> RaterKinds { get; }

    // 50 steps move the agent up to 12 cells: enough to show which way it heads at a junction (what tells the
    // kinds apart) without clips growing past three seconds at 20 fps.
    public int DefaultSegmentLength => Math.Min(50, MaxEpisodeSteps);

    public int MaxEpisodeSteps { get; }

    /// <summary>Centre of goal k's cell, (x, y).</summary>
    public (double X, double Y) Goal(int kind) => (Maze.Goals[kind].Col + 0.5, Maze.Goals[kind].Row + 0.5);

    /// <summary>A free non-goal cell, uniformly, with the position jittered up to 0.25 from its centre; at rest.</summary>
    public double[] SampleStart(Random rng)
    {
        var (row, col) = _starts[rng.Next(_starts.Length)];
        double x = col + 0.5 + StartJitter * (2 * rng.NextDouble() - 1);
        double y = row + 0.5 + StartJitter * (2 * rng.NextDouble() - 1);
        return [x, y, 0, 0];
    }

    public bool IsTerminal(double[] state) => false;

    public bool IsSuccess(double[] state) => IsSuccess(DefaultKind, state);

    public bool IsSuccess(int kind, double[] state)
    {
        var (gx, gy) = Goal(kind);
        double dx = state[0] - gx, dy = state[1] - gy;
        return dx * dx + dy * dy <= SuccessRadius * SuccessRadius;
    }

    public Transition Step(double[] state, double[] action)
    {
        double x = state[0], y = state[1];
        double ax = Math.Clamp(action[0], -1, 1), ay = Math.Clamp(action[1], -1, 1);
        double vx = Math.Clamp(state[2] + (Acceleration * ax - Damping * state[2]) * Dt, -TopSpeed, TopSpeed);
        double vy = Math.Clamp(state[3] + (Acceleration * ay - Damping * state[3]) * Dt, -TopSpeed, TopSpeed);

        double nx = x + vx * Dt;
        var (r0, r1) = Span(y);
        var (c0, c1) = Span(nx);
        if (vx > 0)
        {
            for (int c = c0; c <= c1; c++)
                if (ColumnBlocked(c, r0, r1)) { nx = c - Radius; vx = 0; break; }
        }
        else if (vx < 0)
        {
            for (int c = c1; c >= c0; c--)
                if (ColumnBlocked(c, r0, r1)) { nx = c + 1 + Radius; vx = 0; break; }
        }

        double ny = y + vy * Dt;
        (c0, c1) = Span(nx);
        (r0, r1) = Span(ny);
        if (vy > 0)
        {
            for (int r = r0; r <= r1; r++)
                if (RowBlocked(r, c0, c1)) { ny = r - Radius; vy = 0; break; }
        }
        else if (vy < 0)
        {
            for (int r = r1; r >= r0; r--)
                if (RowBlocked(r, c0, c1)) { ny = r + 1 + Radius; vy = 0; break; }
        }

        double[] next = [nx, ny, vx, vy];
        return new Transition(next, KindReward(DefaultKind, state, action, next), false);
    }

    /// <summary>-D_k(cell(s')) / max D_k, plus <see cref="GoalBonus"/> within 0.5 of goal k (see the class summary).</summary>
    public double KindReward(int kind, double[] state, double[] action, double[] next) =>
        -NormalisedDistance(kind, next) + (IsSuccess(kind, next) ? GoalBonus : 0);

    /// <summary>BFS distance from the cell holding the agent's centre to goal k's cell, divided by the maze's largest; in [0, 1].</summary>
    public double NormalisedDistance(int kind, double[] state)
    {
        int row = Math.Clamp((int)Math.Floor(state[1]), 0, Maze.Rows - 1);
        int col = Math.Clamp((int)Math.Floor(state[0]), 0, Maze.Cols - 1);
        int d = Maze.Distance(kind, row, col);
        return d < 0 ? 1 : d / (double)Maze.MaxDistance[kind];
    }

    public float[] Observe(double[] state) => [(float)state[0], (float)state[1], (float)state[2], (float)state[3]];

    public float[] StepFeatures(double[] state, double[] action, double[] next) =>
        ControlFeatures.ObservationAndAction(Observe(state), action, ActionSpace);

    public double[] StepFactors(double[] state, double[] action, double[] next)
    {
        var f = new double[GoalCount + 1];
        for (int k = 0; k < GoalCount; k++) f[k] = NormalisedDistance(k, next);
        double ax = Math.Clamp(action[0], -1, 1), ay = Math.Clamp(action[1], -1, 1);
        f[GoalCount] = ax * ax + ay * ay;
        return f;
    }

    public string? ValidateState(double[] state)
    {
        if (ControlFeatures.FiniteVector(state, 4, "x, y, vx, vy") is { } error) return error;
        double x = state[0], y = state[1];
        if (x < Radius || x > Maze.Cols - Radius || y < Radius || y > Maze.Rows - Radius)
            return Invariant($"({x}, {y}) is outside the {Maze.Rows} x {Maze.Cols} maze");
        var (r0, r1) = Span(y);
        var (c0, c1) = Span(x);
        for (int r = r0; r <= r1; r++)
            if (RowBlocked(r, c0, c1)) return Invariant($"the agent at ({x}, {y}) overlaps a wall");
        if (Math.Abs(state[2]) > TopSpeed || Math.Abs(state[3]) > TopSpeed)
            return Invariant($"velocity ({state[2]}, {state[3]}) exceeds the top speed {TopSpeed} per axis");
        return null;
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>First and last cell index the agent's extent [centre - r, centre + r] overlaps (touching excluded).</summary>
    private static (int Lo, int Hi) Span(double centre) =>
        ((int)Math.Floor(centre - Radius + Touch), (int)Math.Ceiling(centre + Radius - Touch) - 1);

    private bool ColumnBlocked(int col, int r0, int r1)
    {
        for (int r = r0; r <= r1; r++) if (Maze.IsWall(r, col)) return true;
        return false;
    }

    private bool RowBlocked(int row, int c0, int c1)
    {
        for (int c = c0; c <= c1; c++) if (Maze.IsWall(row, c)) return true;
        return false;
    }

    private static char KindLetter(int k) => (char)('a' + k);
}
