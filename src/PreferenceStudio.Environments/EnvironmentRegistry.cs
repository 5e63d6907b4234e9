using System.Globalization;
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
public sealed record EnvironmentDefinition(
    string Name,
    string DisplayName,
    string Description,
    IReadOnlyList<EnvironmentParameter> Parameters,
    Func<IReadOnlyDictionary<string, double>, IPreferenceEnvironment> Create);

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
        return errors;
    }

    private static Dictionary<string, double> Defaults(EnvironmentDefinition definition) =>
        definition.Parameters.ToDictionary(p => p.Name, p => p.Default, StringComparer.Ordinal);
}
