using System.Text.Json.Serialization;
using PreferenceStudio.Core.Data;

namespace PreferenceStudio.Web.Features.Campaigns;

public sealed record CampaignSummary(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("environment")] string Environment,
    [property: JsonPropertyName("status")] CampaignStatus Status,
    [property: JsonPropertyName("current_round")] int CurrentRound,
    [property: JsonPropertyName("rounds")] int RoundCount,
    [property: JsonPropertyName("join_code")] string JoinCode,
    [property: JsonPropertyName("labels")] int Labels,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("status_message")] string? StatusMessage);

public sealed record RoundSummary(
    [property: JsonPropertyName("round")] int Index,
    [property: JsonPropertyName("status")] RoundStatus Status,
    [property: JsonPropertyName("pairs")] int Pairs,
    [property: JsonPropertyName("labels")] int Labels,
    [property: JsonPropertyName("labels_wanted")] int LabelsWanted,
    [property: JsonPropertyName("heldout_accuracy")] double? HeldoutAccuracy,
    [property: JsonPropertyName("heldout_loglik")] double? HeldoutLogLik,
    [property: JsonPropertyName("scaled_return")] double? ScaledReturn,
    [property: JsonPropertyName("clips_failed")] int FailedClips,
    [property: JsonPropertyName("error")] string? Error);

public sealed record CampaignDetail(
    [property: JsonPropertyName("campaign")] CampaignSummary Campaign,
    [property: JsonPropertyName("settings")] CampaignSettings Settings,
    [property: JsonPropertyName("rounds")] IReadOnlyList<RoundSummary> Rounds);

/// <summary>Campaign settings that failed validation, by field.</summary>
public sealed class CampaignValidationException(Dictionary<string, string[]> errors)
    : Exception("The campaign settings are not usable: " + string.Join(" ", errors.SelectMany(e => e.Value)))
{
    public Dictionary<string, string[]> Errors { get; } = errors;
}
