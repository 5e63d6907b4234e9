using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using PreferenceStudio.Web.Features.Raters;

namespace PreferenceStudio.Web.Features.Access;

/// <summary>
/// The rater cookie: issued by the server when someone opens a join link, protected by ASP.NET Core Data
/// Protection (a changed or forged cookie does not decrypt and is ignored), HttpOnly, SameSite=Lax (so a link from a
/// recruitment site still lands signed in) and Secure under HTTPS. It holds one rater identity per campaign joined.
/// </summary>
public static class RaterAuthentication
{
    public const string Scheme = "Rater";
    public const string CookieName = "ps_rater";
    /// <summary>Authentication type of every rater identity, cookie or token.</summary>
    public const string AuthenticationType = "Rater";
    /// <summary>A browser remembers at most this many campaigns; the oldest is dropped, to keep the cookie small.</summary>
    public const int MaxCampaignsPerBrowser = 20;

    public static void Configure(CookieAuthenticationOptions o)
    {
        o.Cookie.Name = CookieName;
        o.Cookie.HttpOnly = true;
        o.Cookie.SameSite = SameSiteMode.Lax;
        o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
        o.Cookie.IsEssential = true;
        o.ExpireTimeSpan = TimeSpan.FromDays(365);
        o.SlidingExpiration = true;
        // A rater is never sent to a sign-in page: the API answers 401/403 as ProblemDetails, pages say "open your join link".
        o.Events.OnRedirectToLogin = c => { c.Response.StatusCode = StatusCodes.Status401Unauthorized; return Task.CompletedTask; };
        o.Events.OnRedirectToAccessDenied = c => { c.Response.StatusCode = StatusCodes.Status403Forbidden; return Task.CompletedTask; };
    }

    /// <summary>The rater ids this browser's cookie holds, by campaign (empty without a valid cookie).</summary>
    public static async Task<Dictionary<Guid, string>> ReadAsync(HttpContext http)
    {
        var result = await http.AuthenticateAsync(Scheme);
        return result.Succeeded ? result.Principal.Raters() : [];
    }

    /// <summary>Adds <paramref name="rater"/> to the browser's cookie, keeping its identities in other campaigns.</summary>
    public static async Task SignInAsync(HttpContext http, RaterRef rater)
    {
        var existing = await ReadAsync(http);
        existing.Remove(rater.CampaignId);
        var identity = new ClaimsIdentity(AuthenticationType);
        foreach (var (campaign, id) in existing.TakeLast(MaxCampaignsPerBrowser - 1))
            identity.AddClaim(new Claim(StudioClaims.Rater, StudioClaims.RaterClaimValue(campaign, id)));
        identity.AddClaim(new Claim(StudioClaims.Rater, StudioClaims.RaterClaimValue(rater.CampaignId, rater.Id)));
        await http.SignInAsync(Scheme, new ClaimsPrincipal(identity), new AuthenticationProperties { IsPersistent = true });
    }
}
