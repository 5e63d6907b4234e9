namespace PreferenceStudio.Web.Hosting;

/// <summary>
/// Headers every response carries. The Content-Security-Policy allows only the studio's own scripts, media and
/// connections (Blazor's WebSocket counts as 'self'); styles may be inline because MudBlazor sets style attributes.
/// No page may be framed (clickjacking), no response sniffed into another type, and no address (an invite link
/// holds a secret) leaks to another site in the Referer header.
/// </summary>
public static class SecurityHeaders
{
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; media-src 'self' blob:; "
        + "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    public static IApplicationBuilder UseStudioSecurityHeaders(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            // The API reference's one inline script is allowed by the nonce Scalar made for this response only.
            headers.ContentSecurityPolicy = context.Items.TryGetValue(Scalar.AspNetCore.ScalarOptions.NonceHttpContextItemKey, out var nonce) && nonce is string value
                ? ContentSecurityPolicy.Replace("script-src 'self';", $"script-src 'self' 'nonce-{value}';")
                : ContentSecurityPolicy;
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "no-referrer";
            headers["Cross-Origin-Opener-Policy"] = "same-origin";
            headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()";
            return Task.CompletedTask;
        });
        await next(context);
    });
}
