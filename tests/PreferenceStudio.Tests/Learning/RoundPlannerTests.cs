using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.Learning.Loop;

namespace PreferenceStudio.Tests.Learning;

public sealed class RoundPlannerTests
{
    private static readonly DeliveryGridworld Env = DeliveryGridworld.Standard;

    [Fact]
    public void The_same_seed_plans_the_same_round()
    {
        var a = RoundPlanner.Plan(Env, (int[]?)null, new RoundPlanSettings(3, 40), new Random(5));
        var b = RoundPlanner.Plan(Env, (int[]?)null, new RoundPlanSettings(3, 40), new Random(5));
        Assert.Equal(a.Segments.Select(s => s.Segment), b.Segments.Select(s => s.Segment));
        Assert.Equal(a.Pairs, b.Pairs);
        var c = RoundPlanner.Plan(Env, (int[]?)null, new RoundPlanSettings(3, 40), new Random(6));
        Assert.NotEqual(a.Segments.Select(s => s.Segment), c.Segments.Select(s => s.Segment));
    }

    [Fact]
    public void Pairs_are_two_different_legal_segments_with_both_splits_present()
    {
        var plan = RoundPlanner.Plan(Env, (int[]?)null, new RoundPlanSettings(4, 50), new Random(1));
        Assert.Equal(50, plan.Pairs.Count);
        Assert.All(plan.Pairs, p => Assert.NotEqual(p.Left, p.Right));
        Assert.Contains(plan.Pairs, p => p.HeldOut);
        Assert.Contains(plan.Pairs, p => !p.HeldOut);
        Assert.Equal(plan.Segments.Count, plan.Segments.Select(s => s.Segment).Distinct().Count());
        foreach (var planned in plan.Segments)
        {
            Assert.Null(((IPreferenceEnvironment)Env).ValidateSegment(planned.Segment));
            // Full length, or shorter only when the episode ended in a terminal cell.
            if (planned.Segment.Length != 4) Assert.True(Env.IsTerminal(planned.Segment.States[^1]));
            // Each segment is the piece of its episode that starts at its recorded step.
            var episode = plan.Episodes[planned.Episode];
            Assert.Equal(episode.States[planned.StartStep], planned.Segment.States[0]);
        }
    }

    [Fact]
    public void Without_exploration_the_segments_follow_the_policy()
    {
        var optimal = ValueIteration.Solve(Env, (s, a) => Env.Step(Env.StateAt(s), a).Reward, 1.0, Env.MaxEpisodeSteps).Policy;
        var plan = RoundPlanner.Plan(Env, optimal, new RoundPlanSettings(3, 20, Epsilon: 0), new Random(2));
        foreach (var planned in plan.Segments)
            for (int t = 0; t < planned.Segment.Length; t++)
                Assert.Equal(optimal[Env.StateIndex(planned.Segment.States[t])], planned.Segment.ActionIndex(t));
    }
}
