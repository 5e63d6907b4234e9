using Microsoft.AspNetCore.Identity;

namespace PreferenceStudio.Core.Data.Access;

/// <summary>A person who signs in: an administrator or a researcher (raters are not accounts, see <see cref="CampaignRater"/>).</summary>
public class StudioUser : IdentityUser
{
    /// <summary>UTC.</summary>
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}

/// <summary>The two account roles. An admin manages users and sees every campaign; a researcher sees the campaigns they are a member of.</summary>
public static class StudioRoles
{
    public const string Admin = "admin";
    public const string Researcher = "researcher";

    public static readonly IReadOnlyList<string> All = [Admin, Researcher];

    /// <summary>For [Authorize(Roles = ...)]: anyone who signs in.</summary>
    public const string AnyAccount = Admin + "," + Researcher;
}
