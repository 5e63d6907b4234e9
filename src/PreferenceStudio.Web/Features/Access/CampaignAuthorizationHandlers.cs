using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Features.Raters;

namespace PreferenceStudio.Web.Features.Access;

public sealed record CampaignRoleRequirement(CampaignRole Role) : IAuthorizationRequirement;
public sealed record CampaignRaterRequirement : IAuthorizationRequirement;
public sealed record ScopeRequirement(string Scope) : IAuthorizationRequirement;
public sealed record MediaRequirement : IAuthorizationRequirement;

/// <summary>The route names a campaign that does not exist: answered 404, not 403.</summary>
public sealed class CampaignNotFoundReason(IAuthorizationHandler handler, Guid campaignId)
    : AuthorizationFailureReason(handler, $"No campaign {campaignId}.");

/// <summary>Reads the campaign id from the route ("id" in the API, "Id" on pages), on a request or in a Blazor circuit.</summary>
internal static class CampaignRoute
{
    public const string RaterItem = "studio.rater";

    public static Guid? CampaignId(object? resource)
    {
        object? value = resource switch
        {
            HttpContext http => http.GetRouteValue("id"),
            Microsoft.AspNetCore.Components.RouteData route => route.RouteValues.FirstOrDefault(v => string.Equals(v.Key, "id", StringComparison.OrdinalIgnoreCase)).Value,
            _ => null,
        };
        return value switch
        {
            Guid g => g,
            string s when Guid.TryParse(s, out var g) => g,
            _ => null,
        };
    }
}

/// <summary>A researcher's membership role in the route's campaign; admins pass everywhere.</summary>
public sealed class CampaignRoleHandler(CampaignAccess access) : AuthorizationHandler<CampaignRoleRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, CampaignRoleRequirement requirement)
    {
        if (!context.User.IsAccount()) return;
        if (CampaignRoute.CampaignId(context.Resource) is not { } id)
        {
            context.Fail(new AuthorizationFailureReason(this, "This address names no campaign."));
            return;
        }
        var (exists, role) = await access.RoleAsync(context.User, id);
        if (!exists) context.Fail(new CampaignNotFoundReason(this, id));
        else if (role >= requirement.Role) context.Succeed(requirement);
        else context.Fail(new AuthorizationFailureReason(this, role is null
            ? $"You are not a member of campaign {id}; one of its owners can add you."
            : $"This needs the {requirement.Role.ToString().ToLowerInvariant()} role in campaign {id}; you are {role.Value.ToString().ToLowerInvariant()}."));
    }
}

/// <summary>
/// A rater identity (cookie or token) for the route's campaign that the campaign still has. The rater is left in
/// HttpContext.Items for the endpoint (<see cref="RaterContext.Current"/>).
/// </summary>
public sealed class CampaignRaterHandler(RaterDirectory raters, IDbContextFactory<StudioDbContext> dbFactory) : AuthorizationHandler<CampaignRaterRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, CampaignRaterRequirement requirement)
    {
        var mine = context.User.Raters();
        if (mine.Count == 0)
        {
            if (context.User.Identity?.IsAuthenticated == true)
                context.Fail(new AuthorizationFailureReason(this, "Only a rater of this campaign may do this: open its join link, or use a rater token from POST .../raters."));
            return;
        }
        if (CampaignRoute.CampaignId(context.Resource) is not { } id || context.Resource is not HttpContext http) return;
        if (!mine.TryGetValue(id, out var raterId))
        {
            await using var db = await dbFactory.CreateDbContextAsync();
            context.Fail(await db.Campaigns.AnyAsync(c => c.Id == id)
                ? new AuthorizationFailureReason(this, $"Your rater identity belongs to another campaign; open the join link of campaign {id} to rate it.")
                : new CampaignNotFoundReason(this, id));
            return;
        }
        var rater = http.Items[BearerAuthenticationHandler.AuthenticatedRaterItem] is RaterRef known && known.CampaignId == id && known.Id == raterId
            ? known
            : await raters.FindAsync(id, raterId, http.RequestAborted);
        if (rater is null)
        {
            context.Fail(new AuthorizationFailureReason(this, "Your rater identity in this campaign is no longer valid: your data was erased by its researchers."));
            return;
        }
        http.Items[CampaignRoute.RaterItem] = rater;
        context.Succeed(requirement);
    }
}

