using System.Globalization;

namespace PreferenceStudio.Environments.Control;

/// <summary>
/// Gymnasium's MountainCarContinuous-v0 (METHODS.md section 3): an under-powered car in a valley must rock back
/// and forth to reach the flag on the right hill. State = observation = [position, velocity]; action [force] in
/// [-1, 1]. One step, with force = clip(a, -1, 1):
///   velocity = clip(velocity + force power - 0.0025 cos(3 position), -0.07, 0.07); position = clip(position + velocity, -1.2, 0.6);
///   at the left wall a negative velocity becomes 0; the goal is position >= 0.45 with velocity >= 0 (terminal).
/// Reward: +100 on the step that reaches the goal, minus 0.1 a^2 every step (a as given, as in Gymnasium).
/// Gymnasium stores the state as float32 between steps; here it stays double, so long rollouts agree with
/// Gymnasium's only to float32 precision. The goal state is absorbing (same state, reward 0).
/// </summary>
public sealed class MountainCar : IObservedEnvironment, IGoalEnvironment
{
    public const string EnvironmentName = "mountain-car";
    public const double MinPosition = -1.2, MaxPosition = 0.6, MaxSpeed = 0.07, GoalPosition = 0.45, GoalVelocity = 0;
    public const double DefaultPower = 0.0015, Gravity = 0.0025, GoalReward = 100, EnergyWeight = 0.1;
    public const int DefaultEpisodeSteps = 999;

    public MountainCar(double power = DefaultPower, int episodeSteps = DefaultEpisodeSteps)
    {
        if (!(power > 0) || double.IsInfinity(power)) throw new ArgumentOutOfRangeException(nameof(power), power, "Power must be a positive number.");
        if (episodeSteps < 1) throw new ArgumentOutOfRangeException(nameof(episodeSteps), episodeSteps, "An episode needs at least one step.");
        Power = power;
        MaxEpisodeSteps = episodeSteps;
    }

    public double Power { get; }

    public string Name => EnvironmentName;
    public string DisplayName => "Mountain car";
    public ActionSpace ActionSpace { get; } = ActionSpace.Continuous([-1], [1], "force");

    public int ObservationSize => 2;
    public IReadOnlyList<string> ObservationNames { get; } = ["position", "velocity"];

    /// <summary>Observation of s then the force applied: (position, velocity, force).</summary>
    public int FeatureSize => 3;
    public IReadOnlyList<string> FeatureNames { get; } = ["position", "velocity", "force"];

    public IReadOnlyList<RewardFactor> Factors { get; } =
    [
        new("goal", "Reaching the flag on the right hill (1 on the step that gets there)", FactorDirection.HigherIsBetter),
        new("energy", "Squared force: the fuel spent", FactorDirection.LowerIsBetter),
    ];

    // B-Pref's 50 steps: a rock from one side of the valley to the other takes roughly 50 to 60 steps, so a segment
    // shows whether the car is building momentum; clips stay under two seconds at 30 fps.
    public int DefaultSegmentLength => Math.Min(50, MaxEpisodeSteps);

    public int MaxEpisodeSteps { get; }

    public double[] SampleStart(Random rng) => [-0.6 + 0.2 * rng.NextDouble(), 0];

    public bool IsTerminal(double[] state) => state[0] >= GoalPosition && state[1] >= GoalVelocity;

    public bool IsSuccess(double[] state) => IsTerminal(state);

    public Transition Step(double[] state, double[] action)
    {
        if (IsTerminal(state)) return new Transition([state[0], state[1]], 0, true);
        double position = state[0], velocity = state[1];
        double force = Math.Min(Math.Max(action[0], -1), 1);
        velocity += force * Power - Gravity * Math.Cos(3 * position);
        velocity = Math.Clamp(velocity, -MaxSpeed, MaxSpeed);
        position += velocity;
        position = Math.Clamp(position, MinPosition, MaxPosition);
        if (position == MinPosition && velocity < 0) velocity = 0;
        bool terminated = position >= GoalPosition && velocity >= GoalVelocity;
        double reward = (terminated ? GoalReward : 0) - EnergyWeight * action[0] * action[0];
        return new Transition([position, velocity], reward, terminated);
    }

    public float[] Observe(double[] state) => [(float)state[0], (float)state[1]];

    public float[] StepFeatures(double[] state, double[] action, double[] next) =>
        ControlFeatures.ObservationAndAction(Observe(state), action, ActionSpace);

    /// <summary>[goal reached on this step (0 or 1), a^2]; the true reward is 100 goal - 0.1 energy (0 once at the goal).</summary>
    public double[] StepFactors(double[] state, double[] action, double[] next)
    {
        if (IsTerminal(state)) return [0, 0];
        return [IsTerminal(next) ? 1 : 0, action[0] * action[0]];
    }

    public string? ValidateState(double[] state)
    {
        if (ControlFeatures.FiniteVector(state, 2, "position, velocity") is { } error) return error;
        if (state[0] < MinPosition || state[0] > MaxPosition)
            return string.Create(CultureInfo.InvariantCulture, $"position is {state[0]}; the track runs from {MinPosition} to {MaxPosition}");
        if (Math.Abs(state[1]) > MaxSpeed)
            return string.Create(CultureInfo.InvariantCulture, $"velocity is {state[1]}; the car never goes faster than {MaxSpeed}");
        return null;
    }

    /// <summary>Height of the track at <paramref name="position"/>, as Gymnasium draws it: sin(3x) 0.45 + 0.55.</summary>
    public static double Height(double position) => Math.Sin(3 * position) * 0.45 + 0.55;
}
