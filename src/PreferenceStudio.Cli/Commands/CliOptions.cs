using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;

namespace PreferenceStudio.Cli.Commands;

/// <summary>A wrong or missing command-line value the parser could not see; the message says what to pass instead (exit 2).</summary>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary>
/// Declares the verbs' options: each option once, typed, with its default and help text, so `--help`, tab completion
/// and parsing all come from the same declaration.
/// </summary>
internal static class CliOptions
{
    /// <summary>An option with a default value (shown in the help).</summary>
    public static Option<T> With<T>(string name, T defaultValue, string description, string? helpName = null) =>
        new(name) { Description = description, DefaultValueFactory = _ => defaultValue, HelpName = helpName };

    /// <summary>An option without a default: null when not given (its default depends on other options).</summary>
    public static Option<T?> Optional<T>(string name, string description, string? helpName = null) =>
        new(name) { Description = description, HelpName = helpName };

    public static Option<T> Required<T>(string name, string description, string? helpName = null) =>
        new(name) { Description = description, Required = true, HelpName = helpName };

    /// <summary>A switch: present means true (`--x false` also parses).</summary>
    public static Option<bool> Flag(string name, string description) => new(name) { Description = description };

    /// <summary>A string option that takes one of <paramref name="choices"/>; the parser refuses others naming them, and completion offers them.</summary>
    public static Option<string> Choice(string name, string defaultValue, IEnumerable<string> choices, string description, bool ignoreCase = false)
    {
        var option = With(name, defaultValue, description);
        option.AcceptOnlyFromAmong(ignoreCase ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal, [.. choices]);
        return option;
    }

    /// <summary>A comma-separated list of positive whole numbers, like 64,64 or 1,2.</summary>
    public static Option<int[]> Counts(string name, int[] defaultValue, string description, int minimum = 1)
    {
        var option = new Option<int[]>(name)
        {
            Description = description,
            HelpName = "N,N",
            DefaultValueFactory = _ => defaultValue,
            CustomParser = result =>
            {
                var text = result.Tokens.Count == 1 ? result.Tokens[0].Value : "";
                var parts = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                var values = new int[parts.Length];
                for (int i = 0; i < parts.Length; i++)
                {
                    if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out values[i]) || values[i] < minimum)
                    {
                        result.AddError($"{name} takes whole numbers of at least {minimum} separated by commas, like {string.Join(",", defaultValue)}; got '{text}'.");
                        return defaultValue;
                    }
                }
                if (values.Length == 0) result.AddError($"{name} needs at least one number.");
                return values;
            },
        };
        return option;
    }

    /// <summary>--env: required; completion offers the registered environments (the registry names them when one is unknown).</summary>
    public static Option<string> Environment(string description, bool required = true)
    {
        var option = new Option<string>("--env") { Description = description, Required = required, HelpName = "NAME" };
        option.CompletionSources.Add(PreferenceStudio.Environments.EnvironmentRegistry.Names.ToArray());
        return option;
    }

    /// <summary>The database connection string, for verbs that use the studio database.</summary>
    public static Option<string?> Connection() => Optional<string>("--connection",
        "PostgreSQL connection string; default: ConnectionStrings__Studio, then appsettings.json, then the project-local cluster in .studio/postgres (started when needed)", "CS");

    /// <summary>True when the user typed the option (not its default).</summary>
    public static bool Given(this ParseResult parse, Option option) => parse.GetResult(option) is { Implicit: false };

    /// <summary>A command's action whose exit code the action decides.</summary>
    public static Command WithAction(this Command command, Func<ParseResult, CancellationToken, Task<int>> action)
    {
        command.SetAction(action);
        return command;
    }
}
