using System.Globalization;

namespace PreferenceStudio.Cli.Commands;

/// <summary>A wrong or missing command-line option; the message says what to pass instead.</summary>
public sealed class CliUsageException(string message) : Exception(message);

/// <summary>
/// Minimal parser for <c>--key value</c> options shared by the verbs. A key followed by another <c>--key</c> (or by
/// nothing) is a flag with the value "true". Keys are case-sensitive; a repeated key keeps the last value.
/// </summary>
public sealed class CliArgs
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    private CliArgs()
    {
    }

    /// <summary>Parses the arguments after the verb. Throws <see cref="CliUsageException"/> on stray positional words.</summary>
    public static CliArgs Parse(IReadOnlyList<string> args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var parsed = new CliArgs();
        for (int i = 0; i < args.Count; i++)
        {
            var token = args[i];
            if (!token.StartsWith("--", StringComparison.Ordinal) || token.Length == 2)
                throw new CliUsageException($"Unexpected argument '{token}'; options look like --name value.");
            var key = token[2..];
            string value = "true";
            int eq = key.IndexOf('=');
            if (eq > 0)
            {
                value = key[(eq + 1)..];
                key = key[..eq];
            }
            else if (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }
            parsed._values[key] = value;
        }
        return parsed;
    }

    public IReadOnlyCollection<string> Keys => _values.Keys;

    public bool Has(string key) => _values.ContainsKey(key);

    public string? Get(string key) => _values.GetValueOrDefault(key);

    public string Get(string key, string fallback) => _values.GetValueOrDefault(key) ?? fallback;

    public string Require(string key) =>
        _values.TryGetValue(key, out var v) ? v : throw new CliUsageException($"Missing --{key}.");

    public int GetInt(string key, int fallback) => Get(key) is { } text
        ? int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v
            : throw new CliUsageException($"--{key} must be a whole number, got '{text}'.")
        : fallback;

    public double GetDouble(string key, double fallback) => Get(key) is { } text
        ? double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
            : throw new CliUsageException($"--{key} must be a number, got '{text}'.")
        : fallback;

    public bool GetFlag(string key) => Get(key) is { } text && text is not ("false" or "0" or "no");

    /// <summary>Rejects options the verb does not know, so a typo is not silently ignored.</summary>
    public void EnsureOnly(params string[] known)
    {
        var unknown = _values.Keys.Where(k => !known.Contains(k, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
            throw new CliUsageException($"Unknown option(s): {string.Join(", ", unknown.Select(k => "--" + k))}. Known: {string.Join(", ", known.Select(k => "--" + k))}.");
    }
}
