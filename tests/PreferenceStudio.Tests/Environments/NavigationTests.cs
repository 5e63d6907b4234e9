using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Control;

namespace PreferenceStudio.Tests.Environments;

public class NavigationTests
{
    private const double R = MultiGoalNavigation.Radius;

    /// <summary>
    /// The documented dynamics, written independently of the environment: damped semi-implicit Euler, then each axis
    /// in turn pushed back out of every wall box it overlaps (to the nearest face against the motion).
    /// </summary>
    private static double[] ReferenceStep(MazeLayout maze, double[] s, double ax, double ay)
    {
        ax = Math.Clamp(ax, -1, 1);
        ay = Math.Clamp(ay, -1, 1);
        double vx = Math.Clamp(s[2] + (5 * ax - 2 * s[2]) * 0.1, -2.5, 2.5);
        double vy = Math.Clamp(s[3] + (5 * ay - 2 * s[3]) * 0.1, -2.5, 2.5);
        double x = s[0] + vx * 0.1, y = s[1];
        foreach (var (r, c) in Walls(maze))
            if (Overlaps(x, y, r, c))
            {
                x = vx > 0 ? Math.Min(x, c - R) : Math.Max(x, c + 1 + R);
                vx = 0;
            }
        y += vy * 0.1;
        foreach (var (r, c) in Walls(maze))
            if (Overlaps(x, y, r, c))
            {
                y = vy > 0 ? Math.Min(y, r - R) : Math.Max(y, r + 1 + R);
                vy = 0;
            }
        return [x, y, vx, vy];
    }

    private static bool Overlaps(double x, double y, int r, int c) =>
        x + R > c + 1e-9 && x - R < c + 1 - 1e-9 && y + R > r + 1e-9 && y - R < r + 1 - 1e-9;

