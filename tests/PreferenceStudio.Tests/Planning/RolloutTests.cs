using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Environments.Planning;

namespace PreferenceStudio.Tests.Planning;

public class RolloutTests
{
    private static readonly DeliveryGridworld Env = DeliveryGridworld.Standard;

    [Fact]
    public void Greedy_rollouts_of_the_optimal_policy_reach_the_goal_and_earn_V_star()
    {
        var solved = ValueIteration.Solve(Env, (s, a) => Env.Step(Env.StateAt(s), a).Reward);
        var trajectories = Rollouts.Collect(Env, solved.Policy, 20, 0.0, new Random(3));
        Assert.Equal(20, trajectories.Count);
        foreach (var t in trajectories)
        {
            Assert.Null(((IPreferenceEnvironment)Env).ValidateSegment(t));
            Assert.True(Env.IsTerminal(t.States[^1]));
            Assert.Equal(solved.Values[Env.StateIndex(t.States[0])], ((IPreferenceEnvironment)Env).TrueReturn(t), 9);
        }
    }

    [Fact]
    public void Random_rollouts_are_seeded_and_stop_at_the_step_limit()
    {
        var a = Rollouts.CollectRandom(Env, 30, new Random(7));
        var b = Rollouts.CollectRandom(Env, 30, new Random(7));
        Assert.Equal(a, b);
        Assert.All(a, t => Assert.True(t.Length <= Env.MaxEpisodeSteps));
        Assert.All(a, t => Assert.True(Env.IsTerminal(t.States[^1]) || t.Length == Env.MaxEpisodeSteps));
        Assert.Contains(a, t => t.Length == Env.MaxEpisodeSteps);
    }

    [Fact]
    public void Cutter_keeps_a_short_tail_only_after_a_terminal()
    {
        var states = Enumerable.Range(0, 8).Select(i => new double[] { i, 0 }).ToArray();
        var actions = Enumerable.Range(0, 7).ToArray();
        var trajectory = Segment.Discrete(states, actions);

        var terminal = SegmentCutter.Cut(trajectory, 3, endedAtTerminal: true);
        Assert.Equal([3, 3, 1], terminal.Select(s => s.Length));
        Assert.Equal([6, 0], terminal[2].States[0]);
        Assert.Equal([7, 0], terminal[2].States[^1]);
        Assert.Equal([3, 4, 5], terminal[1].ActionIndices());

        var truncated = SegmentCutter.Cut(trajectory, 3, endedAtTerminal: false);
        Assert.Equal([3, 3], truncated.Select(s => s.Length));
    }

    [Fact]
    public void Cut_segments_are_valid_segments_of_the_environment()
    {
        var pieces = Rollouts.CollectRandom(Env, 10, new Random(1)).SelectMany(t => SegmentCutter.Cut(Env, t, 3)).ToList();
        Assert.NotEmpty(pieces);
        Assert.All(pieces, p => Assert.Null(((IPreferenceEnvironment)Env).ValidateSegment(p)));
        Assert.All(pieces, p => Assert.True(p.Length == 3 || Env.IsTerminal(p.States[^1])));
    }
}
