namespace PreferenceStudio.Core.Exchange;

/// <summary>
/// One version of a rater's factor ranking in the exchange format (record kind <c>preferencestudio/factor-ranking@1</c>,
/// in the same JSONL files as comparisons): the environment's reward factors, most important first, and each
/// level's margin in units of that factor's spread. Read with <see cref="PreferenceJsonl"/>, which checks the ranking
/// against the environment's factors.
/// </summary>
/// <param name="Id">Unique identifier of the line within the file.</param>
/// <param name="Environment">Environment name as in the registry.</param>
/// <param name="Rater">The rater whose ranking this is (required: a ranking belongs to someone).</param>
/// <param name="Factors">Every factor of the environment once, most important first.</param>
/// <param name="Margins">One margin (0 or more) per level.</param>
/// <param name="CreatedAt">When this version was given; with the rater it identifies the version, so re-importing stores it once.</param>
public sealed record FactorRankingRecord(
    string Id,
    string Environment,
    string Rater,
    IReadOnlyList<string> Factors,
    IReadOnlyList<double> Margins,
    DateTimeOffset CreatedAt)
{
    /// <summary>The value of the "schema" field.</summary>
    public const string SchemaName = "preferencestudio/factor-ranking@1";

    /// <summary>Parameters the environment was built with; null or empty for its defaults.</summary>
    public IReadOnlyDictionary<string, double>? EnvironmentParameters { get; init; }

    public bool Equals(FactorRankingRecord? other) =>
        other is not null && Id == other.Id && Environment == other.Environment && Rater == other.Rater
        && Factors.SequenceEqual(other.Factors) && Margins.SequenceEqual(other.Margins) && CreatedAt == other.CreatedAt
        && (EnvironmentParameters ?? new Dictionary<string, double>()).OrderBy(p => p.Key)
            .SequenceEqual((other.EnvironmentParameters ?? new Dictionary<string, double>()).OrderBy(p => p.Key));

    public override int GetHashCode() => HashCode.Combine(Id, Environment, Rater, CreatedAt);
}
