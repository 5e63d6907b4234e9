using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.IntegrationTests.Infrastructure;
using PreferenceStudio.IntegrationTests.Web;

namespace PreferenceStudio.IntegrationTests.Access;

/// <summary>
/// A fresh studio as a new team meets it, in Chromium against the studio run as its own process: the set-up link
/// from the console makes the admin, the admin makes two researchers, one of them signs in and runs a campaign, a
/// rater joins by its link and answers, and the other researcher cannot see it until the owner adds them as a viewer;
/// a token made on the Tokens page works for a script until it is revoked. No page breaks its own
/// Content-Security-Policy along the way.
/// </summary>
public sealed partial class FirstStartBrowserTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const string Password = "a long enough passphrase";

    [GeneratedRegex(@"http://127\.0\.0\.1:\d+/setup\?token=pss_[A-Za-z0-9_-]+")]
    private static partial Regex SetupLink();

    [Fact]
    public async Task The_set_up_link_makes_the_admin_who_adds_researchers_who_run_a_campaign_that_a_rater_answers()
    {
        var cs = await postgres.CreateDatabaseAsync("first_start");
        await using var studio = await StudioProcess.StartAsync(cs, StudioAppFactory.NewDataRoot("first-start"), createAdmin: false);
        var link = await WaitForAsync(() => SetupLink().Match(studio.Log) is { Success: true } m ? m.Value : null, "the set-up link on the console");
        Assert.Single(SetupLink().Matches(studio.Log));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var violations = new List<string>();
        async Task<IPage> NewPageAsync()
        {
            var page = await (await browser.NewContextAsync()).NewPageAsync();
            page.Console += (_, m) => { if (m.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase)) lock (violations) violations.Add(m.Text); };
            page.PageError += (_, e) => { lock (violations) violations.Add(e); };
            return page;
        }
        var admin = await NewPageAsync();
        var researcher = await NewPageAsync();
        await Screenshots.KeepOnFailureAsync(admin, "first-start-admin", async () =>
        {
            // The set-up link: the first admin chooses a password and lands on the Users page, signed in.
            await admin.GotoAsync(link);
            await admin.FillAsync("#setup-email", "head@lab.test");
            await admin.FillAsync("#setup-password", Password);
            await admin.FillAsync("#setup-confirm", Password);
            await admin.ClickAsync("#setup-submit");
            await admin.WaitForURLAsync("**/admin/users?welcome=1");
            await WaitInteractiveAsync(admin);
            await admin.Locator("#welcome").WaitForAsync();
            // The link is used up.
            var again = await NewPageAsync();
            await again.GotoAsync(link);
            await again.Locator("#setup-invalid").WaitForAsync();

            foreach (var email in new[] { "ada@lab.test", "bo@lab.test" })
            {
                await admin.GetByLabel("Email").FillAsync(email);
                await admin.GetByLabel("First password", new() { Exact = false }).FillAsync(Password);
                await admin.ClickAsync("#create-user");
                await admin.Locator("#user-table td", new() { HasText = email }).WaitForAsync(new() { Timeout = 10_000 });
            }
            await admin.ScreenshotAsync(new() { Path = Screenshots.PathFor("first-start-users.png"), FullPage = true });
        });

        Guid campaignId = default;
        string joinCode = "";
        await Screenshots.KeepOnFailureAsync(researcher, "first-start-researcher", async () =>
        {
            await BrowserAccounts.SignInAsync(researcher, studio.Address, "ada@lab.test", Password);
            await researcher.GotoAsync(new Uri(studio.Address, "/admin").ToString());
            await WaitInteractiveAsync(researcher);
            await researcher.GetByLabel("Name").FillAsync("Ada's study");
            await researcher.GetByLabel("Pairs per round").FillAsync("4");
            await researcher.GetByLabel("Labels wanted per round").FillAsync("4");
            await researcher.GetByLabel("Rounds").FillAsync("1");
            await researcher.ClickAsync("#create-and-start");
            var row = researcher.Locator("#campaign-table a", new() { HasText = "Ada's study" });
            await row.WaitForAsync(new() { Timeout = 10_000 });
            await row.ClickAsync();
            await researcher.WaitForURLAsync("**/admin/campaigns/*");
            campaignId = Guid.Parse(researcher.Url.Split('/')[^1]);
            await Assertions.Expect(researcher.Locator("#your-role")).ToHaveTextAsync("owner", new() { Timeout = 20_000 });
            joinCode = (await researcher.Locator("#join-link").InnerTextAsync()).Split('/')[^1];
        });

        // A rater joins by the link and answers a pair: no account, an identity of this campaign.
        await StudioTestApi.WaitForRoundAsync(cs, campaignId, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        var rater = await NewPageAsync();
        await Screenshots.KeepOnFailureAsync(rater, "first-start-rater", async () =>
        {
            await BrowserAccounts.JoinAsync(rater, studio.Address, joinCode);
            var pair = rater.Locator("#pair");
            await pair.WaitForAsync(new() { Timeout = 30_000 });
            var first = await pair.GetAttributeAsync("data-comparison-id");
            await rater.ClickAsync("#answer-right");
            await rater.WaitForFunctionAsync("id => { const p = document.getElementById('pair'); return p && p.dataset.comparisonId !== id; }", first, new() { Timeout = 30_000 });
        });
        await using (var db = StudioDbContext.Create(cs))
        {
            var label = await db.Labels.AsNoTracking().SingleAsync(l => l.CampaignId == campaignId);
            Assert.Equal(PreferenceChoice.Right, label.Choice);
            Assert.Equal("human", label.Source);
        }
        // The owner sees the rater by pseudonym, live.
        await Assertions.Expect(researcher.Locator("#raters-table td[data-rater^='p-']")).ToHaveCountAsync(1, new() { Timeout = 20_000 });

        // The other researcher sees no campaign, and the campaign's own address is refused.
        var other = await NewPageAsync();
        await Screenshots.KeepOnFailureAsync(other, "first-start-other", async () =>
        {
            await BrowserAccounts.SignInAsync(other, studio.Address, "bo@lab.test", Password);
            await other.GotoAsync(new Uri(studio.Address, "/admin").ToString());
            await WaitInteractiveAsync(other);
            await other.GetByText("No campaigns yet").WaitForAsync();
            Assert.DoesNotContain(joinCode, await other.ContentAsync());
            await other.GotoAsync(new Uri(studio.Address, $"/admin/campaigns/{campaignId}").ToString());
            await other.Locator("#access-denied").WaitForAsync();
        });

        // The owner adds the other researcher as a viewer on the campaign page; now they see it, without the controls.
        await Screenshots.KeepOnFailureAsync(researcher, "first-start-members", async () =>
        {
            await researcher.GetByLabel("Researcher's email").FillAsync("bo@lab.test");
            await researcher.ClickAsync("#add-member");
            await researcher.Locator("#members-table td[data-member='bo@lab.test']").WaitForAsync(new() { Timeout = 10_000 });
        });
        await Screenshots.KeepOnFailureAsync(other, "first-start-viewer", async () =>
        {
            await other.GotoAsync(new Uri(studio.Address, $"/admin/campaigns/{campaignId}").ToString());
            await WaitInteractiveAsync(other);
            await Assertions.Expect(other.Locator("#your-role")).ToHaveTextAsync("viewer", new() { Timeout = 20_000 });
            Assert.Equal(0, await other.Locator("#pause-campaign").CountAsync());
        });

        // A token made on the Tokens page, shown once, works for a script and stops when revoked.
        await Screenshots.KeepOnFailureAsync(researcher, "first-start-tokens", async () =>
        {
            await researcher.GotoAsync(new Uri(studio.Address, "/account/tokens").ToString());
            await WaitInteractiveAsync(researcher);
            await researcher.GetByLabel("Name").FillAsync("notebook");
            await researcher.ClickAsync("#create-token");
            var token = (await researcher.Locator("#new-token").InnerTextAsync()).Trim();
            Assert.StartsWith("pst_", token);
            using var script = new HttpClient { BaseAddress = studio.Address };
            script.DefaultRequestHeaders.Authorization = new("Bearer", token);
            var listed = await script.GetStringAsync("/api/v1/campaigns");
            Assert.Contains(campaignId.ToString(), listed);
            Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await script.PostAsync($"/api/v1/campaigns/{campaignId}/pause", null)).StatusCode);
            await researcher.ClickAsync("[data-revoke='notebook']");
            await researcher.Locator("#token-table td", new() { HasText = "revoked" }).WaitForAsync(new() { Timeout = 10_000 });
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await script.GetAsync("/api/v1/campaigns")).StatusCode);
        });

        lock (violations) Assert.True(violations.Count == 0, "the pages reported:\n" + string.Join("\n", violations));
    }

    private static Task WaitInteractiveAsync(IPage page) =>
        page.WaitForSelectorAsync("#interactive-marker[data-interactive='true']", new() { State = WaitForSelectorState.Attached, Timeout = 30_000 });

    private static async Task<T> WaitForAsync<T>(Func<T?> probe, string what) where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (DateTime.UtcNow < deadline)
        {
            if (probe() is { } value) return value;
            await Task.Delay(100);
        }
        throw new TimeoutException($"No {what} within 20 s.");
    }
}
