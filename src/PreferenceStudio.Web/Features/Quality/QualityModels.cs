using System.Text.Json.Serialization;

namespace PreferenceStudio.Web.Features.Quality;

/// <summary>Agreement over one set of labels (a round, or the whole campaign).</summary>
/// <param name="PairsWithSeveral">Pairs answered by two or more raters: the units the agreement is measured on.</param>
public sealed record AgreementView(
    [property: JsonPropertyName("round")] int? Round,
    [property: JsonPropertyName("labels")] int Labels,
    [property: JsonPropertyName("pairs_with_several_labels")] int PairsWithSeveral,
    [property: JsonPropertyName("krippendorff_alpha")] double? KrippendorffAlpha,
    [property: JsonPropertyName("fleiss_kappa")] double? FleissKappa);

/// <summary>One rater's quality, by pseudonym.</summary>
public sealed record RaterQualityView(
    [property: JsonPropertyName("rater")] string Rater,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("labels")] int Labels,
    [property: JsonPropertyName("gold_answers")] int GoldAnswers,
    [property: JsonPropertyName("gold_accuracy")] double? GoldAccuracy,
    [property: JsonPropertyName("flagged")] bool Flagged,
    [property: JsonPropertyName("excluded_from_training")] bool Excluded,
    [property: JsonPropertyName("training_override")] bool? TrainingOverride,
    [property: JsonPropertyName("majority_agreement")] double? MajorityAgreement,
    [property: JsonPropertyName("majority_compared")] int MajorityCompared,
    [property: JsonPropertyName("median_response_seconds")] double? MedianResponseSeconds,
    [property: JsonPropertyName("fast_answer_share")] double? FastShare,
    [property: JsonPropertyName("left_choice_rate")] double? LeftRate,
    [property: JsonPropertyName("reliability")] double? Reliability);

/// <summary>GET /api/v1/campaigns/{id}/quality.</summary>
public sealed record QualityReport(
    [property: JsonPropertyName("campaign")] AgreementView Campaign,
    [property: JsonPropertyName("rounds")] IReadOnlyList<AgreementView> Rounds,
    [property: JsonPropertyName("raters")] IReadOnlyList<RaterQualityView> Raters,
    [property: JsonPropertyName("gold_pairs")] int GoldPairs,
    [property: JsonPropertyName("labels_per_pair")] int? LabelsPerPair,
    [property: JsonPropertyName("min_gold_accuracy")] double? MinGoldAccuracy,
    [property: JsonPropertyName("fast_answer_seconds")] double FastAnswerSeconds,
    [property: JsonPropertyName("rater_weighting")] string RaterWeighting,
    [property: JsonPropertyName("reliability_run")] Guid? ReliabilityRun);

/// <summary>PUT .../raters/{pseudonym}/training: include (true), leave out (false) or follow the campaign's rule (null).</summary>
public sealed record TrainingOverrideRequest([property: JsonPropertyName("include")] bool? Include);

/// <summary>PUT .../comparisons/{comparisonId}/gold: the fixed answer (left, right, equal), or null to make it ordinary again.</summary>
public sealed record GoldRequest([property: JsonPropertyName("answer")] string? Answer);

/// <summary>A pair of the current round as the gold panel lists it.</summary>
public sealed record GoldCandidateView(
    [property: JsonPropertyName("comparison_id")] Guid ComparisonId,
    [property: JsonPropertyName("round")] int Round,
    [property: JsonPropertyName("left_clip_url")] string? LeftClipUrl,
    [property: JsonPropertyName("right_clip_url")] string? RightClipUrl,
    [property: JsonPropertyName("gold")] string? Gold,
    [property: JsonPropertyName("gold_source")] string? GoldSource,
    [property: JsonPropertyName("labels")] int Labels,
    [property: JsonPropertyName("held_out")] bool HeldOut);
