using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using PreferenceStudio.Core.Data.Access;

namespace PreferenceStudio.Web.Features.Access;

/// <summary>
/// The studio's authorization policies. Every endpoint and page names one (or allows anonymous use explicitly);
/// the authorization matrix test enumerates them all.
/// </summary>
public static class StudioPolicies
{
    /// <summary>Any account (admin or researcher), signed in or with an API token.</summary>
    public const string Account = "account";
    public const string Admin = "admin";
    /// <summary>A member of the route's campaign with at least that role (admins always).</summary>
    public const string CampaignViewer = "campaign:viewer";
    public const string CampaignEditor = "campaign:editor";
    public const string CampaignOwner = "campaign:owner";
    /// <summary>A rater of the route's campaign, by rater cookie or rater token.</summary>
    public const string CampaignRater = "campaign:rater";
    /// <summary>A rater or member of a campaign the requested clip belongs to.</summary>
    public const string Media = "media";

    /// <summary>An API token must carry this scope (a browser session always may).</summary>
    public static string Scope(string scope) => "scope:" + scope;

    public static string ForRole(CampaignRole role) => role switch
    {
        CampaignRole.Viewer => CampaignViewer,
        CampaignRole.Editor => CampaignEditor,
        _ => CampaignOwner,
    };

    public static void Add(AuthorizationOptions o)
    {
        o.AddPolicy(Account, p => p.RequireRole(StudioRoles.Admin, StudioRoles.Researcher));
        o.AddPolicy(Admin, p => p.RequireRole(StudioRoles.Admin));
        foreach (var role in Enum.GetValues<CampaignRole>())
            o.AddPolicy(ForRole(role), p => p.RequireRole(StudioRoles.Admin, StudioRoles.Researcher).AddRequirements(new CampaignRoleRequirement(role)));
        o.AddPolicy(CampaignRater, p => p.AddAuthenticationSchemes(BearerAuthenticationHandler.SchemeName, RaterAuthentication.Scheme)
            .RequireAuthenticatedUser().AddRequirements(new CampaignRaterRequirement()));
        o.AddPolicy(Media, p => p.AddAuthenticationSchemes(IdentityConstants.ApplicationScheme, BearerAuthenticationHandler.SchemeName, RaterAuthentication.Scheme)
            .RequireAuthenticatedUser().AddRequirements(new MediaRequirement()));
        foreach (var scope in ApiScopes.All)
            o.AddPolicy(Scope(scope), p => p.RequireAuthenticatedUser().AddRequirements(new ScopeRequirement(scope)));
        // No fallback policy: it would also answer addresses that match no endpoint with 401 or the sign-in page
        // instead of 404. Every endpoint states its access instead, which the authorization matrix test enforces.
    }
}

/// <summary>Adds a campaign role and an API scope to an endpoint in one call.</summary>
public static class StudioAuthorizationConventions
{
    public static TBuilder RequireCampaign<TBuilder>(this TBuilder builder, CampaignRole role, string scope) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(StudioPolicies.ForRole(role), StudioPolicies.Scope(scope));

    public static TBuilder RequireAccount<TBuilder>(this TBuilder builder, string scope) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(StudioPolicies.Account, StudioPolicies.Scope(scope));

    public static TBuilder RequireRater<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireAuthorization(StudioPolicies.CampaignRater);
}
