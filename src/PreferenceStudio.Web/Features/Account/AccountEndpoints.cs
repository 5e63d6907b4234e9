using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using PreferenceStudio.Core.Data.Access;

namespace PreferenceStudio.Web.Features.Account;

/// <summary>Sign-out: a form post with an antiforgery token (so another site cannot sign a researcher out).</summary>
public static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        // Binding [FromForm] makes the antiforgery middleware check the token.
        app.MapPost("/account/logout", async ([FromForm] string? returnUrl, SignInManager<StudioUser> signIn) =>
            {
                await signIn.SignOutAsync();
                return TypedResults.LocalRedirect("/account/login?signedOut=1");
            })
            .AllowAnonymous()
            .WithName("SignOut").ExcludeFromDescription();
        return app;
    }

    /// <summary>A return address that stays on this site (an absolute or protocol-relative URL would be an open redirect).</summary>
    public static string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//", StringComparison.Ordinal)
            && !returnUrl.StartsWith("/\\", StringComparison.Ordinal) ? returnUrl : "/admin";
}
