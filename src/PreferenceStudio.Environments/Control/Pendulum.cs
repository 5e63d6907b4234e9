using System.Globalization;

namespace PreferenceStudio.Environments.Control;

/// <summary>
/// Gymnasium's Pendulum-v1 (METHODS.md section 3): swing a rod up and hold it upright with a bounded torque.
/// State [theta, theta_dot] with theta unwrapped (0 = upright, as in Gymnasium); observation (cos, sin, theta_dot);
/// action [torque] in [-2, 2]. One step with u clipped to [-2, 2]:
///   theta_dot' = clip(theta_dot + (3 g / (2 l) sin theta + 3 / (m l^2) u) dt, -8, 8);  theta' = theta + theta_dot' dt,
/// reward -(normalise(theta)^2 + 0.1 theta_dot^2 + 0.001 u^2) of the state before the step. Never terminal.
/// </summary>
public sealed class Pendulum : IObservedEnvironment
{
    public const string EnvironmentName = "pendulum";
    public const double MaxSpeed = 8, MaxTorque = 2, Dt = 0.05, Mass = 1, Length = 1, DefaultGravity = 10;
    public const int DefaultEpisodeSteps = 200;

    public Pendulum(double gravity = DefaultGravity, int episodeSteps = DefaultEpisodeSteps)
    {
        if (!(gravity > 0) || double.IsInfinity(gravity)) throw new ArgumentOutOfRangeException(nameof(gravity), gravity, "Gravity must be a positive number.");
        if (episodeSteps < 1) throw new ArgumentOutOfRangeException(nameof(episodeSteps), episodeSteps, "An episode needs at least one step.");
        Gravity = gravity;
        MaxEpisodeSteps = episodeSteps;
    }

    public double Gravity { get; }

    public string Name => EnvironmentName;
    public string DisplayName => "Pendulum";
    public ActionSpace ActionSpace { get; } = ActionSpace.Continuous([-MaxTorque], [MaxTorque], "torque");

    public int ObservationSize => 3;
    public IReadOnlyList<string> ObservationNames { get; } = ["cos_theta", "sin_theta", "theta_dot"];

    /// <summary>Observation of s then the torque applied: (cos theta, sin theta, theta_dot, u).</summary>
    public int FeatureSize => 4;
    public IReadOnlyList<string> FeatureNames { get; } = ["cos_theta", "sin_theta", "theta_dot", "torque"];

    public IReadOnlyList<RewardFactor> Factors { get; } =
    [
        new("angle", "Squared angle from upright (radians, wrapped to [-pi, pi])", FactorDirection.LowerIsBetter),
        new("velocity", "Squared angular velocity: how fast the rod is spinning", FactorDirection.LowerIsBetter),
        new("torque", "Squared torque: the effort spent", FactorDirection.LowerIsBetter),
    ];

    // B-Pref's default 50 steps is 2.5 s at dt 0.05: long enough to show a whole swing, short enough that an
    // episode gives four segments and a rater can judge one at a glance.
    public int DefaultSegmentLength => Math.Min(50, MaxEpisodeSteps);

    public int MaxEpisodeSteps { get; }

    public double[] SampleStart(Random rng)
    {
        double theta = -Math.PI + 2 * Math.PI * rng.NextDouble();
        double thetaDot = -1 + 2 * rng.NextDouble();
        return [theta, thetaDot];
    }

    public bool IsTerminal(double[] state) => false;

    public Transition Step(double[] state, double[] action)
    {
        double th = state[0], thdot = state[1];
        double u = Math.Clamp(action[0], -MaxTorque, MaxTorque);
        double reward = -(Squared(NormaliseAngle(th)) + 0.1 * thdot * thdot + 0.001 * u * u);
        double newThdot = thdot + (3 * Gravity / (2 * Length) * Math.Sin(th) + 3.0 / (Mass * Length * Length) * u) * Dt;
        newThdot = Math.Clamp(newThdot, -MaxSpeed, MaxSpeed);
        double newTh = th + newThdot * Dt;
        return new Transition([newTh, newThdot], reward, false);
    }

    public float[] Observe(double[] state) => [(float)Math.Cos(state[0]), (float)Math.Sin(state[0]), (float)state[1]];

    public float[] StepFeatures(double[] state, double[] action, double[] next) =>
        ControlFeatures.ObservationAndAction(Observe(state), action, ActionSpace);

    /// <summary>The three cost terms of the step (before weighting), of the state the step starts from: the true reward is -(angle + 0.1 velocity + 0.001 torque).</summary>
    public double[] StepFactors(double[] state, double[] action, double[] next)
    {
        double u = Math.Clamp(action[0], -MaxTorque, MaxTorque);
        return [Squared(NormaliseAngle(state[0])), state[1] * state[1], u * u];
    }

    public string? ValidateState(double[] state)
    {
        if (ControlFeatures.FiniteVector(state, 2, "theta, theta_dot") is { } error) return error;
        if (Math.Abs(state[1]) > MaxSpeed)
            return string.Create(CultureInfo.InvariantCulture, $"theta_dot is {state[1]}; the pendulum never spins faster than {MaxSpeed} rad/s");
        return null;
    }

    /// <summary>Python's ((x + pi) % (2 pi)) - pi, with Python's floored modulo (C#'s % truncates).</summary>
    public static double NormaliseAngle(double x)
    {
        double r = (x + Math.PI) % (2 * Math.PI);
        if (r < 0) r += 2 * Math.PI;
        return r - Math.PI;
    }

    private static double Squared(double x) => x * x;
}
