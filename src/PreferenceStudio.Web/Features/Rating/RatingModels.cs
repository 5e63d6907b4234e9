using System.Text.Json.Serialization;
using PreferenceStudio.Environments;

namespace PreferenceStudio.Web.Features.Rating;

public enum RatingStatus
{
    /// <summary>A pair is ready to be compared.</summary>
    Ready,
    /// <summary>The campaign is between rounds: the next round's clips are being made.</summary>
    WaitingForRound,
    /// <summary>This rater has answered every pair of the open round (or the round has its labels).</summary>
    RoundDoneForRater,
    Paused,
    Finished,
    NotStarted,
}

/// <summary>A pair served to a rater: the clips to show and the round's progress.</summary>
public sealed record ServedPair(
    [property: JsonPropertyName("comparison_id")] Guid ComparisonId,
    [property: JsonPropertyName("round")] int RoundIndex,
    [property: JsonPropertyName("left_clip_url")] string LeftClipUrl,
    [property: JsonPropertyName("right_clip_url")] string RightClipUrl,
    [property: JsonPropertyName("shown_at")] DateTimeOffset ShownAt);

/// <summary>What the rating page shows: a pair, or why there is none, and the round's progress.</summary>
public sealed record RatingState(
    [property: JsonPropertyName("status")] RatingStatus Status,
    [property: JsonPropertyName("campaign_id")] Guid CampaignId,
    [property: JsonPropertyName("campaign_name")] string CampaignName,
    [property: JsonPropertyName("round")] int RoundIndex,
    [property: JsonPropertyName("round_count")] int RoundCount,
    [property: JsonPropertyName("round_labels")] int RoundLabels,
    [property: JsonPropertyName("round_labels_wanted")] int RoundLabelsWanted,
    [property: JsonPropertyName("pair")] ServedPair? Pair);

/// <summary>A rater's answer to a served pair. The idempotency key makes a resent answer count once.</summary>
public sealed record LabelSubmission(
    [property: JsonPropertyName("comparison_id")] Guid ComparisonId,
    [property: JsonPropertyName("rater_id")] string RaterId,
    [property: JsonPropertyName("choice")] PreferenceChoice Choice,
    [property: JsonPropertyName("idempotency_key")] string IdempotencyKey,
    [property: JsonPropertyName("answered_at")] DateTimeOffset? AnsweredAt = null);

/// <summary>The stored label; <paramref name="Duplicate"/> is true when the same answer had been stored before.</summary>
public sealed record LabelReceipt(
    [property: JsonPropertyName("label_id")] Guid LabelId,
    [property: JsonPropertyName("duplicate")] bool Duplicate,
    [property: JsonPropertyName("round_labels")] int RoundLabels,
    [property: JsonPropertyName("round_labels_wanted")] int RoundLabelsWanted);
