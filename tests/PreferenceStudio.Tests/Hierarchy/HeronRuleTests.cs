using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Control;
using PreferenceStudio.Environments.Hierarchy;

namespace PreferenceStudio.Tests.Hierarchy;

/// <summary>The HERON rule on hand-made factor vectors (Pendulum: angle, velocity, torque, all lower-is-better).</summary>
public sealed class HeronRuleTests
{
    private static readonly Pendulum Pendulum = new();
    private static readonly MountainCar Car = new();
    private static readonly double[] UnitSpreads = [1, 1, 1];

    private static FactorHierarchy Ranking(IPreferenceEnvironment env, string ranking, params double[] margins) =>
        FactorHierarchy.Parse(env, ranking, margins.Length == 0 ? null : margins);

    [Fact]
    public void The_top_level_decides_when_its_difference_exceeds_margin_times_spread()
    {
        var h = Ranking(Pendulum, "angle,velocity,torque", 1, 1, 1);
        // Angle differs by 2.5 > 1 * 2 (its spread): the lower angle wins, whatever the lower levels say.
        var verdict = HeronRule.Decide(Pendulum, h, [5.0, 0, 0], [2.5, 9, 9], [2, 1, 1]);
        Assert.Equal(new HeronVerdict(PreferenceChoice.Right, 0), verdict);
        Assert.Equal(new HeronVerdict(PreferenceChoice.Left, 0), HeronRule.Decide(Pendulum, h, [2.5, 9, 9], [5.0, 0, 0], [2, 1, 1]));
    }

    [Fact]
    public void A_difference_within_the_margin_falls_to_the_next_level()
    {
        var h = Ranking(Pendulum, "angle,velocity,torque", 1, 1, 1);
        // Angle differs by 1.5, within 1 * 2: velocity decides (3 vs 1, spread 1), against the angle's leaning.
        Assert.Equal(new HeronVerdict(PreferenceChoice.Left, 1), HeronRule.Decide(Pendulum, h, [5.0, 1, 0], [3.5, 3, 0], [2, 1, 1]));
        // A difference exactly at the margin does not decide either.
        Assert.Equal(new HeronVerdict(PreferenceChoice.Right, 2), HeronRule.Decide(Pendulum, h, [5.0, 1, 4], [3.0, 2, 0], [2, 1, 1]));
        // A wider margin at the top hands a clear angle difference down too.
        var wide = Ranking(Pendulum, "angle,velocity,torque", 3, 1, 1);
        Assert.Equal(new HeronVerdict(PreferenceChoice.Left, 1), HeronRule.Decide(Pendulum, wide, [5.0, 1, 0], [0.5, 3, 0], [2, 1, 1]));
    }

    [Fact]
    public void The_ranking_order_not_the_environment_order_decides()
    {
        double[] left = [1, 5, 0], right = [5, 1, 0];
        Assert.Equal(PreferenceChoice.Left, HeronRule.Decide(Pendulum, Ranking(Pendulum, "angle,velocity,torque"), left, right, UnitSpreads)!.Value.Choice);
        var byVelocity = HeronRule.Decide(Pendulum, Ranking(Pendulum, "velocity,angle,torque"), left, right, UnitSpreads);
        Assert.Equal(new HeronVerdict(PreferenceChoice.Right, 0), byVelocity);
    }

    [Fact]
    public void A_pair_no_level_decides_gets_no_verdict()
    {
        var h = Ranking(Pendulum, "angle,velocity,torque", 1, 1, 1);
        Assert.Null(HeronRule.Decide(Pendulum, h, [1.0, 2, 3], [1.5, 1.2, 3.9], UnitSpreads));
        Assert.Null(HeronRule.Decide(Pendulum, h, [1.0, 2, 3], [1.0, 2, 3], UnitSpreads));
        // Equal vectors give no verdict even with margin 0: a tie is not a preference.
        Assert.Null(HeronRule.Decide(Pendulum, Ranking(Pendulum, "angle,velocity,torque", 0, 0, 0), [1.0, 2, 3], [1.0, 2, 3], UnitSpreads));
    }

    [Fact]
    public void Margin_zero_lets_any_nonzero_difference_decide()
    {
        var h = Ranking(Pendulum, "angle,velocity,torque", 0, 0, 0);
        Assert.Equal(new HeronVerdict(PreferenceChoice.Left, 0), HeronRule.Decide(Pendulum, h, [1.0, 9, 9], [1.000001, 0, 0], UnitSpreads));
        Assert.Equal(new HeronVerdict(PreferenceChoice.Right, 1), HeronRule.Decide(Pendulum, h, [1.0, 9, 9], [1.0, 8.999, 10], UnitSpreads));
        // With margin 1 the same tiny differences fall through and the pair is dropped.
        Assert.Null(HeronRule.Decide(Pendulum, Ranking(Pendulum, "angle,velocity,torque", 1, 1, 1), [1.0, 9, 9], [1.000001, 8.999, 9], UnitSpreads));
    }

    [Fact]
    public void A_factor_with_no_spread_decides_on_any_difference()
    {
        var h = Ranking(Pendulum, "angle,velocity,torque");
        Assert.Equal(new HeronVerdict(PreferenceChoice.Right, 0), HeronRule.Decide(Pendulum, h, [1.0, 0, 0], [0.5, 0, 0], [0, 1, 1]));
    }

    [Fact]
    public void Higher_is_better_factors_prefer_the_larger_value()
    {
        // Mountain car: goal (higher is better), then energy (lower is better).
        var h = Ranking(Car, "goal,energy", 0, 1);
        Assert.Equal(new HeronVerdict(PreferenceChoice.Right, 0), HeronRule.Decide(Car, h, [0, 1], [1, 30], [0.3, 2]));
        Assert.Equal(new HeronVerdict(PreferenceChoice.Left, 0), HeronRule.Decide(Car, h, [1, 30], [0, 1], [0.3, 2]));
        // Neither reached the goal: the one that spent less wins at level 1.
        Assert.Equal(new HeronVerdict(PreferenceChoice.Left, 1), HeronRule.Decide(Car, h, [0, 1], [0, 30], [0.3, 2]));
        // Energy first: the same pair now goes to the thrifty side although it missed the goal.
        Assert.Equal(new HeronVerdict(PreferenceChoice.Left, 0), HeronRule.Decide(Car, Ranking(Car, "energy,goal", 1, 0), [0, 1], [1, 30], [0.3, 2]));
    }

    [Fact]
    public void Spreads_are_population_standard_deviations_per_factor()
    {
        var spreads = HeronRule.Spreads([[1.0, 10, 0], [3.0, 10, 0], [5.0, 10, 6]]);
        Assert.Equal(Math.Sqrt(8.0 / 3), spreads[0], 12);
        Assert.Equal(0, spreads[1]);
        Assert.Equal(Math.Sqrt(8.0), spreads[2], 12);
        Assert.Empty(HeronRule.Spreads([]));
    }
}
