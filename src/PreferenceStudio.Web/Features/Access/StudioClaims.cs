using System.Security.Claims;
using PreferenceStudio.Core.Data.Access;

namespace PreferenceStudio.Web.Features.Access;

/// <summary>Claims the studio's identities carry, and how to read them.</summary>
public static class StudioClaims
{
    /// <summary>A rater identity in one campaign: "{campaign id, 32 hex}:{rater id}". A browser may hold several.</summary>
    public const string Rater = "ps:rater";

    /// <summary>An API token's scope (one claim per scope); a signed-in browser session has none and is not limited by them.</summary>
    public const string Scope = "ps:scope";

    /// <summary>Authentication type of a principal made from a researcher's API token.</summary>
    public const string ApiTokenAuthenticationType = "ApiToken";

    public static string? UserId(this ClaimsPrincipal user) =>
        user.Identities.Any(i => i.IsAuthenticated && i.AuthenticationType != RaterAuthentication.AuthenticationType)
            ? user.FindFirstValue(ClaimTypes.NameIdentifier) : null;

    public static bool IsAdmin(this ClaimsPrincipal user) => user.IsInRole(StudioRoles.Admin);

    public static bool IsAccount(this ClaimsPrincipal user) => user.IsInRole(StudioRoles.Admin) || user.IsInRole(StudioRoles.Researcher);

    /// <summary>Whether the principal may use <paramref name="scope"/>: always for a browser session, for a token only if it was given the scope.</summary>
    public static bool HasScope(this ClaimsPrincipal user, string scope) =>
        user.Identities.Any(i => i.IsAuthenticated && i.AuthenticationType != RaterAuthentication.AuthenticationType
            && (i.AuthenticationType != ApiTokenAuthenticationType || i.HasClaim(Scope, scope)));

    public static string RaterClaimValue(Guid campaignId, string raterId) => $"{campaignId:N}:{raterId}";

    /// <summary>The principal's rater ids by campaign (from a rater cookie or a rater token).</summary>
    public static Dictionary<Guid, string> Raters(this ClaimsPrincipal? user)
    {
        var map = new Dictionary<Guid, string>();
        if (user is null) return map;
        foreach (var claim in user.FindAll(Rater))
            if (TryParseRater(claim.Value, out var campaign, out var rater)) map[campaign] = rater;
        return map;
    }

    public static bool TryParseRater(string value, out Guid campaignId, out string raterId)
    {
        raterId = "";
        int colon = value.IndexOf(':');
        if (colon != 32 || !Guid.TryParseExact(value[..colon], "N", out campaignId)) { campaignId = Guid.Empty; return false; }
        raterId = value[(colon + 1)..];
        return raterId.Length > 0;
    }
}
