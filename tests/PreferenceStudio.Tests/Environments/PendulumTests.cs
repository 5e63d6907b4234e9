using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Control;

namespace PreferenceStudio.Tests.Environments;

public class PendulumTests
{
    /// <summary>Gymnasium's Pendulum-v1 step, transcribed line by line (gymnasium/envs/classic_control/pendulum.py).</summary>
    private static (double Th, double Thdot, double Reward) GymnasiumStep(double th, double thdot, double u, double g)
    {
        const double maxSpeed = 8, maxTorque = 2, dt = 0.05, m = 1.0, l = 1.0;
        u = Math.Min(Math.Max(u, -maxTorque), maxTorque);
        double costs = Math.Pow(AngleNormalize(th), 2) + 0.1 * Math.Pow(thdot, 2) + 0.001 * Math.Pow(u, 2);
        double newthdot = thdot + (3 * g / (2 * l) * Math.Sin(th) + 3.0 / (m * Math.Pow(l, 2)) * u) * dt;
        newthdot = Math.Min(Math.Max(newthdot, -maxSpeed), maxSpeed);
        double newth = th + newthdot * dt;
        return (newth, newthdot, -costs);
    }

    // Python's float % takes the sign of the divisor.
    private static double AngleNormalize(double x)
    {
        double m = 2 * Math.PI, r = (x + Math.PI) - Math.Floor((x + Math.PI) / m) * m;
        return r - Math.PI;
    }

    [Theory]
    [InlineData(10.0, 1)]
    [InlineData(10.0, 2)]
    [InlineData(4.5, 3)]
    public void Steps_match_gymnasium_over_a_hundred_random_actions(double gravity, int seed)
    {
        var env = new Pendulum(gravity);
        var rng = new Random(seed);
        var state = env.SampleStart(rng);
        double th = state[0], thdot = state[1];
        for (int t = 0; t < 100; t++)
        {
            // Beyond the torque limit too: Gymnasium clips, and so must Step.
            double u = -2.5 + 5 * rng.NextDouble();
            var step = env.Step(state, [u]);
            (th, thdot, double reward) = GymnasiumStep(th, thdot, u, gravity);

            Assert.Equal(th, step.Next[0]);
            Assert.Equal(thdot, step.Next[1]);
            Assert.Equal(reward, step.Reward, 12);
            Assert.False(step.Terminal);
            state = step.Next;
        }
    }

    [Fact]
    public void Angular_velocity_is_clipped_at_eight()
    {
        var env = new Pendulum();
        var step = env.Step([Math.PI / 2, 7.9], [2]);
        Assert.Equal(8, step.Next[1]);
        Assert.Equal(Math.PI / 2 + 8 * 0.05, step.Next[0]);
    }

    [Fact]
    public void Reward_uses_the_wrapped_angle_of_the_state_before_the_step()
    {
        var env = new Pendulum();
        // 2 pi + 0.5 is 0.5 from upright; the torque is clipped to 2 before it is charged.
        var step = env.Step([2 * Math.PI + 0.5, -3], [5]);
        Assert.Equal(-(0.5 * 0.5 + 0.1 * 9 + 0.001 * 4), step.Reward, 12);
        Assert.Equal(-Math.PI, Pendulum.NormaliseAngle(Math.PI));
        Assert.Equal(Math.PI - 1, Pendulum.NormaliseAngle(-Math.PI - 1), 12);
    }

    [Fact]
    public void Starts_are_seeded_and_lie_in_gymnasiums_ranges()
    {
        var env = new Pendulum();
        var a = new Random(7);
        var b = new Random(7);
        for (int i = 0; i < 200; i++)
        {
            var s = env.SampleStart(a);
            Assert.Equal(s, env.SampleStart(b));
            Assert.InRange(s[0], -Math.PI, Math.PI);
            Assert.InRange(s[1], -1, 1);
        }
    }

    [Fact]
    public void Segment_factors_are_the_summed_cost_terms_and_weight_back_to_the_true_return()
    {
        var env = new Pendulum();
        var segment = Rollout(env, 30, seed: 4);
        var factors = ((IPreferenceEnvironment)env).SegmentFactors(segment);

        double angle = 0, velocity = 0, torque = 0;
        for (int t = 0; t < segment.Length; t++)
        {
            angle += Math.Pow(AngleNormalize(segment.States[t][0]), 2);
            velocity += segment.States[t][1] * segment.States[t][1];
            torque += segment.Actions[t][0] * segment.Actions[t][0];
        }
        Assert.Equal(["angle", "velocity", "torque"], env.Factors.Select(f => f.Name));
        Assert.All(env.Factors, f => Assert.Equal(FactorDirection.LowerIsBetter, f.Direction));
        Assert.Equal(angle, factors[0], 9);
        Assert.Equal(velocity, factors[1], 9);
        Assert.Equal(torque, factors[2], 9);
        Assert.Equal(((IPreferenceEnvironment)env).TrueReturn(segment), -(factors[0] + 0.1 * factors[1] + 0.001 * factors[2]), 9);
    }

    [Fact]
    public void Features_are_the_observation_then_the_torque()
    {
        var env = new Pendulum();
        var f = env.StepFeatures([0.3, -1.5], [1.25], [0, 0]);
        Assert.Equal(env.FeatureSize, f.Length);
        Assert.Equal(env.FeatureNames.Count, f.Length);
        Assert.Equal([(float)Math.Cos(0.3), (float)Math.Sin(0.3), -1.5f, 1.25f], f);
        Assert.Equal(f[..3], env.Observe([0.3, -1.5]));
    }

    [Fact]
    public void Validate_segment_accepts_a_rollout_and_names_the_tampered_step()
    {
        IPreferenceEnvironment env = new Pendulum();
        var segment = Rollout((Pendulum)env, 50, seed: 9);
        Assert.Null(env.ValidateSegment(segment));

        var states = segment.States.Select(s => s.ToArray()).ToArray();
        states[20][1] += 1e-9;
        Assert.StartsWith("action 19", env.ValidateSegment(segment with { States = states }));

        var actions = segment.Actions.Select(a => a.ToArray()).ToArray();
        actions[5][0] = 2.5;
        Assert.Contains("torque is 2.5", env.ValidateSegment(segment with { Actions = actions }));
    }

    [Fact]
    public void Invalid_states_are_explained()
    {
        var env = new Pendulum();
        Assert.Null(env.ValidateState([12.5, -8]));
        Assert.Contains("got 3 numbers", env.ValidateState([0, 0, 0]));
        Assert.Contains("finite", env.ValidateState([double.NaN, 0]));
        Assert.Contains("faster than 8", env.ValidateState([0, 8.5]));
    }

    internal static Segment Rollout(IPreferenceEnvironment env, int steps, int seed)
    {
        var rng = new Random(seed);
        var states = new List<double[]> { env.SampleStart(rng) };
        var actions = new List<double[]>();
        for (int t = 0; t < steps; t++)
        {
            var a = env.ActionSpace.Sample(rng);
            actions.Add(a);
            states.Add(env.Step(states[^1], a).Next);
        }
        return new Segment(states.ToArray(), actions.ToArray());
    }
}