/// <summary>The rater the authorization step resolved for this request.</summary>
public static class RaterContext
{
    public static RaterRef Current(HttpContext http) =>
        http.Items[CampaignRoute.RaterItem] as RaterRef
        ?? throw new InvalidOperationException("No rater was resolved: the endpoint must require the campaign:rater policy.");
}

/// <summary>An API token needs the scope; a browser session is not limited by scopes.</summary>
public sealed class ScopeHandler : AuthorizationHandler<ScopeRequirement>
{
    protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
    {
        if (context.User.HasScope(requirement.Scope)) context.Succeed(requirement);
        else if (context.User.IsAccount())
            context.Fail(new AuthorizationFailureReason(this, $"This API token does not have the scope '{requirement.Scope}'; make a token that has it."));
        return Task.CompletedTask;
    }
}

/// <summary>
/// A clip or poster goes to the raters and members of a campaign it belongs to (clips are content-addressed, so one
/// file can belong to several), and to admins.
/// </summary>
public sealed class MediaHandler(IDbContextFactory<StudioDbContext> dbFactory) : AuthorizationHandler<MediaRequirement>
{
    protected override async Task HandleRequirementAsync(AuthorizationHandlerContext context, MediaRequirement requirement)
    {
        if (context.Resource is not HttpContext http || http.GetRouteValue("fileName") is not string fileName) return;
        // This policy merges the account cookie, a bearer token and the rater cookie into one principal: judge each
        // account identity on its own, so one identity's role cannot lend another's token a scope it lacks.
        var accounts = context.User.Identities
            .Where(i => i.IsAuthenticated && i.AuthenticationType != RaterAuthentication.AuthenticationType
                        && (i.AuthenticationType != StudioClaims.ApiTokenAuthenticationType || i.HasClaim(StudioClaims.Scope, ApiScopes.CampaignsRead)))
            .ToList();
        if (accounts.Any(i => i.HasClaim(i.RoleClaimType, StudioRoles.Admin))) { context.Succeed(requirement); return; }
        await using var db = await dbFactory.CreateDbContextAsync(http.RequestAborted);
        var campaigns = await db.Clips.Where(c => c.FileName == fileName || c.PosterFileName == fileName)
            .Select(c => c.Segment!.CampaignId).Distinct().ToListAsync(http.RequestAborted);
        if (campaigns.Count == 0)
        {
            // Nothing to protect and nothing to serve: let the endpoint answer 404.
            context.Succeed(requirement);
            return;
        }
        var userIds = accounts.Where(i => i.HasClaim(i.RoleClaimType, StudioRoles.Researcher))
            .Select(i => i.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value).OfType<string>().ToList();
        if (userIds.Count > 0 && await db.CampaignMembers.AnyAsync(m => userIds.Contains(m.UserId) && campaigns.Contains(m.CampaignId), http.RequestAborted))
        {
            context.Succeed(requirement);
            return;
        }
        var raterIds = context.User.Raters().Where(r => campaigns.Contains(r.Key)).Select(r => r.Value).ToList();
        if (raterIds.Count > 0 && await db.CampaignRaters.AnyAsync(r => campaigns.Contains(r.CampaignId) && raterIds.Contains(r.RaterId) && r.ErasedAt == null, http.RequestAborted))
        {
            context.Succeed(requirement);
            return;
        }
        context.Fail(new AuthorizationFailureReason(this, "This clip belongs to campaigns you neither rate nor are a member of."));
    }
}
