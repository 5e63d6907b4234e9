using Microsoft.Playwright;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>Signs a person in through the studio's own sign-in page, as they would in a browser.</summary>
public static class BrowserAccounts
{
    public static async Task SignInAsync(IPage page, Uri baseAddress, string email, string password)
    {
        await page.GotoAsync(new Uri(baseAddress, "/account/login").ToString());
        await page.FillAsync("#login-email", email);
        await page.FillAsync("#login-password", password);
        await page.ClickAsync("#login-submit");
        await page.WaitForURLAsync(url => !url.Contains("/account/login", StringComparison.Ordinal), new() { Timeout = 30_000 });
    }

    /// <summary>Opens a campaign's join link and presses Join, as a new rater does; leaves the rating page open and live.</summary>
    public static async Task JoinAsync(IPage page, Uri baseAddress, string joinCode)
    {
        await page.GotoAsync(new Uri(baseAddress, $"/join/{joinCode}").ToString());
        Assert.EndsWith($"/rate/{joinCode}", page.Url);
        await page.ClickAsync("#join-button");
        await page.Locator("#join-button").WaitForAsync(new() { State = WaitForSelectorState.Detached, Timeout = 30_000 });
        Assert.EndsWith($"/rate/{joinCode}", page.Url);
        await page.WaitForSelectorAsync("#interactive-marker[data-interactive='true']", new() { State = WaitForSelectorState.Attached, Timeout = 30_000 });
    }

    /// <summary>Signs in as the factory's admin (made on first use of its API token).</summary>
    public static Task SignInAsAdminAsync(IPage page, StudioAppFactory app, Uri baseAddress)
    {
        _ = app.AdminToken;
        return SignInAsync(page, baseAddress, StudioAppFactory.AdminEmail, StudioAppFactory.AdminPassword);
    }
}
