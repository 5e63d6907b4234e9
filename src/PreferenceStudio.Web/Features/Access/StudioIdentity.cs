using Microsoft.AspNetCore.Identity;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Access;

/// <summary>ASP.NET Core Identity as the studio configures it, shared by the web host and the <c>studio</c> CLI.</summary>
public static class StudioIdentity
{
    public static IdentityBuilder AddStudioIdentityCore(this IServiceCollection services, SecurityOptions security) =>
        services.AddIdentityCore<StudioUser>(o =>
            {
                o.User.RequireUniqueEmail = true;
                // Length over composition rules (NIST SP 800-63B): a long passphrase beats "Passw0rd!".
                o.Password.RequiredLength = 10;
                o.Password.RequireDigit = false;
                o.Password.RequireLowercase = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequiredUniqueChars = 4;
                o.Lockout.AllowedForNewUsers = true;
                o.Lockout.MaxFailedAccessAttempts = security.MaxFailedSignIns;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(security.LockoutMinutes);
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<StudioDbContext>();
}
