using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using PreferenceStudio.Environments;

namespace PreferenceStudio.Core.Exchange;

/// <summary>A problem with one line of a preference file, phrased as what to fix.</summary>
public sealed record PreferenceJsonlError(int Line, string Message)
{
    public override string ToString() => $"line {Line}: {Message}";
}

/// <summary>One parsed line: the comparison (or factor ranking) when the line is valid, else its errors.</summary>
public sealed record PreferenceJsonlLine(int Line, PreferenceRecord? Record, IReadOnlyList<PreferenceJsonlError> Errors)
{
    /// <summary>The line's factor ranking, when it is a <see cref="FactorRankingRecord"/> line.</summary>
    public FactorRankingRecord? Ranking { get; init; }
}

/// <summary>All records of a file when every line is valid; otherwise no records and every error found.</summary>
public sealed record PreferenceJsonlReadResult(IReadOnlyList<PreferenceRecord> Records, IReadOnlyList<PreferenceJsonlError> Errors)
{
    /// <summary>The file's factor-ranking lines, in file order (empty when any line is invalid).</summary>
    public IReadOnlyList<FactorRankingRecord> Rankings { get; init; } = [];

    /// <summary>The file line of each of <see cref="Records"/>, so later checks can name the line.</summary>
    public IReadOnlyList<int> RecordLines { get; init; } = [];

    /// <summary>The file line of each of <see cref="Rankings"/>.</summary>
    public IReadOnlyList<int> RankingLines { get; init; } = [];

    public bool IsValid => Errors.Count == 0;
}

/// <summary>
/// Reads and writes the JSON Lines exchange format <c>preferencestudio/preference@1</c>. Field names are snake_case:
/// schema, id, environment, rater, group, left, right ({"states": [[...], ...], "actions": [...]}), label
/// (left | right | equal | incomparable), shown_at, answered_at (ISO-8601 or null), and the optional studio extras
/// round, left_clip_sha256, right_clip_sha256, policy_id, comparison_id, and gold (the answer fixed in advance for a
/// gold pair: left, right or equal). Unknown fields are ignored; blank lines are
/// skipped. Every line is checked against its environment (states on the board, actions leading to the next state).
/// Lines whose schema is <c>preferencestudio/factor-ranking@1</c> are raters' factor rankings
/// (<see cref="FactorRankingRecord"/>: schema, id, environment, environment_parameters, rater, factors, margins,
/// created_at), checked against the environment's factors.
/// </summary>
public static class PreferenceJsonl
{
    private static readonly string[] Labels = ["left", "right", "equal", "incomparable"];

