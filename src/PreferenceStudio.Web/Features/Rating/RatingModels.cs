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
    /// <summary>The campaign is complete (or stopped): the rater is shown the completion code.</summary>
    Finished,
    NotStarted,
    /// <summary>The campaign asks for consent and this rater has not given it yet: no pair is served before.</summary>
    ConsentRequired,
    /// <summary>This rater has answered their quota of pairs: they are shown the completion code.</summary>
    QuotaReached,
}

/// <summary>What the studio is doing while a rater waits for a round.</summary>
public enum RoundStage
{
    /// <summary>Round 1's clips are being made (the studio has not learnt anything yet).</summary>
    PreparingFirstRound,
    /// <summary>The round just finished is training the reward model and the next policy.</summary>
    Learning,
    /// <summary>The next round's clips are being rendered.</summary>
    Rendering,
}

/// <summary>
/// A pair served to a rater: the clips to show and the round's progress. In campaigns that use factor rankings, once
/// the rater has ranked, also each clip's factor values in the rater's ranking order and what that ranking decides
/// (HERON rule: <see cref="HierarchyChoice"/> is null when no level decides, <see cref="DecidedBy"/> names the deciding
/// factor); the rater still chooses freely. All three are null otherwise.
/// </summary>
public sealed record ServedPair(
    [property: JsonPropertyName("comparison_id")] Guid ComparisonId,
    [property: JsonPropertyName("round")] int RoundIndex,
    [property: JsonPropertyName("left_clip_url")] string LeftClipUrl,
    [property: JsonPropertyName("right_clip_url")] string RightClipUrl,
    [property: JsonPropertyName("shown_at")] DateTimeOffset ShownAt,
    [property: JsonPropertyName("factors")] IReadOnlyList<PairFactorValue>? Factors = null,
    [property: JsonPropertyName("hierarchy_choice")] PreferenceChoice? HierarchyChoice = null,
    [property: JsonPropertyName("decided_by")] string? DecidedBy = null,
    [property: JsonPropertyName("frame_rate")] double FrameRate = 10,
    [property: JsonPropertyName("practice")] bool Practice = false);

/// <summary>
/// One factor of a served pair. <paramref name="Better"/> is the side with the better value given the factor's
/// direction (left, right or equal); <paramref name="Decisive"/> says whether the difference exceeds the level's
/// margin times the factor's spread over the round, i.e. whether this level could decide the pair.
/// </summary>
public sealed record PairFactorValue(
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("direction")] FactorDirection Direction,
    [property: JsonPropertyName("left")] double Left,
    [property: JsonPropertyName("right")] double Right,
    [property: JsonPropertyName("better")] PreferenceChoice Better,
    [property: JsonPropertyName("margin")] double Margin,
    [property: JsonPropertyName("spread")] double Spread,
    [property: JsonPropertyName("decisive")] bool Decisive);

/// <summary>What the rating page shows: a pair, or why there is none, and the round's progress.</summary>
public sealed record RatingState(
    [property: JsonPropertyName("status")] RatingStatus Status,
    [property: JsonPropertyName("campaign_id")] Guid CampaignId,
    [property: JsonPropertyName("campaign_name")] string CampaignName,
    [property: JsonPropertyName("round")] int RoundIndex,
    [property: JsonPropertyName("round_count")] int RoundCount,
    [property: JsonPropertyName("round_labels")] int RoundLabels,
    [property: JsonPropertyName("round_labels_wanted")] int RoundLabelsWanted,
    [property: JsonPropertyName("pair")] ServedPair? Pair,
    [property: JsonPropertyName("rater_labels")] int RaterLabels = 0,
    [property: JsonPropertyName("labels_per_rater")] int? LabelsPerRater = null,
    [property: JsonPropertyName("stage")] RoundStage? Stage = null,
    [property: JsonPropertyName("completion_code")] string? CompletionCode = null,
    [property: JsonPropertyName("completion_url")] string? CompletionUrl = null,
    [property: JsonPropertyName("require_full_playback")] bool RequireFullPlayback = false,
    [property: JsonPropertyName("can_undo")] bool CanUndo = false);

/// <summary>An answer taken back: the pair it answered is offered again.</summary>
public sealed record UndoReceipt(
    [property: JsonPropertyName("label_id")] Guid LabelId,
    [property: JsonPropertyName("comparison_id")] Guid ComparisonId,
    [property: JsonPropertyName("withdrawn_at")] DateTimeOffset WithdrawnAt);

/// <summary>
/// A rater's answer to a served pair. The idempotency key makes a resent answer count once. The rater is the one the
/// cookie or token identifies; <see cref="RaterId"/> may be left out, and a submission naming another rater (by
/// pseudonym) is refused.
/// </summary>
public sealed record LabelSubmission(
    [property: JsonPropertyName("comparison_id")] Guid ComparisonId,
    [property: JsonPropertyName("choice")] PreferenceChoice Choice,
    [property: JsonPropertyName("idempotency_key")] string IdempotencyKey,
    [property: JsonPropertyName("rater_id")] string? RaterId = null,
    [property: JsonPropertyName("answered_at")] DateTimeOffset? AnsweredAt = null);

/// <summary>The stored label; <paramref name="Duplicate"/> is true when the same answer had been stored before.</summary>
public sealed record LabelReceipt(
    [property: JsonPropertyName("label_id")] Guid LabelId,
    [property: JsonPropertyName("duplicate")] bool Duplicate,
    [property: JsonPropertyName("round_labels")] int RoundLabels,
    [property: JsonPropertyName("round_labels_wanted")] int RoundLabelsWanted,
    [property: JsonPropertyName("practice")] PracticeFeedback? Practice = null);

/// <summary>After a practice gold pair: the answer fixed in advance and whether the rater's matched it.</summary>
public sealed record PracticeFeedback(
    [property: JsonPropertyName("expected")] PreferenceChoice Expected,
    [property: JsonPropertyName("matched")] bool Matched);
