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
public enum JoinRefusal { None, UnknownCampaign, InviteRequired, InviteInvalid, CampaignFull }
