using System.Text.Json.Serialization;

namespace PreferenceStudio.Web.Features.Raters;

/// <summary>
/// A rater as the server knows them in one campaign: <see cref="Id"/> is internal (it keys their labels and is what
/// their cookie or token resolves to); <see cref="Pseudonym"/> is how researchers, exports and models name them.
/// </summary>
public sealed record RaterRef(Guid CampaignId, string Id, string Pseudonym, string Kind);

/// <summary>A rater as listed to the campaign's members.</summary>
public sealed record RaterView(
    [property: JsonPropertyName("pseudonym")] string Pseudonym,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("joined_at")] DateTimeOffset JoinedAt,
    [property: JsonPropertyName("labels")] int Labels,
    [property: JsonPropertyName("rankings")] int Rankings,
    [property: JsonPropertyName("invited")] bool Invited,
    [property: JsonPropertyName("erased_at")] DateTimeOffset? ErasedAt);

/// <summary>A request for scripted raters: <c>count</c> new ones, or one per name in <c>pseudonyms</c>.</summary>
public sealed record CreateRatersRequest(
    [property: JsonPropertyName("count")] int? Count,
    [property: JsonPropertyName("kind")] string? Kind,
    [property: JsonPropertyName("pseudonyms")] IReadOnlyList<string>? Pseudonyms);

/// <summary>A scripted rater just made; <see cref="Token"/> is shown only now.</summary>
public sealed record CreatedRater(
    [property: JsonPropertyName("pseudonym")] string Pseudonym,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("token")] string Token);

public sealed record CreatedRaters([property: JsonPropertyName("raters")] IReadOnlyList<CreatedRater> Raters);

/// <summary>What an erasure deleted.</summary>
public sealed record RaterErasureView(
    [property: JsonPropertyName("pseudonym")] string Pseudonym,
    [property: JsonPropertyName("erased_by")] string ErasedBy,
    [property: JsonPropertyName("erased_at")] DateTimeOffset ErasedAt,
    [property: JsonPropertyName("labels")] int Labels,
    [property: JsonPropertyName("rankings")] int Rankings,
    [property: JsonPropertyName("assignments")] int Assignments);

/// <summary>Why a join link did not give the browser a rater identity.</summary>
public enum JoinRefusal { None, UnknownCampaign, InviteRequired, InviteInvalid, CampaignFull, ParticipantErased }

/// <summary>
/// Who a rater is on the platform that recruited them, from the join link's parameters: Prolific's PROLIFIC_PID,
/// STUDY_ID, SESSION_ID or MTurk's workerId, hitId, assignmentId.
/// </summary>
public sealed record Participant(string Platform, string Id, string? Study, string? Session)
{
    public const int MaxLength = 200;

    /// <summary>The participant named by a link's parameters, or null when it names none (or names one unusably).</summary>
    public static Participant? From(Func<string, string?> parameter)
    {
        // Trimmed first: a blank id would otherwise make every visitor without one the same rater.
        static string? Clean(string? v) => v?.Trim() is { Length: > 0 and <= MaxLength } t && !t.Any(char.IsControl) ? t : null;
        if (Clean(parameter("PROLIFIC_PID")) is { } pid)
            return new Participant("prolific", pid, Clean(parameter("STUDY_ID")), Clean(parameter("SESSION_ID")));
        if (Clean(parameter("workerId")) is { } worker)
            return new Participant("mturk", worker, Clean(parameter("hitId")), Clean(parameter("assignmentId")));
        return null;
    }

    /// <summary>The link's parameter names, in the order platforms send them.</summary>
    public static readonly IReadOnlyList<string> ParameterNames = ["PROLIFIC_PID", "STUDY_ID", "SESSION_ID", "workerId", "assignmentId", "hitId"];
}

/// <summary>One rater as the participants list shows them, for paying and checking a crowd-sourced study.</summary>
public sealed record ParticipantView(
    [property: JsonPropertyName("pseudonym")] string Pseudonym,
    [property: JsonPropertyName("platform")] string? Platform,
    [property: JsonPropertyName("participant_id")] string? ParticipantId,
    [property: JsonPropertyName("study")] string? Study,
    [property: JsonPropertyName("session")] string? Session,
    [property: JsonPropertyName("joined_at")] DateTimeOffset JoinedAt,
    [property: JsonPropertyName("labels")] int Labels,
    [property: JsonPropertyName("seconds_spent")] double? SecondsSpent,
    [property: JsonPropertyName("completion_code_shown_at")] DateTimeOffset? CompletionCodeShownAt,
    [property: JsonPropertyName("completion_code")] string? CompletionCode);
