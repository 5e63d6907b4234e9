namespace PreferenceStudio.Web.Features.Rating;

/// <summary>The pseudonymous rater id kept in a cookie until accounts exist.</summary>
public static class RaterCookie
{
    public const string Name = "ps_rater";

    public static string? Read(HttpContext? context)
    {
        var value = context?.Request.Cookies[Name];
        return IsWellFormed(value) ? value : null;
    }

    public static void Write(HttpContext context, string raterId) =>
        context.Response.Cookies.Append(Name, raterId, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Lax,
            IsEssential = true,
            MaxAge = TimeSpan.FromDays(365),
        });

    public static string NewId() => "r-" + Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(6));

    public static bool IsWellFormed(string? id) =>
        id is { Length: > 2 and <= 64 } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
