using PreferenceStudio.Environments.Control;
using PreferenceStudio.Environments.Hierarchy;

namespace PreferenceStudio.Tests.Hierarchy;

public sealed class FactorHierarchyTests
{
    private static readonly Pendulum Env = new();

    [Fact]
    public void A_full_ranking_is_valid_and_keeps_its_order_and_margins()
    {
        Assert.Empty(FactorHierarchy.Validate(Env, ["torque", "angle", "velocity"], [0.5, 0, 2]));
        var h = FactorHierarchy.Create(Env, ["torque", "angle", "velocity"], [0.5, 0, 2]);
        Assert.Equal(["torque", "angle", "velocity"], h.Factors);
        Assert.Equal([2, 0, 1], h.Indices);
        Assert.Equal([0.5, 0, 2], h.Margins);
        Assert.Equal(Enumerable.Repeat(FactorHierarchy.DefaultMargin, 3), FactorHierarchy.Parse(Env, " angle, velocity ,torque").Margins);
        Assert.Equal(["angle", "velocity", "torque"], FactorHierarchy.Default(Env).Factors);
    }

    [Fact]
    public void A_missing_factor_is_named()
    {
        var error = Assert.Single(FactorHierarchy.Validate(Env, ["angle", "velocity"], null));
        Assert.Equal("factors", error.Field);
        Assert.Contains("'torque' is missing", error.Message);
        Assert.Equal("factors", Assert.Single(FactorHierarchy.Validate(Env, [], null)).Field);
        Assert.Equal("factors", Assert.Single(FactorHierarchy.Validate(Env, null, null)).Field);
    }

    [Fact]
    public void A_factor_named_twice_is_refused()
    {
        var errors = FactorHierarchy.Validate(Env, ["angle", "angle", "velocity", "torque"], null);
        var error = Assert.Single(errors);
        Assert.Equal("factors", error.Field);
        Assert.Contains("'angle' appears 2 times", error.Message);
    }

    [Fact]
    public void An_unknown_factor_is_named_with_the_known_ones()
    {
        var errors = FactorHierarchy.Validate(Env, ["angle", "velocity", "torque", "speed"], null);
        var error = Assert.Single(errors);
        Assert.Equal("factors", error.Field);
        Assert.Contains("'speed' is not a factor of pendulum", error.Message);
        Assert.Contains("angle, velocity, torque", error.Message);
        // Factor names are case-sensitive, as the stored ranking is.
        Assert.Contains(FactorHierarchy.Validate(Env, ["Angle", "velocity", "torque"], null), e => e.Message.Contains("'Angle' is not a factor"));
    }

    [Theory]
    [InlineData(-0.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_negative_or_non_finite_margin_is_refused_at_its_level(double bad)
    {
        var error = Assert.Single(FactorHierarchy.Validate(Env, ["angle", "velocity", "torque"], [1, bad, 1]));
        Assert.Equal("margins[1]", error.Field);
        Assert.Contains("level 2", error.Message);
        var thrown = Assert.Throws<ArgumentException>(() => FactorHierarchy.Create(Env, ["angle", "velocity", "torque"], [1, bad, 1]));
        Assert.Contains("level 2", thrown.Message);
    }

    [Fact]
    public void The_margin_count_must_match_the_factor_count()
    {
        var error = Assert.Single(FactorHierarchy.Validate(Env, ["angle", "velocity", "torque"], [1, 1]));
        Assert.Equal("margins", error.Field);
        Assert.Contains("(3), got 2", error.Message);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var errors = FactorHierarchy.Validate(Env, ["angle", "angle", "speed"], [1, -1]);
        Assert.Contains(errors, e => e.Field == "factors" && e.Message.Contains("'speed'"));
        Assert.Contains(errors, e => e.Field == "factors" && e.Message.Contains("appears 2 times"));
        Assert.Contains(errors, e => e.Field == "factors" && e.Message.Contains("'velocity' is missing"));
        Assert.Contains(errors, e => e.Field == "factors" && e.Message.Contains("'torque' is missing"));
        Assert.Contains(errors, e => e.Field == "margins");
        Assert.Contains(errors, e => e.Field == "margins[1]");
    }
}
