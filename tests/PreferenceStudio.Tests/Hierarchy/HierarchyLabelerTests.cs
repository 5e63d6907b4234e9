using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Control;
using PreferenceStudio.Environments.Hierarchy;

namespace PreferenceStudio.Tests.Hierarchy;

public sealed class HierarchyLabelerTests
{
    private static readonly Pendulum Env = new();

    /// <summary>A pendulum segment of one step whose factor values are exactly (angle^2, velocity^2, torque^2) = given.</summary>
    private static Segment Step(double angle, double velocity, double torque) =>
        new([[angle, velocity], [angle, velocity]], [[torque]]);

    [Fact]
    public void Undecided_pairs_are_dropped_and_every_label_is_the_rules_verdict()
    {
        // Four segments alike in every factor and two that differ clearly: only pairs with one of those two decide.
        List<Segment> segments = [Step(0.1, 0.2, 0.3), Step(0.1, 0.2, 0.3), Step(0.1, 0.2, 0.3), Step(0.1, 0.2, 0.3), Step(3, 0.2, 0.3), Step(0.1, 2, 0.3)];
        var hierarchy = FactorHierarchy.Parse(Env, "angle,velocity,torque", [0, 0, 0]);
        var labels = HierarchyLabeler.Label(Env, segments, hierarchy, 200, new Random(3));

        Assert.InRange(labels.Count, 1, 199);
        Assert.All(labels, l => Assert.True(l.Left >= 4 || l.Right >= 4, $"pair {l.Left}-{l.Right} of identical segments was labelled"));
        Assert.All(labels, l => Assert.NotEqual(l.Left, l.Right));
        var factors = segments.Select(((IPreferenceEnvironment)Env).SegmentFactors).ToList();
        var spreads = HeronRule.Spreads(factors);
        Assert.All(labels, l => Assert.Equal(HeronRule.Decide(Env, hierarchy, factors[l.Left], factors[l.Right], spreads), new HeronVerdict(l.Choice, l.Level)));
        // Segment 4 is the worst by the top factor: it loses at level 0 every time it appears.
        Assert.All(labels.Where(l => l.Left == 4 || l.Right == 4), l =>
        {
            Assert.Equal(0, l.Level);
            Assert.Equal(l.Left == 4 ? PreferenceChoice.Right : PreferenceChoice.Left, l.Choice);
        });
        // Segment 5 against the alike ones ties on angle and loses on velocity.
        Assert.Contains(labels, l => l.Level == 1 && (l.Left == 5 || l.Right == 5) && l.Left != 4 && l.Right != 4);
    }

    [Fact]
    public void The_same_seed_gives_the_same_labels()
    {
        var rng = new Random(8);
        var segments = Enumerable.Range(0, 40).Select(_ => Step(rng.NextDouble() * 3, rng.NextDouble() * 8, rng.NextDouble() * 2)).ToList();
        var hierarchy = FactorHierarchy.Parse(Env, "angle,velocity,torque", [1, 1, 1]);
        var a = HierarchyLabeler.Label(Env, segments, hierarchy, 300, new Random(5));
        var b = HierarchyLabeler.Label(Env, segments, hierarchy, 300, new Random(5));
        var c = HierarchyLabeler.Label(Env, segments, hierarchy, 300, new Random(6));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        // Margin 1 at every level leaves some random pairs undecided.
        Assert.InRange(a.Count, 100, 299);
        Assert.Contains(a, l => l.Level > 0);
    }

    [Fact]
    public void Pieces_cut_segments_into_steps_and_keep_short_ones_whole()
    {
        var pendulum = new PreferenceStudio.Environments.Control.Pendulum();
        var rng = new Random(3);
        var states = new List<double[]> { pendulum.SampleStart(rng) };
        var actions = new List<double[]>();
        for (int t = 0; t < 7; t++)
        {
            actions.Add([rng.NextDouble() * 4 - 2]);
            states.Add(pendulum.Step(states[^1], actions[^1]).Next);
        }
        var seven = new Segment(states.ToArray(), actions.ToArray());
        var two = new Segment(states.Take(3).ToArray(), actions.Take(2).ToArray());

        var pieces = HierarchyLabeler.Pieces(pendulum, [seven, two], 3);

        // 7 steps give pieces of 3 and 3 (the 1-step tail is dropped, as rollouts are cut); the 2-step segment stays whole.
        Assert.Equal([3, 3, 2], pieces.Select(p => p.Length));
        Assert.Equal(seven.States[3], pieces[1].States[0]);
        Assert.Equal(7, HierarchyLabeler.Pieces(pendulum, [seven], 1).Count);
    }

    [Fact]
    public void Fewer_than_two_segments_give_no_labels()
    {
        var hierarchy = FactorHierarchy.Default(Env);
        Assert.Empty(HierarchyLabeler.Label(Env, [Step(1, 1, 1)], hierarchy, 10, new Random(1)));
        Assert.Empty(HierarchyLabeler.Label(Env, [], hierarchy, 10, new Random(1)));
    }
}
