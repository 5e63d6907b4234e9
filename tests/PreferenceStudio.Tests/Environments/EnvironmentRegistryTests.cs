using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Control;
using PreferenceStudio.Environments.Rendering;

namespace PreferenceStudio.Tests.Environments;

public class EnvironmentRegistryTests
{
    [Fact]
    public void Every_registered_environment_builds_with_defaults_and_has_a_renderer()
    {
        Assert.Superset(new HashSet<string> { "delivery-gridworld", "pendulum", "mountain-car", "multi-goal-nav" }, EnvironmentRegistry.Names.ToHashSet());
        foreach (var name in EnvironmentRegistry.Names)
        {
            var env = EnvironmentRegistry.Get(name);
            Assert.Equal(name, env.Name);
            Assert.Equal(env.FeatureSize, env.FeatureNames.Count);
            Assert.True(FrameRenderers.TryFor(env, out _), name);
            Assert.InRange(env.DefaultSegmentLength, 1, env.MaxEpisodeSteps);
            var start = env.SampleStart(new Random(1));
            Assert.Null(env.ValidateState(start));
            Assert.Equal(env.FeatureSize, env.StepFeatures(start, env.ActionSpace.Sample(new Random(2)), start).Length);
        }
    }

    [Fact]
    public void Parameters_reach_the_environment()
    {
        var pendulum = Assert.IsType<Pendulum>(EnvironmentRegistry.Create("pendulum", new Dictionary<string, double> { ["gravity"] = 9.81, ["episode_steps"] = 300 }));
        Assert.Equal((9.81, 300), (pendulum.Gravity, pendulum.MaxEpisodeSteps));
        var car = Assert.IsType<MountainCar>(EnvironmentRegistry.Create("mountain-car", new Dictionary<string, double> { ["power"] = 0.002 }));
        Assert.Equal((0.002, 999), (car.Power, car.MaxEpisodeSteps));
        var nav = Assert.IsType<MultiGoalNavigation>(EnvironmentRegistry.Create("multi-goal-nav",
            new Dictionary<string, double> { ["maze"] = 1, ["goal_count"] = 3, ["default_kind"] = 2, ["episode_steps"] = 120 }));
        Assert.Equal(("medium", 3, 2, 120), (nav.Maze.Name, nav.RaterKinds.Count, nav.DefaultKind, nav.MaxEpisodeSteps));
        Assert.Equal(MazeLayout.Large, Assert.IsType<MultiGoalNavigation>(EnvironmentRegistry.Get("multi-goal-nav")).Maze);
    }

    [Theory]
    [InlineData("pendulum", "gravity", 0.0, "gravity must lie between")]
    [InlineData("pendulum", "episode_steps", 150.5, "episode_steps must be a whole number")]
    [InlineData("pendulum", "mass", 2.0, "pendulum has no parameter 'mass'")]
    [InlineData("mountain-car", "power", 1.0, "power must lie between")]
    [InlineData("mountain-car", "episode_steps", 5.0, "episode_steps must lie between")]
    [InlineData("multi-goal-nav", "maze", 3.0, "maze must lie between")]
    [InlineData("multi-goal-nav", "goal_count", 5.0, "goal_count must lie between")]
    [InlineData("multi-goal-nav", "default_kind", 2.0, "default_kind must be below goal_count (2)")]
    public void Bad_parameters_are_refused_under_their_name(string environment, string parameter, double value, string message)
    {
        var values = new Dictionary<string, double> { [parameter] = value };
        var errors = EnvironmentRegistry.Validate(EnvironmentRegistry.Find(environment)!, values);
        Assert.Equal([parameter], errors.Keys);
        Assert.Contains(message, errors[parameter].Single());

        var e = Assert.Throws<EnvironmentParameterException>(() => EnvironmentRegistry.Create(environment, values));
        Assert.Contains(parameter, e.Errors.Keys);
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void Cross_checks_see_the_other_parameters_values()
    {
        var nav = EnvironmentRegistry.Find("multi-goal-nav")!;
        Assert.Empty(EnvironmentRegistry.Validate(nav, new Dictionary<string, double> { ["default_kind"] = 3, ["goal_count"] = 4 }));
        Assert.Equal(["default_kind"], EnvironmentRegistry.Validate(nav, new Dictionary<string, double> { ["default_kind"] = 3, ["goal_count"] = 3 }).Keys);
    }
}
