using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Control;

namespace PreferenceStudio.Tests.Environments;

public class MountainCarTests
{
    /// <summary>Gymnasium's MountainCarContinuous-v0 step, transcribed (continuous_mountain_car.py), in doubles.</summary>
    private static (double Position, double Velocity, double Reward, bool Terminated) GymnasiumStep(double position, double velocity, double action, double power)
    {
        const double minAction = -1.0, maxAction = 1.0, minPosition = -1.2, maxPosition = 0.6, maxSpeed = 0.07;
        const double goalPosition = 0.45, goalVelocity = 0;
        double force = Math.Min(Math.Max(action, minAction), maxAction);
        velocity += force * power - 0.0025 * Math.Cos(3 * position);
        if (velocity > maxSpeed) velocity = maxSpeed;
        if (velocity < -maxSpeed) velocity = -maxSpeed;
        position += velocity;
        if (position > maxPosition) position = maxPosition;
        if (position < minPosition) position = minPosition;
        if (position == minPosition && velocity < 0) velocity = 0;
        bool terminated = position >= goalPosition && velocity >= goalVelocity;
        double reward = 0;
        if (terminated) reward = 100.0;
        reward -= Math.Pow(action, 2) * 0.1;
        return (position, velocity, reward, terminated);
    }

    [Theory]
    [InlineData(0.0015, 1)]
    [InlineData(0.0015, 2)]
    [InlineData(0.004, 3)]
    public void Steps_match_gymnasium_over_a_hundred_random_actions(double power, int seed)
    {
        var env = new MountainCar(power);
        var rng = new Random(seed);
        var state = env.SampleStart(rng);
        double p = state[0], v = state[1];
        for (int t = 0; t < 100 && !env.IsTerminal(state); t++)
        {
            double a = -1.2 + 2.4 * rng.NextDouble();
            var step = env.Step(state, [a]);
            (p, v, double reward, bool terminated) = GymnasiumStep(p, v, a, power);
            Assert.Equal(p, step.Next[0]);
            Assert.Equal(v, step.Next[1]);
            Assert.Equal(reward, step.Reward, 12);
            Assert.Equal(terminated, step.Terminal);
            state = step.Next;
        }
    }

    [Fact]
    public void Pumping_energy_reaches_the_flag_exactly_as_gymnasium_does()
    {
        // Push the way the car moves: the classic energy-pumping controller solves the task.
        var env = new MountainCar();
        var state = env.SampleStart(new Random(11));
        var states = new List<double[]> { state };
        var actions = new List<double[]>();
        double p = state[0], v = state[1];
        bool terminated = false;
        while (!terminated && actions.Count < env.MaxEpisodeSteps)
        {
            double a = state[1] < 0 ? -1 : 1;
            var step = env.Step(state, [a]);
            (p, v, _, terminated) = GymnasiumStep(p, v, a, MountainCar.DefaultPower);
            Assert.Equal([p, v], step.Next);
            Assert.Equal(terminated, step.Terminal);
            actions.Add([a]);
            states.Add(state = step.Next);
        }

        IPreferenceEnvironment penv = env;
        var episode = new Segment(states.ToArray(), actions.ToArray());
        Assert.True(terminated, $"not at the flag after {actions.Count} steps");
        Assert.True(env.IsSuccess(states[^1]));
        Assert.True(((IGoalEnvironment)env).ReachedGoal(episode));
        Assert.False(((IGoalEnvironment)env).ReachedGoal(new Segment(states.Take(states.Count - 1).ToArray(), actions.Take(actions.Count - 1).ToArray())));
        Assert.Null(penv.ValidateSegment(episode));
        var factors = penv.SegmentFactors(episode);
        Assert.Equal(new double[] { 1, actions.Count }, factors);
        Assert.Equal(100 - 0.1 * actions.Count, penv.TrueReturn(episode), 9);
    }

    [Fact]
    public void The_left_wall_stops_the_car()
    {
        var step = new MountainCar().Step([-1.19, -0.05], [-1]);
        Assert.Equal([-1.2, 0.0], step.Next);
        Assert.Equal(-0.1, step.Reward, 12);
    }

    [Fact]
    public void The_flag_pays_once_and_then_absorbs()
    {
        var env = new MountainCar();
        var arrive = env.Step([0.44, 0.03], [0.5]);
        Assert.True(arrive.Terminal);
        Assert.Equal(100 - 0.1 * 0.25, arrive.Reward, 12);
        Assert.Equal([1.0, 0.25], env.StepFactors([0.44, 0.03], [0.5], arrive.Next));

        var after = env.Step(arrive.Next, [1]);
        Assert.Equal(arrive.Next, after.Next);
        Assert.Equal(0, after.Reward);
        Assert.Equal([0.0, 0.0], env.StepFactors(arrive.Next, [1], after.Next));
        // Past the flag position but rolling back is not the goal.
        Assert.False(env.IsTerminal([0.5, -0.01]));
    }

    [Fact]
    public void Starts_are_seeded_at_rest_in_the_valley()
    {
        var env = new MountainCar();
        var a = new Random(3);
        var b = new Random(3);
        for (int i = 0; i < 200; i++)
        {
            var s = env.SampleStart(a);
            Assert.Equal(s, env.SampleStart(b));
            Assert.InRange(s[0], -0.6, -0.4);
            Assert.Equal(0, s[1]);
        }
    }

    [Fact]
    public void Features_are_position_velocity_and_force()
    {
        var env = new MountainCar();
        var f = env.StepFeatures([-0.5, 0.01], [-0.75], [0, 0]);
        Assert.Equal([-0.5f, 0.01f, -0.75f], f);
        Assert.Equal(env.FeatureSize, env.FeatureNames.Count);
        Assert.Equal(["goal", "energy"], env.Factors.Select(x => x.Name));
        Assert.Equal([FactorDirection.HigherIsBetter, FactorDirection.LowerIsBetter], env.Factors.Select(x => x.Direction));
    }

    [Fact]
    public void Validate_segment_accepts_a_rollout_and_rejects_tampering()
    {
        IPreferenceEnvironment env = new MountainCar();
        var segment = PendulumTests.Rollout(env, 50, seed: 2);
        Assert.Null(env.ValidateSegment(segment));

        var states = segment.States.Select(s => s.ToArray()).ToArray();
        states[31][0] += 1e-12;
        Assert.StartsWith("action 30", env.ValidateSegment(segment with { States = states }));
        Assert.Contains("track runs from -1.2", env.ValidateState([-1.3, 0]));
        Assert.Contains("faster than 0.07", env.ValidateState([0, 0.08]));
        Assert.Contains("got 1 numbers", env.ValidateState([0]));
    }
}
