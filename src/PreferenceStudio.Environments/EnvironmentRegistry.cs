using System.Globalization;
using PreferenceStudio.Environments.Control;
using PreferenceStudio.Environments.Delivery;

namespace PreferenceStudio.Environments;

/// <summary>A numeric setting of an environment, with its default and allowed range.</summary>
/// <param name="Integer">Only whole numbers are accepted.</param>
public sealed record EnvironmentParameter(string Name, string Description, double Default, double Min, double Max, bool Integer = false)
{
    /// <summary>Null when <paramref name="value"/> is allowed, else what to fix.</summary>
    public string? Validate(double value)
    {
        if (!double.IsFinite(value)) return $"{Name} must be a finite number";
        if (Integer && value != Math.Floor(value)) return $"{Name} must be a whole number, got {Format(value)}";
        if (value < Min || value > Max) return $"{Name} must lie between {Format(Min)} and {Format(Max)}, got {Format(value)}";
        return null;
    }

    private static string Format(double v) => v.ToString("G", CultureInfo.InvariantCulture);
}

/// <summary>
/// An environment a campaign can choose: its name, what it is, its parameters, and how to build it from validated
/// parameter values (every parameter present, defaults filled in).
/// </summary>
/// <param name="CrossCheck">
/// Checks that involve several parameters, run on the full set (defaults filled in) once each value is in range;
/// returns what is wrong keyed by the parameter to change (empty when all is well).
/// </param>
public sealed record EnvironmentDefinition(
    string Name,
    string DisplayName,
    string Description,
    IReadOnlyList<EnvironmentParameter> Parameters,
    Func<IReadOnlyDictionary<string, double>, IPreferenceEnvironment> Create,
    Func<IReadOnlyDictionary<string, double>, IReadOnlyDictionary<string, string>>? CrossCheck = null);

/// <summary>Parameters that make no sense for an environment; <see cref="Errors"/> maps each parameter to what is wrong.</summary>
public sealed class EnvironmentParameterException(string environment, IReadOnlyDictionary<string, string[]> errors)
    : ArgumentException($"Invalid parameters for {environment}: " + string.Join("; ", errors.SelectMany(e => e.Value)))
{
    public IReadOnlyDictionary<string, string[]> Errors { get; } = errors;
}

/// <summary>
/// The environments a campaign can use, by name, with their parameters. Adding an environment is one class, its
/// renderer (see Rendering/FrameRenderers) and one <see cref="EnvironmentDefinition"/> here.
/// </summary>
public static class EnvironmentRegistry
{
    private static readonly List<EnvironmentDefinition> All =
    [
        new(DeliveryGridworld.EnvironmentName, "Delivery gridworld",
            "Knox et al.'s 10 x 10 delivery task: reach the goal, collect coins, avoid sheep, roadblocks and mud.",
            [], _ => DeliveryGridworld.Standard),
        new(Pendulum.EnvironmentName, "Pendulum",
            "Gymnasium's Pendulum-v1: swing a rod upright and hold it there with a torque in [-2, 2]; 200 steps of 0.05 s.",
            [
                new("gravity", "Gravitational acceleration g (Gymnasium's default is 10)", Pendulum.DefaultGravity, 1, 30),
                new("episode_steps", "Steps per episode (Gymnasium: 200)", Pendulum.DefaultEpisodeSteps, 10, 10_000, Integer: true),
            ],
            p => new Pendulum(p["gravity"], (int)p["episode_steps"])),
        new(MountainCar.EnvironmentName, "Mountain car",
            "Gymnasium's MountainCarContinuous-v0: rock an under-powered car out of a valley to the flag; +100 at the flag, -0.1 force^2 per step.",
            [
                new("power", "Force multiplier of the engine (Gymnasium: 0.0015); lower makes the task harder", MountainCar.DefaultPower, 0.0005, 0.01),
                new("episode_steps", "Steps per episode before it is cut (Gymnasium: 999)", MountainCar.DefaultEpisodeSteps, 10, 10_000, Integer: true),
            ],
            p => new MountainCar(p["power"], (int)p["episode_steps"])),
        new(MultiGoalNavigation.EnvironmentName, "Multi-goal navigation",
            "A point mass in a D4RL maze2d maze with several goals, one rater kind per goal (VPL's navigation task).",
            [
                new("maze", "Maze: 0 = D4RL large (9 x 12), 1 = medium (8 x 8), 2 = U-maze (5 x 5)", 0, 0, MazeLayout.ByIndex.Count - 1, Integer: true),
                new("goal_count", "Goals, one rater kind each (goal-a, goal-b, ...)", 2, 2, MultiGoalNavigation.MaxGoals, Integer: true),
                new("default_kind", "Rater kind whose reward and goal the plain reward and success use (0 = goal-a)", 0, 0, MultiGoalNavigation.MaxGoals - 1, Integer: true),
                new("episode_steps", "Steps per episode (0.1 s each)", MultiGoalNavigation.DefaultEpisodeSteps, 10, 10_000, Integer: true),
            ],
            p => new MultiGoalNavigation(MazeLayout.ByIndex[(int)p["maze"]], (int)p["goal_count"], (int)p["default_kind"], (int)p["episode_steps"]),
            p => p["default_kind"] < p["goal_count"]
                ? new Dictionary<string, string>()
                : new Dictionary<string, string> { ["default_kind"] = $"default_kind must be below goal_count ({p["goal_count"]}), got {p["default_kind"]}" }),
    ];

