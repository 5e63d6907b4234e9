using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.RateLimiting;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Features.Members;
using PreferenceStudio.Web.Features.Raters;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Access;

/// <summary>Accounts, rater identities, API tokens, authorization policies and abuse limits.</summary>
public static class StudioAccessExtensions
{
    /// <summary>Picks how a request identifies itself: a bearer token if it sends one, else the account cookie.</summary>
    public const string DefaultScheme = "Studio";

    public const string SignInLimit = "signin";
    public const string JoinLimit = "join";
    public const string LabelsLimit = "labels";

    public static void AddStudioAccess(this IServiceCollection services, StudioOptions studio)
    {
        // Keys that protect sign-in and rater cookies live in the database, so every web node reads every node's
        // cookies and a restart keeps everyone signed in. Keys an older studio kept in <data>/keys are copied into the
        // database at start (DataProtectionKeysImport), so its cookies stay valid.
        services.AddDataProtection().SetApplicationName("PreferenceStudio").PersistKeysToDbContext<Core.Data.DataProtectionKeysContext>();

        services.AddAuthentication(o =>
            {
                o.DefaultScheme = DefaultScheme;
                o.DefaultSignInScheme = IdentityConstants.ApplicationScheme;
            })
            .AddPolicyScheme(DefaultScheme, "Account cookie or bearer token", o => o.ForwardDefaultSelector = c =>
                BearerAuthenticationHandler.ReadToken(c.Request) is not null ? BearerAuthenticationHandler.SchemeName : IdentityConstants.ApplicationScheme)
            .AddScheme<Microsoft.AspNetCore.Authentication.AuthenticationSchemeOptions, BearerAuthenticationHandler>(BearerAuthenticationHandler.SchemeName, null)
            .AddCookie(RaterAuthentication.Scheme, RaterAuthentication.Configure)
            .AddIdentityCookies(cookies => cookies.ApplicationCookie?.Configure(o =>
            {
                o.Cookie.Name = "ps_account";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Lax;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.LoginPath = "/account/login";
                o.LogoutPath = "/account/logout";
                o.AccessDeniedPath = "/account/denied";
                o.ExpireTimeSpan = TimeSpan.FromHours(12);
                o.SlidingExpiration = true;
            }));
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromMinutes(1));

        services.AddStudioIdentityCore(studio.Security).AddSignInManager().AddDefaultTokenProviders();

        services.AddAuthorization(StudioPolicies.Add);
        services.AddSingleton<IAuthorizationHandler, CampaignRoleHandler>();
        services.AddSingleton<IAuthorizationHandler, CampaignRaterHandler>();
        services.AddSingleton<IAuthorizationHandler, ScopeHandler>();
        services.AddSingleton<IAuthorizationHandler, MediaHandler>();
        services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, StudioAuthorizationResultHandler>();
        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, RevalidatingAccountStateProvider>();

        services.AddSingleton<CampaignAccess>();
        services.AddSingleton<ApiTokenService>();
        services.AddSingleton<UserAccounts>();
        services.AddSingleton<FirstAdminSetup>();
        services.AddSingleton<RaterDirectory>();
        services.AddSingleton<InviteService>();
        services.AddSingleton<CampaignMembers>();
        services.AddSingleton(new RaterRateLimiter(studio.Security.RateLimits.LabelsPerRater));
        services.AddStudioRateLimits(studio.Security.RateLimits);
    }

    private static void AddStudioRateLimits(this IServiceCollection services, RateLimitOptions limits)
    {
        static string Client(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        static FixedWindowRateLimiterOptions PerMinute(int permits) =>
            new() { PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0, AutoReplenishment = true };

        services.AddRateLimiter(o =>
        {
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (context, ct) =>
            {
                var http = context.HttpContext;
                if (context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retry))
                    http.Response.Headers.RetryAfter = ((int)Math.Ceiling(retry.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
                await http.RequestServices.GetRequiredService<IProblemDetailsService>().WriteAsync(new ProblemDetailsContext
                {
                    HttpContext = http,
                    ProblemDetails = new ProblemDetails
                    {
                        Status = StatusCodes.Status429TooManyRequests, Title = "Too many requests",
                        Detail = "Too many requests from this client in the last minute; wait (see Retry-After) and try again.",
                    },
                });
            };
            // Only posted sign-in forms count: looking at the page costs nothing.
            o.AddPolicy(SignInLimit, http => HttpMethods.IsPost(http.Request.Method)
                ? RateLimitPartition.GetFixedWindowLimiter("signin:" + Client(http), _ => PerMinute(limits.SignInPerClient))
                : RateLimitPartition.GetNoLimiter(""));
            o.AddPolicy(JoinLimit, http => RateLimitPartition.GetFixedWindowLimiter("join:" + Client(http), _ => PerMinute(limits.JoinPerClient)));
            o.AddPolicy(LabelsLimit, http => RateLimitPartition.GetFixedWindowLimiter("labels:" + Client(http), _ => PerMinute(limits.LabelsPerClient)));
        });
    }
}

/// <summary>
/// Labels per rater per minute, for the API and the rating page alike (the page answers through the circuit, not
/// over HTTP, so the request rate limiter alone would not see it).
/// </summary>
public sealed class RaterRateLimiter(int perMinute)
{
    private readonly PartitionedRateLimiter<string> _limiter = PartitionedRateLimiter.Create<string, string>(rater =>
        RateLimitPartition.GetFixedWindowLimiter(rater, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = perMinute, Window = TimeSpan.FromMinutes(1), QueueLimit = 0, AutoReplenishment = true,
        }));

    public int PerMinute { get; } = perMinute;

    /// <summary>Takes one permit for <paramref name="raterId"/>; throws a 429 problem when the rater is over the limit.</summary>
    public void Take(string raterId)
    {
        using var lease = _limiter.AttemptAcquire(raterId);
        if (!lease.IsAcquired)
            throw new StudioProblemException(StatusCodes.Status429TooManyRequests, "Too many answers",
                $"A rater may answer at most {PerMinute} pairs a minute; wait a moment and send the answer again (with the same idempotency key).");
    }
}
