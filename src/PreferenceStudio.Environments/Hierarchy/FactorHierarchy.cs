using System.Globalization;

namespace PreferenceStudio.Environments.Hierarchy;

/// <summary>
/// A rater's ranking of an environment's reward factors (HERON, Bukharin et al. 2023): every factor once, most
/// important first, and per level the margin: how big a difference, in units of that factor's spread over the
/// compared segments, decides a pair at that level. Build one with <see cref="Create"/>, which refuses a ranking
/// that leaves a factor out, names one twice or has a negative margin.
/// </summary>
public sealed class FactorHierarchy
{
    /// <summary>
    /// 0: any difference on a factor decides before the next factor counts. METHODS.md gives HERON's Pendulum margin as
    /// one spread, but on single steps that lets about a fifth of the pairs fall through to torque, and the learned
    /// reward then charges effort about as much as the angle: PPO on it never swung the pendulum up (mean true return
    /// -902 to -1283 over 3 seeds), while margins of 0 reached -153.7 to -176.2 over 6 seeds (README, "Measured").
    /// A rater who wants small differences ignored sets a margin per level.
    /// </summary>
    public const double DefaultMargin = 0.0;

    private FactorHierarchy(string[] factors, double[] margins, int[] indices)
    {
        Factors = factors;
        Margins = margins;
        Indices = indices;
    }

    /// <summary>Factor names, most important first.</summary>
    public IReadOnlyList<string> Factors { get; }

    /// <summary>Margin of each level, in units of the factor's spread (0: any difference decides).</summary>
    public IReadOnlyList<double> Margins { get; }

    /// <summary>Position of each level's factor in the environment's <see cref="IPreferenceEnvironment.Factors"/>.</summary>
    public IReadOnlyList<int> Indices { get; }

    /// <summary>The environment's factors in their own order, each with the default margin.</summary>
    public static FactorHierarchy Default(IPreferenceEnvironment env) =>
        Create(env, env.Factors.Select(f => f.Name).ToList(), null);

    /// <summary>
    /// Problems with a ranking, keyed by the field to fix ("factors", "margins", "margins[2]"); empty when it is valid.
    /// Null <paramref name="margins"/> means the default margin at every level.
    /// </summary>
    public static IReadOnlyList<HierarchyError> Validate(IPreferenceEnvironment env, IReadOnlyList<string>? factors, IReadOnlyList<double>? margins)
    {
        ArgumentNullException.ThrowIfNull(env);
        var errors = new List<HierarchyError>();
        var names = env.Factors.Select(f => f.Name).ToList();
        string all = string.Join(", ", names);
        if (names.Count == 0)
        {
            errors.Add(new("factors", $"{env.Name} has no reward factors to rank."));
            return errors;
        }
        if (factors is null || factors.Count == 0)
        {
            errors.Add(new("factors", $"Rank every factor of {env.Name} once, most important first: {all}."));
            return errors;
        }
        foreach (var unknown in factors.Where(f => !names.Contains(f, StringComparer.Ordinal)).Distinct())
            errors.Add(new("factors", $"'{unknown}' is not a factor of {env.Name}; its factors are {all}."));
        foreach (var twice in factors.GroupBy(f => f, StringComparer.Ordinal).Where(g => g.Count() > 1))
            errors.Add(new("factors", $"'{twice.Key}' appears {twice.Count()} times; name each factor once."));
        foreach (var missing in names.Where(n => !factors.Contains(n, StringComparer.Ordinal)))
            errors.Add(new("factors", $"'{missing}' is missing; rank every factor of {env.Name} ({all})."));
        if (margins is not null)
        {
            if (margins.Count != factors.Count)
                errors.Add(new("margins", $"Give one margin per ranked factor ({factors.Count}), got {margins.Count}."));
            for (int i = 0; i < margins.Count; i++)
            {
                if (!double.IsFinite(margins[i]) || margins[i] < 0)
                    errors.Add(new($"margins[{i}]", string.Create(CultureInfo.InvariantCulture,
                        $"The margin of level {i + 1} must be a number of 0 or more (got {margins[i]}): the difference, in units of the factor's spread, that decides a pair at that level.")));
            }
        }
        return errors;
    }

    /// <summary>The ranking, after <see cref="Validate"/>; throws <see cref="ArgumentException"/> listing every problem.</summary>
    public static FactorHierarchy Create(IPreferenceEnvironment env, IReadOnlyList<string>? factors, IReadOnlyList<double>? margins) =>
        TryCreate(env, factors, margins, out var errors) ?? throw new ArgumentException(string.Join(" ", errors.Select(e => e.Message)));

    /// <summary>The ranking, or null with <paramref name="errors"/> saying what is wrong (see <see cref="Validate"/>).</summary>
    public static FactorHierarchy? TryCreate(IPreferenceEnvironment env, IReadOnlyList<string>? factors, IReadOnlyList<double>? margins,
        out IReadOnlyList<HierarchyError> errors)
    {
        errors = Validate(env, factors, margins);
        if (errors.Count > 0) return null;
        var names = env.Factors.Select(f => f.Name).ToList();
        var ranked = factors!.ToArray();
        return new FactorHierarchy(
            ranked,
            margins?.ToArray() ?? Enumerable.Repeat(DefaultMargin, ranked.Length).ToArray(),
            ranked.Select(f => names.IndexOf(f)).ToArray());
    }

    /// <summary>Parses "angle,velocity,torque" (names separated by commas, most important first).</summary>
    public static FactorHierarchy Parse(IPreferenceEnvironment env, string ranking, IReadOnlyList<double>? margins = null) =>
        Create(env, ranking.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries), margins);

    public override string ToString() =>
        string.Join(" > ", Factors.Select((f, i) => string.Create(CultureInfo.InvariantCulture, $"{f} ({Margins[i]:0.##})")));
}

/// <summary>One problem with a ranking: the field to fix and what is wrong.</summary>
public sealed record HierarchyError(string Field, string Message);
