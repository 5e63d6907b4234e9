using Microsoft.Extensions.DependencyInjection;
using PreferenceStudio.Cli.Commands;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Features.Access;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>Accounts made straight in a studio's database with the CLI's account services (for a studio run as a separate process).</summary>
public static class TestAccounts
{
    public static async Task<string> AdminTokenAsync(string connectionString)
    {
        await using var services = await AccountServices.CreateAsync(connectionString);
        var accounts = services.GetRequiredService<UserAccounts>();
        var admin = (await accounts.ListAsync()).FirstOrDefault(u => u.Email == StudioAppFactory.AdminEmail)
            ?? await accounts.CreateAsync(StudioAppFactory.AdminEmail, StudioAppFactory.AdminPassword, StudioRoles.Admin);
        return (await services.GetRequiredService<ApiTokenService>().CreateAsync(admin.Id, "tests", ApiScopes.All, 30)).Secret;
    }
}
