using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Mvc;

namespace PreferenceStudio.Web.Features.Access;

/// <summary>
/// Refusals as the caller needs them: the API, clips and the hub answer 401 (no identity, or a refused token) and 403
/// (an identity without the right) as ProblemDetails whose detail says what is missing, and 404 for a campaign
/// that does not exist; pages go on to the sign-in or access-denied page as usual.
/// </summary>
public sealed class StudioAuthorizationResultHandler(IProblemDetailsService problemDetails) : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public static bool IsMachineFacing(PathString path) =>
        path.StartsWithSegments("/api") || path.StartsWithSegments("/media") || path.StartsWithSegments("/hubs") || path.StartsWithSegments("/openapi");

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Succeeded)
        {
            await next(context);
            return;
        }
        var reasons = result.AuthorizationFailure?.FailureReasons ?? [];
        var notFound = reasons.OfType<CampaignNotFoundReason>().FirstOrDefault();
        if (!IsMachineFacing(context.Request.Path))
        {
            if (notFound is not null)
            {
                // The studio's not-found page (status-code pages re-execute an empty 404).
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            await _default.HandleAsync(next, context, policy, result);
            return;
        }

        ProblemDetails problem;
        if (notFound is not null)
            problem = new ProblemDetails { Status = StatusCodes.Status404NotFound, Title = "Not found", Detail = notFound.Message };
        else if (result.Challenged)
        {
            var why = context.Items[BearerAuthenticationHandler.FailureItem] as string;
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status401Unauthorized,
                Title = "Not signed in",
                Detail = why ?? "This needs an identity: send Authorization: Bearer <token> (an API token made on the Tokens page or with "
                    + "`studio tokens create`, or a rater token from POST /api/v1/campaigns/{id}/raters), sign in, or open the campaign's join link.",
            };
            context.Response.Headers.WWWAuthenticate = why is null ? "Bearer" : "Bearer error=\"invalid_token\"";
        }
        else
        {
            var why = string.Join(" ", reasons.Select(r => r.Message).Distinct());
            problem = new ProblemDetails
            {
                Status = StatusCodes.Status403Forbidden,
                Title = "Forbidden",
                Detail = why.Length > 0 ? why : "Your identity may not use this endpoint: it needs " + Describe(policy) + ".",
            };
        }
        context.Response.StatusCode = problem.Status!.Value;
        await problemDetails.WriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = problem });
    }

    private static string Describe(AuthorizationPolicy policy)
    {
        var roles = policy.Requirements.OfType<Microsoft.AspNetCore.Authorization.Infrastructure.RolesAuthorizationRequirement>()
            .SelectMany(r => r.AllowedRoles).Distinct().ToList();
        return roles.Count > 0 ? $"an account with the role {string.Join(" or ", roles)}" : "another identity";
    }
}