    /// <summary>Reads every line; returns all records, or (if any line is invalid) no records and all errors.</summary>
    public static PreferenceJsonlReadResult ReadAll(TextReader reader)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var parser = new LineParser();
        int number = 0;
        while (reader.ReadLine() is { } text) parser.Add(++number, text);
        return parser.Result();
    }

    /// <summary>As <see cref="ReadAll(TextReader)"/> over a UTF-8 stream (a byte-order mark is allowed).</summary>
    public static PreferenceJsonlReadResult ReadAll(Stream stream)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        return ReadAll(reader);
    }

    /// <summary>
    /// As <see cref="ReadAll(Stream)"/>, reading the stream asynchronously (a request body arriving over the network
    /// is parsed line by line as it comes, never buffered whole).
    /// </summary>
    public static async Task<PreferenceJsonlReadResult> ReadAllAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, leaveOpen: true);
        var parser = new LineParser();
        int number = 0;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } text) parser.Add(++number, text);
        return parser.Result();
    }

    /// <summary>Reads a file (UTF-8).</summary>
    public static PreferenceJsonlReadResult ReadFile(string path)
    {
        using var stream = File.OpenRead(path);
        return ReadAll(stream);
    }

    /// <summary>Parses lines as they arrive, one result per non-blank line; duplicate ids are reported too.</summary>
    public static async IAsyncEnumerable<PreferenceJsonlLine> ReadAsync(TextReader reader, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var parser = new LineParser();
        int number = 0;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } text)
        {
            var line = parser.Add(++number, text);
            if (line is not null) yield return line;
        }
    }

    /// <summary>Parses a single line on its own (no duplicate-id check).</summary>
    public static PreferenceJsonlLine ParseLine(string text, int lineNumber = 1) =>
        new LineParser().Add(lineNumber, text) ?? new PreferenceJsonlLine(lineNumber, null, [new(lineNumber, "the line is blank; expected one JSON object")]);

    /// <summary>One line of JSON (no trailing newline). rater, group, shown_at and answered_at are always written,
    /// as null when absent; the studio extras only when set.</summary>
    public static string Write(PreferenceRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            WriteHeader(w, PreferenceRecord.SchemaName, record.Id, record.Environment, record.EnvironmentParameters);
            w.WriteString("rater", record.Rater);
            w.WriteString("group", record.Group);
            WriteSegment(w, "left", record.Left);
            WriteSegment(w, "right", record.Right);
            w.WriteString("label", record.Label.ToString().ToLowerInvariant());
            WriteTime(w, "shown_at", record.ShownAt);
            WriteTime(w, "answered_at", record.AnsweredAt);
            if (record.Round is { } round) w.WriteNumber("round", round);
            if (record.LeftClipSha256 is not null) w.WriteString("left_clip_sha256", record.LeftClipSha256);
            if (record.RightClipSha256 is not null) w.WriteString("right_clip_sha256", record.RightClipSha256);
            if (record.PolicyId is not null) w.WriteString("policy_id", record.PolicyId);
            if (record.ComparisonId is not null) w.WriteString("comparison_id", record.ComparisonId);
            if (record.Gold is { } gold) w.WriteString("gold", gold.ToString().ToLowerInvariant());
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>One factor-ranking line of JSON (no trailing newline).</summary>
    public static string Write(FactorRankingRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            WriteHeader(w, FactorRankingRecord.SchemaName, record.Id, record.Environment, record.EnvironmentParameters);
            w.WriteString("rater", record.Rater);
            w.WriteStartArray("factors");
            foreach (var f in record.Factors) w.WriteStringValue(f);
            w.WriteEndArray();
            w.WriteStartArray("margins");
            foreach (var m in record.Margins) w.WriteNumberValue(m);
            w.WriteEndArray();
            WriteTime(w, "created_at", record.CreatedAt);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Opens a line's object with the fields every record kind starts with.</summary>
    private static void WriteHeader(Utf8JsonWriter w, string schema, string id, string environment, IReadOnlyDictionary<string, double>? parameters)
    {
        w.WriteStartObject();
        w.WriteString("schema", schema);
        w.WriteString("id", id);
        w.WriteString("environment", environment);
        if (parameters is { Count: > 0 })
        {
            w.WriteStartObject("environment_parameters");
            foreach (var (k, v) in parameters.OrderBy(p => p.Key, StringComparer.Ordinal)) w.WriteNumber(k, v);
            w.WriteEndObject();
        }
    }

    /// <summary>Writes records one per line.</summary>
    public static void WriteAll(TextWriter writer, IEnumerable<PreferenceRecord> records)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(records);
        foreach (var record in records) writer.Write(Write(record) + "\n");
    }

    private static void WriteSegment(Utf8JsonWriter w, string name, Segment segment)
    {
        w.WriteStartObject(name);
        w.WriteStartArray("states");
        foreach (var state in segment.States)
        {
            w.WriteStartArray();
            foreach (var v in state) WriteNumber(w, v);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteStartArray("actions");
        foreach (var a in segment.Actions)
        {
            // A one-number action (a discrete index, a 1-D control) is written bare, as the published dataset does;
            // reading a bare number gives the one-element vector back, so the round trip is exact.
            if (a.Length == 1) WriteNumber(w, a[0]);
            else
            {
                w.WriteStartArray();
                foreach (var v in a) WriteNumber(w, v);
                w.WriteEndArray();
            }
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    // Whole numbers (grid cells, action indices) as integers, so files stay readable and match the published dataset.
    private static void WriteNumber(Utf8JsonWriter w, double v)
    {
        if (v == Math.Floor(v) && Math.Abs(v) < 1e15) w.WriteNumberValue((long)v); else w.WriteNumberValue(v);
    }

    private static void WriteTime(Utf8JsonWriter w, string name, DateTimeOffset? time)
    {
        if (time is { } t) w.WriteString(name, t.ToString("O", CultureInfo.InvariantCulture));
        else w.WriteNull(name);
    }

    /// <summary>Validates lines one by one, remembering ids and resolved environments across lines.</summary>
    private sealed class LineParser
    {
        private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
        private readonly Dictionary<string, IPreferenceEnvironment?> _environments = new(StringComparer.Ordinal);
        private readonly List<PreferenceRecord> _records = [];
        private readonly List<FactorRankingRecord> _rankings = [];
        private readonly List<int> _recordLines = [];
        private readonly List<int> _rankingLines = [];
        private readonly List<PreferenceJsonlError> _errors = [];

        public PreferenceJsonlLine? Add(int number, string text)
        {
            if (string.IsNullOrWhiteSpace(text)) return null;
            var errors = new List<string>();
            var parsed = Parse(text, errors);
            var id = parsed switch { PreferenceRecord r => r.Id, FactorRankingRecord k => k.Id, _ => null };
            if (id is not null)
            {
                if (_ids.TryGetValue(id, out int first))
                {
                    errors.Add($"id \"{id}\" is already used on line {first}; ids must be unique");
                    parsed = null;
                }
                else _ids[id] = number;
            }
            var lineErrors = errors.Select(e => new PreferenceJsonlError(number, e)).ToList();
            _errors.AddRange(lineErrors);
            if (parsed is PreferenceRecord record) { _records.Add(record); _recordLines.Add(number); }
            if (parsed is FactorRankingRecord ranking) { _rankings.Add(ranking); _rankingLines.Add(number); }
            return new PreferenceJsonlLine(number, parsed as PreferenceRecord, lineErrors) { Ranking = parsed as FactorRankingRecord };
        }

        public PreferenceJsonlReadResult Result() =>
            _errors.Count == 0
                ? new(_records, []) { Rankings = _rankings, RecordLines = _recordLines, RankingLines = _rankingLines }
                : new([], _errors);

        /// <summary>A <see cref="PreferenceRecord"/> or a <see cref="FactorRankingRecord"/>, by the line's schema; null with errors.</summary>
        private object? Parse(string text, List<string> errors)
        {
            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(text);
            }
            catch (JsonException e)
            {
                errors.Add($"not valid JSON ({e.Message.Split(" Path:")[0].TrimEnd('.')}); each line must be one complete JSON object");
                return null;
            }
            using (doc)
            {
                var root = doc.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                {
                    errors.Add($"expected a JSON object, got {Describe(root.ValueKind)}");
                    return null;
                }

                var schema = RequiredString(root, "schema", errors);
                if (schema is not null && schema != PreferenceRecord.SchemaName && schema != FactorRankingRecord.SchemaName)
                    errors.Add($"unknown schema \"{schema}\"; this reader understands \"{PreferenceRecord.SchemaName}\" (comparisons) and \"{FactorRankingRecord.SchemaName}\" (factor rankings)");
                var id = RequiredString(root, "id", errors);
                var envName = RequiredString(root, "environment", errors);
                var parameters = ReadParameters(root, errors);
                var env = ResolveEnvironment(envName, parameters, errors);
                if (schema == FactorRankingRecord.SchemaName) return ParseRanking(root, id, envName, parameters, env, errors);
                var rater = OptionalString(root, "rater", errors);
                var group = OptionalString(root, "group", errors);
                var left = ReadSegment(root, "left", env, errors);
                var right = ReadSegment(root, "right", env, errors);
                var label = ReadLabel(root, errors);
                var shownAt = OptionalTime(root, "shown_at", errors);
                var answeredAt = OptionalTime(root, "answered_at", errors);
                var round = OptionalInt(root, "round", errors);
                var leftSha = OptionalString(root, "left_clip_sha256", errors);
                var rightSha = OptionalString(root, "right_clip_sha256", errors);
                var policyId = OptionalString(root, "policy_id", errors);
                var comparisonId = OptionalString(root, "comparison_id", errors);
                var gold = ReadGold(root, errors);

                if (errors.Count > 0) return null;
                return new PreferenceRecord(id!, envName!, left!, right!, label!.Value)
                {
                    EnvironmentParameters = parameters is { Count: > 0 } ? parameters : null,
                    Rater = rater,
                    Group = group,
                    ShownAt = shownAt,
                    AnsweredAt = answeredAt,
                    Round = round,
                    LeftClipSha256 = leftSha,
                    RightClipSha256 = rightSha,
                    PolicyId = policyId,
                    ComparisonId = comparisonId,
                    Gold = gold,
                };
            }
        }

        private IPreferenceEnvironment? ResolveEnvironment(string? envName, Dictionary<string, double>? parameters, List<string> errors)
        {
            IPreferenceEnvironment? env = null;
            if (envName is not null && EnvironmentRegistry.Find(envName) is null)
                errors.Add($"unknown environment \"{envName}\"; known environments: {string.Join(", ", EnvironmentRegistry.Names)}");
            else if (envName is not null && parameters is not null)
            {
                var key = envName + "|" + string.Join(",", parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value:R}"));
                if (!_environments.TryGetValue(key, out env))
                {
                    try { env = EnvironmentRegistry.Create(envName, parameters); }
                    catch (EnvironmentParameterException e) { errors.Add($"environment_parameters: {string.Join("; ", e.Errors.SelectMany(x => x.Value))}"); }
                    _environments[key] = env;
                }
                else if (env is null) errors.Add($"environment_parameters are not valid for {envName} (see the first line that used them)");
            }
            return env;
        }

        private static FactorRankingRecord? ParseRanking(JsonElement root, string? id, string? envName, Dictionary<string, double>? parameters,
            IPreferenceEnvironment? env, List<string> errors)
        {
            var rater = RequiredString(root, "rater", errors);
            var factors = ReadArray(root, "factors", JsonValueKind.String, "an array of factor names, most important first", errors)?.Select(v => v.GetString()!).ToList();
            var margins = ReadArray(root, "margins", JsonValueKind.Number, "an array of numbers, one margin per factor", errors)?.Select(v => v.GetDouble()).ToList();
            var createdAt = OptionalTime(root, "created_at", errors);
            if (createdAt is null && !errors.Any(e => e.StartsWith("\"created_at\"", StringComparison.Ordinal)))
                errors.Add("missing \"created_at\"; a factor ranking needs the time it was given (ISO-8601), which identifies its version");
            if (env is not null && factors is not null && margins is not null)
                errors.AddRange(PreferenceStudio.Environments.Hierarchy.FactorHierarchy.Validate(env, factors, margins).Select(e => $"{e.Field}: {e.Message}"));
            if (errors.Count > 0) return null;
            return new FactorRankingRecord(id!, envName!, rater!, factors!, margins!, createdAt!.Value)
            {
                EnvironmentParameters = parameters is { Count: > 0 } ? parameters : null,
            };
        }

        private static List<JsonElement>? ReadArray(JsonElement root, string name, JsonValueKind itemKind, string what, List<string> errors)
        {
            if (!root.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Array
                || value.EnumerateArray().Any(v => v.ValueKind != itemKind))
            {
                errors.Add($"\"{name}\" must be {what}, got {(root.TryGetProperty(name, out var v) ? Raw(v) : "nothing")}");
                return null;
            }
            return value.EnumerateArray().ToList();
        }

        /// <summary>The optional "environment_parameters" object of numbers; an empty dictionary when absent.</summary>
        private static Dictionary<string, double>? ReadParameters(JsonElement root, List<string> errors)
        {
            var result = new Dictionary<string, double>(StringComparer.Ordinal);
            if (!root.TryGetProperty("environment_parameters", out var value) || value.ValueKind == JsonValueKind.Null) return result;
            if (value.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"\"environment_parameters\" must be an object of numbers, e.g. {{\"gravity\": 10}}, got {Describe(value.ValueKind)}");
                return null;
            }
            foreach (var p in value.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.Number)
                {
                    errors.Add($"environment_parameters.{p.Name} must be a number, got {Describe(p.Value.ValueKind)}");
                    return null;
                }
                result[p.Name] = p.Value.GetDouble();
            }
            return result;
        }

        private static string? RequiredString(JsonElement root, string name, List<string> errors)
        {
            if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                errors.Add(name == "schema"
                    ? $"missing \"schema\"; add \"schema\": \"{PreferenceRecord.SchemaName}\""
                    : $"missing \"{name}\"; it is required");
                return null;
            }
            if (value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
            {
                errors.Add($"\"{name}\" must be a non-empty string, got {Describe(value.ValueKind)}");
                return null;
            }
            return value.GetString();
        }

        private static string? OptionalString(JsonElement root, string name, List<string> errors)
        {
            if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
            if (value.ValueKind == JsonValueKind.String) return value.GetString();
            errors.Add($"\"{name}\" must be a string or null, got {Describe(value.ValueKind)}");
            return null;
        }

        private static int? OptionalInt(JsonElement root, string name, List<string> errors)
        {
            if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out int n)) return n;
            errors.Add($"\"{name}\" must be a whole number or null, got {Raw(value)}");
            return null;
        }

        private static DateTimeOffset? OptionalTime(JsonElement root, string name, List<string> errors)
        {
            if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
            var text = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            // Insist on the ISO-8601 shape: DateTimeOffset.TryParse alone would also accept culture formats like 1/2/2024.
            if (text is { Length: >= 10 } && text[4] == '-' && text[7] == '-'
                && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
                return time;
            errors.Add($"\"{name}\" must be an ISO-8601 timestamp such as \"2025-03-01T14:05:09Z\" or null, got {Raw(value)}");
            return null;
        }

        /// <summary>The optional "gold" answer: left, right or equal (a gold pair has a definite answer or a tie).</summary>
        private static PreferenceChoice? ReadGold(JsonElement root, List<string> errors)
        {
            if (!root.TryGetProperty("gold", out var value) || value.ValueKind == JsonValueKind.Null) return null;
            switch (value.ValueKind == JsonValueKind.String ? value.GetString() : null)
            {
                case "left": return PreferenceChoice.Left;
                case "right": return PreferenceChoice.Right;
                case "equal": return PreferenceChoice.Equal;
                default:
                    errors.Add($"unknown gold answer {Raw(value)}; use left, right or equal (or leave \"gold\" out)");
                    return null;
            }
        }

        private static PreferenceChoice? ReadLabel(JsonElement root, List<string> errors)
        {
            if (!root.TryGetProperty("label", out var value) || value.ValueKind == JsonValueKind.Null)
            {
                errors.Add("missing \"label\"; use one of left, right, equal, incomparable");
                return null;
            }
            var text = value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            switch (text)
            {
                case "left": return PreferenceChoice.Left;
                case "right": return PreferenceChoice.Right;
                case "equal": return PreferenceChoice.Equal;
                case "incomparable": return PreferenceChoice.Incomparable;
                default:
                    errors.Add($"unknown label {Raw(value)}; use one of {string.Join(", ", Labels)}");
                    return null;
            }
        }

        private static Segment? ReadSegment(JsonElement root, string name, IPreferenceEnvironment? env, List<string> errors)
        {
            if (!root.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.Object)
            {
                errors.Add($"\"{name}\" must be an object {{\"states\": [[...], ...], \"actions\": [...]}}");
                return null;
            }
            int before = errors.Count;
            double[][]? states = null;
            double[][]? actions = null;
            if (!value.TryGetProperty("states", out var s) || s.ValueKind != JsonValueKind.Array)
                errors.Add($"{name}.states must be an array of states, each an array of numbers");
            else
            {
                states = new double[s.GetArrayLength()][];
                int i = 0;
                foreach (var state in s.EnumerateArray())
                {
                    if (state.ValueKind != JsonValueKind.Array || state.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Number))
                    {
                        errors.Add($"{name}.states[{i}] must be an array of numbers, got {Raw(state)}");
                        break;
                    }
                    states[i++] = state.EnumerateArray().Select(v => v.GetDouble()).ToArray();
                }
            }
            if (!value.TryGetProperty("actions", out var a) || a.ValueKind != JsonValueKind.Array)
                errors.Add($"{name}.actions must be an array of actions, each a number (an action index or a 1-D control) or an array of numbers");
            else
            {
                actions = new double[a.GetArrayLength()][];
                int i = 0;
                foreach (var action in a.EnumerateArray())
                {
                    if (action.ValueKind == JsonValueKind.Number) actions[i] = [action.GetDouble()];
                    else if (action.ValueKind == JsonValueKind.Array && action.EnumerateArray().All(v => v.ValueKind == JsonValueKind.Number))
                        actions[i] = action.EnumerateArray().Select(v => v.GetDouble()).ToArray();
                    else
                    {
                        errors.Add($"{name}.actions[{i}] must be a number or an array of numbers, got {Raw(action)}");
                        actions = null;
                        break;
                    }
                    i++;
                }
            }
            if (errors.Count > before || states is null || actions is null) return null;
            if (states.Length != actions.Length + 1)
            {
                errors.Add($"{name} has {states.Length} states and {actions.Length} actions; a segment needs exactly one more state than actions");
                return null;
            }
            var segment = new Segment(states, actions);
            if (env is not null && env.ValidateSegment(segment) is { } problem)
            {
                errors.Add($"{name}: {problem}");
                return null;
            }
            return segment;
        }

        private static string Describe(JsonValueKind kind) => kind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            _ => "null",
        };

        private static string Raw(JsonElement value)
        {
            var raw = value.GetRawText();
            return raw.Length > 60 ? raw[..57] + "..." : raw;
        }
    }
}