    private static IEnumerable<(int, int)> Walls(MazeLayout maze)
    {
        for (int r = 0; r < maze.Rows; r++)
            for (int c = 0; c < maze.Cols; c++)
                if (maze.IsWall(r, c)) yield return (r, c);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 2)]
    [InlineData(2, 3)]
    public void Steps_match_the_documented_dynamics_and_never_enter_a_wall(int maze, int seed)
    {
        var layout = MazeLayout.ByIndex[maze];
        var env = new MultiGoalNavigation(layout);
        var rng = new Random(seed);
        var state = env.SampleStart(rng);
        int bumps = 0;
        for (int t = 0; t < 150; t++)
        {
            // Held for a few steps so the agent gathers speed and hits walls.
            double ax = -1.2 + 2.4 * rng.NextDouble(), ay = -1.2 + 2.4 * rng.NextDouble();
            for (int k = 0; k < 4; k++)
            {
                var expected = ReferenceStep(layout, state, ax, ay);
                var step = env.Step(state, [ax, ay]);
                Assert.Equal(expected, step.Next);
                Assert.Null(env.ValidateState(step.Next));
                Assert.False(step.Terminal);
                if ((step.Next[2] == 0 && Math.Abs(ax) > 0.05) || (step.Next[3] == 0 && Math.Abs(ay) > 0.05)) bumps++;
                state = step.Next;
            }
        }
        Assert.True(bumps > 10, $"only {bumps} wall contacts: the collision code was hardly exercised");
    }

    [Fact]
    public void A_wall_stops_the_agent_flush_against_it()
    {
        var env = new MultiGoalNavigation(MazeLayout.UMaze);
        // Cell (1,1) has a wall above (row 0): pushing up from y = 1.2 at speed stops at y = 1 + radius.
        var step = env.Step([1.5, 1.2, 0, -2], [0, -1]);
        Assert.Equal([1.5, 1 + R, 0, 0], step.Next);
        // Free space: v' = 0.8 v + 0.5 a, p' = p + 0.1 v'.
        var free = env.Step([2.5, 1.5, 1, 0], [1, 0]);
        Assert.Equal(1.3, free.Next[2], 12);
        Assert.Equal(2.63, free.Next[0], 12);
    }

    [Fact]
    public void Kind_rewards_are_the_normalised_maze_distance_plus_a_bonus_near_the_goal()
    {
        // U-maze: goal A at cell (3,1), B at (1,1), joined by a 6-cell path round the U.
        var env = new MultiGoalNavigation(MazeLayout.UMaze);
        double[] atB = [1.5, 1.5, 0, 0], nearA = [1.9, 3.4, 0, 0], corner = [3.5, 2.5, 0, 0];
        Assert.Equal(["goal-a", "goal-b"], env.RaterKinds);
        Assert.Equal(-1.0, env.KindReward(0, atB, [0, 0], atB), 12);
        Assert.Equal(1.0, env.KindReward(1, atB, [0, 0], atB), 12);
        Assert.Equal(1.0, env.KindReward(0, atB, [0, 0], nearA), 12);   // in A's cell and within 0.5 of its centre
        Assert.Equal(-3.0 / 6, env.KindReward(0, atB, [0, 0], corner), 12);
        Assert.Equal(-3.0 / 6, env.KindReward(1, atB, [0, 0], corner), 12);
        Assert.True(env.IsSuccess(0, nearA));
        Assert.False(env.IsSuccess(0, [1.05, 3.05, 0, 0]));  // in A's cell but 0.64 from its centre
        Assert.True(env.IsSuccess(atB) == false && env.IsSuccess(1, atB));
    }

    [Fact]
    public void Step_pays_the_default_kinds_reward()
    {
        var a = new MultiGoalNavigation(MazeLayout.Medium, goalCount: 3, defaultKind: 0);
        var c = new MultiGoalNavigation(MazeLayout.Medium, goalCount: 3, defaultKind: 2);
        double[] s = [4.5, 3.5, 0.5, -1];
        var step = c.Step(s, [0.3, 0.9]);
        Assert.Equal(step.Next, a.Step(s, [0.3, 0.9]).Next);
        Assert.Equal(c.KindReward(2, s, [0.3, 0.9], step.Next), step.Reward);
        Assert.Equal(a.KindReward(0, s, [0.3, 0.9], step.Next), a.Step(s, [0.3, 0.9]).Reward);
        Assert.NotEqual(a.Step(s, [0.3, 0.9]).Reward, step.Reward);
    }

    [Fact]
    public void Segment_factors_are_summed_distances_and_effort()
    {
        var env = new MultiGoalNavigation(MazeLayout.Large);
        IPreferenceEnvironment penv = env;
        var segment = PendulumTests.Rollout(env, 40, seed: 6);
        var factors = penv.SegmentFactors(segment);

        Assert.Equal(["distance-a", "distance-b", "effort"], env.Factors.Select(f => f.Name));
        Assert.All(env.Factors, f => Assert.Equal(FactorDirection.LowerIsBetter, f.Direction));
        for (int k = 0; k < 2; k++)
        {
            double sum = 0;
            for (int t = 1; t <= segment.Length; t++)
            {
                var p = segment.States[t];
                var (row, col) = ((int)Math.Floor(p[1]), (int)Math.Floor(p[0]));
                sum += env.Maze.Distance(k, row, col) / (double)env.Maze.MaxDistance[k];
            }
            Assert.Equal(sum, factors[k], 9);
        }
        Assert.Equal(segment.Actions.Sum(a => a[0] * a[0] + a[1] * a[1]), factors[2], 9);
        Assert.Equal(6, env.FeatureSize);
        Assert.Equal([(float)segment.States[3][0], (float)segment.States[3][1], (float)segment.States[3][2], (float)segment.States[3][3], (float)segment.Actions[3][0], (float)segment.Actions[3][1]],
            env.StepFeatures(segment.States[3], segment.Actions[3], segment.States[4]));
    }

    [Fact]
    public void Every_free_cell_reaches_every_goal_and_starts_avoid_goals()
    {
        foreach (var maze in MazeLayout.ByIndex)
        {
            foreach (var (r, c) in maze.FreeCells)
                for (int k = 0; k < maze.Goals.Count; k++)
                    Assert.True(maze.Distance(k, r, c) >= 0, $"{maze.Name}: ({r}, {c}) cannot reach goal {k}");
            var env = new MultiGoalNavigation(maze, goalCount: 4);
            var rng = new Random(1);
            for (int i = 0; i < 100; i++)
            {
                var s = env.SampleStart(rng);
                Assert.Null(env.ValidateState(s));
                Assert.DoesNotContain(((int)Math.Floor(s[1]), (int)Math.Floor(s[0])), maze.Goals);
            }
        }
        Assert.Equal((9, 12), (MazeLayout.Large.Rows, MazeLayout.Large.Cols));
    }

    [Fact]
    public void Validate_segment_accepts_a_rollout_and_rejects_tampering()
    {
        IPreferenceEnvironment env = new MultiGoalNavigation(MazeLayout.Large);
        var segment = PendulumTests.Rollout(env, 50, seed: 12);
        Assert.Null(env.ValidateSegment(segment));

        var states = segment.States.Select(s => s.ToArray()).ToArray();
        states[10][2] += 1e-12;
        Assert.StartsWith("action 9", env.ValidateSegment(segment with { States = states }));
        Assert.Contains("overlaps a wall", env.ValidateState([0.5, 0.5, 0, 0]));
        Assert.Contains("overlaps a wall", env.ValidateState([1.1, 1.5, 0, 0]));
        Assert.Contains("top speed", env.ValidateState([1.5, 1.5, 3, 0]));
        Assert.Contains("got 2 numbers", env.ValidateState([1.5, 1.5]));
    }
}
