using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Web.Features.Raters;

namespace PreferenceStudio.Web.Features.Access;

/// <summary>
/// <c>Authorization: Bearer</c> with a token the studio issued: a researcher's API token (<c>pst_...</c>: the
/// account, its roles and the token's scopes) or a scripted rater's token (<c>psr_...</c>: that rater in that
/// campaign). SignalR clients may send it as <c>access_token</c> in the query string of /hubs requests, since
/// browsers cannot set headers on WebSockets. A revoked, expired or unknown token fails, and the reason reaches the
/// caller's 401.
/// </summary>
public sealed class BearerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IDbContextFactory<StudioDbContext> dbFactory, RaterDirectory raters)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";
    /// <summary>HttpContext item holding why a bearer token was refused, for the 401 the caller gets.</summary>
    public const string FailureItem = "studio.bearer-failure";

    /// <summary>The rater a rater token authenticated in this request (HttpContext.Items), as read from the database.</summary>
    public const string AuthenticatedRaterItem = "studio.bearer-rater";

    public static string? ReadToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return header["Bearer ".Length..].Trim();
        if (request.Path.StartsWithSegments("/hubs") && request.Query["access_token"].ToString() is { Length: > 0 } query) return query;
        return null;
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var token = ReadToken(Request);
        if (token is null) return AuthenticateResult.NoResult();
        if (SecretTokens.LooksLike(token, SecretTokens.ApiPrefix)) return await ResearcherAsync(token);
        if (SecretTokens.LooksLike(token, SecretTokens.RaterPrefix)) return await RaterAsync(token);
        return Fail("The bearer token is not one this studio issues: an API token starts with 'pst_', a rater token with 'psr_'.");
    }

    private async Task<AuthenticateResult> ResearcherAsync(string token)
    {
        var hash = SecretTokens.Hash(token);
        var now = DateTimeOffset.UtcNow;
        await using var db = await dbFactory.CreateDbContextAsync(Context.RequestAborted);
        var row = await db.ApiTokens.AsNoTracking().Where(t => t.TokenHash == hash)
            .Select(t => new
            {
                t.Id, t.UserId, t.Name, t.Scopes, t.ExpiresAt, t.RevokedAt, t.LastUsedAt, t.User!.Email, t.User.LockoutEnd, t.User.SecurityStamp,
                Roles = db.UserRoles.Where(ur => ur.UserId == t.UserId).Join(db.Roles, ur => ur.RoleId, r => r.Id, (ur, r) => r.Name!).ToList(),
            })
            .FirstOrDefaultAsync(Context.RequestAborted);
        if (row is null) return Fail("The API token is not known to this studio; make a new one on the Tokens page or with `studio tokens create`.");
        if (row.RevokedAt is { } revoked) return Fail($"The API token '{row.Name}' was revoked at {revoked:u}.");
        if (row.ExpiresAt <= now) return Fail($"The API token '{row.Name}' expired at {row.ExpiresAt:u}; make a new one.");
        if (row.LockoutEnd is { } until && until > now) return Fail("The account this token belongs to is locked.");

        // Recorded at most once a minute per token: enough to see which tokens are in use without a write per request.
        if (row.LastUsedAt is null || row.LastUsedAt < now.AddMinutes(-1))
            await db.ApiTokens.Where(t => t.Id == row.Id).ExecuteUpdateAsync(u => u.SetProperty(t => t.LastUsedAt, now), Context.RequestAborted);

        var identity = new ClaimsIdentity(StudioClaims.ApiTokenAuthenticationType, ClaimTypes.Name, ClaimTypes.Role);
        identity.AddClaim(new Claim(ClaimTypes.NameIdentifier, row.UserId));
        identity.AddClaim(new Claim(ClaimTypes.Name, row.Email ?? row.UserId));
        foreach (var role in row.Roles) identity.AddClaim(new Claim(ClaimTypes.Role, role));
        foreach (var scope in row.Scopes) identity.AddClaim(new Claim(StudioClaims.Scope, scope));
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    private async Task<AuthenticateResult> RaterAsync(string token)
    {
        var rater = await raters.FindByTokenAsync(token, Context.RequestAborted);
        if (rater is null) return Fail("The rater token is not known to this studio, or its rater was erased from the campaign.");
        // Found just now: the authorization step of this request uses it rather than asking the database again.
        Context.Items[AuthenticatedRaterItem] = rater;
        var identity = new ClaimsIdentity(RaterAuthentication.AuthenticationType);
        identity.AddClaim(new Claim(StudioClaims.Rater, StudioClaims.RaterClaimValue(rater.CampaignId, rater.Id)));
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    private AuthenticateResult Fail(string why)
    {
        Context.Items[FailureItem] = why;
        return AuthenticateResult.Fail(why);
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = Context.Items.ContainsKey(FailureItem) ? "Bearer error=\"invalid_token\"" : "Bearer";
        return Task.CompletedTask;
    }
}