    public static IReadOnlyList<EnvironmentDefinition> Definitions => All;

    public static IReadOnlyCollection<string> Names => All.Select(d => d.Name).ToList();

    public static EnvironmentDefinition? Find(string name) => All.FirstOrDefault(d => d.Name == name);

    /// <summary>The environment with its default parameters.</summary>
    public static bool TryGet(string name, out IPreferenceEnvironment environment)
    {
        var definition = Find(name);
        environment = definition is null ? null! : definition.Create(Defaults(definition));
        return definition is not null;
    }

    /// <summary>The environment with its default parameters.</summary>
    public static IPreferenceEnvironment Get(string name) => Create(name, null);

    /// <summary>
    /// Builds <paramref name="name"/> with <paramref name="parameters"/> (missing ones take their defaults).
    /// </summary>
    /// <exception cref="ArgumentException">Unknown environment.</exception>
    /// <exception cref="EnvironmentParameterException">An unknown parameter or a value out of range.</exception>
    public static IPreferenceEnvironment Create(string name, IReadOnlyDictionary<string, double>? parameters)
    {
        var definition = Find(name)
            ?? throw new ArgumentException($"Unknown environment '{name}'. Known environments: {string.Join(", ", Names)}.", nameof(name));
        var errors = Validate(definition, parameters);
        if (errors.Count > 0) throw new EnvironmentParameterException(name, errors);
        var values = Defaults(definition);
        if (parameters is not null) foreach (var (k, v) in parameters) values[k] = v;
        return definition.Create(values);
    }

    /// <summary>What is wrong with <paramref name="parameters"/> for the definition, keyed by parameter name (empty when all is well).</summary>
    public static Dictionary<string, string[]> Validate(EnvironmentDefinition definition, IReadOnlyDictionary<string, double>? parameters)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (parameters is null) return errors;
        foreach (var (key, value) in parameters)
        {
            var spec = definition.Parameters.FirstOrDefault(p => p.Name == key);
            if (spec is null)
            {
                errors[key] = [definition.Parameters.Count == 0
                    ? $"{definition.Name} takes no parameters"
                    : $"{definition.Name} has no parameter '{key}'; it has {string.Join(", ", definition.Parameters.Select(p => p.Name))}"];
                continue;
            }
            if (spec.Validate(value) is { } problem) errors[key] = [problem];
        }
        if (errors.Count == 0 && definition.CrossCheck is not null)
        {
            var values = Defaults(definition);
            foreach (var (k, v) in parameters) values[k] = v;
            foreach (var (key, problem) in definition.CrossCheck(values)) errors[key] = [problem];
        }
        return errors;
    }

    /// <summary>Every parameter of <paramref name="name"/>: the given values with defaults filled in (for comparing settings).</summary>
    public static Dictionary<string, double> WithDefaults(string name, IReadOnlyDictionary<string, double>? parameters)
    {
        var definition = Find(name) ?? throw new ArgumentException($"Unknown environment '{name}'.", nameof(name));
        var values = Defaults(definition);
        if (parameters is not null) foreach (var (k, v) in parameters) values[k] = v;
        return values;
    }

    private static Dictionary<string, double> Defaults(EnvironmentDefinition definition) =>
        definition.Parameters.ToDictionary(p => p.Name, p => p.Default, StringComparer.Ordinal);
}
