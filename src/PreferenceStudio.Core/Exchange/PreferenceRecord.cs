using PreferenceStudio.Environments;

namespace PreferenceStudio.Core.Exchange;

/// <summary>
/// One comparison in the exchange format <c>preferencestudio/preference@1</c> (one JSON object per line): which of
/// two segments of an environment a rater preferred. Unknown fields are ignored on reading.
/// </summary>
/// <param name="Id">Unique identifier of the comparison within the file.</param>
/// <param name="Environment">Environment name as in <see cref="EnvironmentRegistry"/>, e.g. "delivery-gridworld".</param>
/// <param name="Left">The left segment (seg1): states (k+1) and actions (k).</param>
/// <param name="Right">The right segment (seg2).</param>
/// <param name="Label">left, right, equal or incomparable.</param>
public sealed record PreferenceRecord(string Id, string Environment, Segment Left, Segment Right, PreferenceChoice Label)
{
    /// <summary>The value of the "schema" field.</summary>
    public const string SchemaName = "preferencestudio/preference@1";

    /// <summary>
    /// Parameters the environment was built with (see <see cref="EnvironmentRegistry"/>); null or empty for its
    /// defaults. Segments are checked against the environment with these parameters.
    /// </summary>
    public IReadOnlyDictionary<string, double>? EnvironmentParameters { get; init; }

    /// <summary>Pseudonymous rater id; null when the source publishes none.</summary>
    public string? Rater { get; init; }

    /// <summary>Rater group or study condition, e.g. "Trained-Control".</summary>
    public string? Group { get; init; }

    /// <summary>When the pair was shown to the rater.</summary>
    public DateTimeOffset? ShownAt { get; init; }

    /// <summary>When the rater answered.</summary>
    public DateTimeOffset? AnsweredAt { get; init; }

    /// <summary>Campaign round the comparison came from (studio exports only).</summary>
    public int? Round { get; init; }

    /// <summary>SHA-256 of the left clip's video file (studio exports only).</summary>
    public string? LeftClipSha256 { get; init; }

    /// <summary>SHA-256 of the right clip's video file (studio exports only).</summary>
    public string? RightClipSha256 { get; init; }

    /// <summary>Policy that produced the segments (studio exports only).</summary>
    public string? PolicyId { get; init; }

    /// <summary>The studio's database id of the comparison (studio exports only).</summary>
    public string? ComparisonId { get; init; }

    /// <summary>
    /// The answer fixed in advance for a gold pair (left, right or equal), against which raters' answers are scored;
    /// null for an ordinary pair.
    /// </summary>
    public PreferenceChoice? Gold { get; init; }
}
