using System.Text.Json.Serialization;

namespace PreferenceStudio.Web.Features.Hierarchy;

/// <summary>
/// A rater's ranking as sent by a page or the API: factor names, most important first, and per-level margins (null:
/// defaults). The rater is the authenticated one; <see cref="RaterId"/> may be left out, and naming another rater is refused.
/// </summary>
public sealed record RankingSubmission(
    [property: JsonPropertyName("factors")] IReadOnlyList<string>? Factors,
    [property: JsonPropertyName("margins")] IReadOnlyList<double>? Margins,
    [property: JsonPropertyName("rater_id")] string? RaterId = null);

/// <summary>One stored version of a rater's ranking; the rater by their pseudonym in the campaign.</summary>
public sealed record RankingView(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("campaign_id")] Guid CampaignId,
    [property: JsonPropertyName("rater")] string Rater,
    [property: JsonPropertyName("factors")] IReadOnlyList<string> Factors,
    [property: JsonPropertyName("margins")] IReadOnlyList<double> Margins,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt);

/// <summary>A ranking that failed validation, by field ("factors", "margins", "margins[1]"); nothing of it was stored.</summary>
public sealed class RankingValidationException(Dictionary<string, string[]> errors)
    : Exception("The ranking is not usable: " + string.Join(" ", errors.SelectMany(e => e.Value)))
{
    public Dictionary<string, string[]> Errors { get; } = errors;
}
