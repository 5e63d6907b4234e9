using PreferenceStudio.Environments.Hierarchy;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PreferenceStudio.Core.Data;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>A researcher in Chromium: the form refuses impossible settings, creates and starts a campaign, and the
/// campaign page follows labels as they arrive, without a reload.</summary>
public sealed class AdminBrowserTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task A_researcher_creates_and_starts_a_campaign_and_watches_labels_arrive_live()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("admin"), StudioAppFactory.NewDataRoot("admin"), kestrel: true);
        app.StartServer();
        var http = app.CreateClient();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await Screenshots.KeepOnFailureAsync(page, "admin", async () =>
        {
            await BrowserAccounts.SignInAsAdminAsync(page, app, http.BaseAddress!);
            await page.GotoAsync(new Uri(http.BaseAddress!, "/admin").ToString());
            await page.WaitForSelectorAsync("#interactive-marker[data-interactive='true']", new() { State = WaitForSelectorState.Attached, Timeout = 30_000 });

            // Impossible settings: no name and more labels than the pairs can hold. Nothing is created.
            await page.GetByLabel("Pairs per round").FillAsync("2");
            await page.GetByLabel("Labels wanted per round").FillAsync("50");
            await page.ClickAsync("#create-campaign");
            await page.GetByText("Give the campaign a name.").WaitForAsync(new() { Timeout = 10_000 });
            await page.GetByText("can collect at most 10 labels").WaitForAsync(new() { Timeout = 10_000 });
            await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("admin-form-errors.png"), FullPage = true });
            await using (var db = app.CreateDb())
                Assert.Equal(0, await db.Campaigns.CountAsync());

            await page.GetByLabel("Name").FillAsync("From the browser");
            await page.GetByLabel("Pairs per round").FillAsync("4");
            await page.GetByLabel("Labels wanted per round").FillAsync("3");
            await page.GetByLabel("Rounds").FillAsync("2");
            await page.ClickAsync("#create-and-start");
            var link = page.Locator("#campaign-table a", new() { HasText = "From the browser" });
            await link.WaitForAsync(new() { Timeout = 10_000 });

            // The link appears as soon as the campaign is created; starting it follows a moment later.
            Campaign campaign;
            var started = DateTime.UtcNow.AddSeconds(10);
            while (true)
            {
                await using (var db = app.CreateDb())
                    campaign = await db.Campaigns.AsNoTracking().SingleAsync();
                if (campaign.Status != CampaignStatus.Draft || DateTime.UtcNow > started) break;
                await Task.Delay(100);
            }
            Assert.Equal(4, campaign.PairsPerRound);
            Assert.Equal(3, campaign.LabelsPerRound);
            Assert.Equal(2, campaign.RoundCount);
            Assert.Equal(CampaignStatus.Running, campaign.Status);

            await link.ClickAsync();
            await page.WaitForURLAsync($"**/admin/campaigns/{campaign.Id}");
            await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign.Id, 0, RoundStatus.Open, TimeSpan.FromSeconds(90));
            var labelsCell = page.Locator("[data-round-labels='0']");
            await Assertions.Expect(labelsCell).ToHaveTextAsync("0 / 3", new() { Timeout = 20_000 });

            // A rater answers elsewhere; the open page updates by itself.
            Assert.Equal(1, await StudioTestApi.AnswerAsOracleAsync(app.ConnectionString, http, campaign.Id, "sim-live", 1));
            await Assertions.Expect(labelsCell).ToHaveTextAsync("1 / 3", new() { Timeout = 20_000 });

            // The round's last labels: it trains, and the scaled return and the learning curves appear without a reload.
            Assert.Equal(2, await StudioTestApi.AnswerAsOracleAsync(app.ConnectionString, http, campaign.Id, "sim-live", 2));
            await page.Locator("#learning-curves").WaitForAsync(new() { Timeout = 60_000 });
            await Assertions.Expect(page.Locator("[data-round-return='0']")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^-?\d\.\d{3}$"), new() { Timeout = 20_000 });
            // The run is listed with its model and metrics, and the metrics download link is there.
            await page.Locator("#runs-table [data-run-model='bt']").WaitForAsync(new() { Timeout = 20_000 });
            Assert.Equal($"/api/v1/campaigns/{campaign.Id}/runs", await page.GetByText("Download metrics (JSON)").Locator("xpath=ancestor-or-self::a").GetAttributeAsync("href"));
            await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("campaign-page.png"), FullPage = true });
        });
    }

    [Fact]
    public async Task The_form_shows_an_environments_parameters_and_refuses_a_value_out_of_range()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("admin_params"), StudioAppFactory.NewDataRoot("admin_params"),
            runWorker: false, kestrel: true);
        app.StartServer();
        var http = app.CreateClient();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await Screenshots.KeepOnFailureAsync(page, "admin-params", async () =>
        {
            await BrowserAccounts.SignInAsAdminAsync(page, app, http.BaseAddress!);
            await page.GotoAsync(new Uri(http.BaseAddress!, "/admin").ToString());
            await page.WaitForSelectorAsync("#interactive-marker[data-interactive='true']", new() { State = WaitForSelectorState.Attached, Timeout = 30_000 });

            // Choosing Pendulum brings up its parameters, with their ranges and defaults.
            await page.GetByText("Delivery gridworld", new() { Exact = true }).ClickAsync();
            await page.Locator(".mud-popover-open").GetByText("Pendulum", new() { Exact = true }).ClickAsync();
            var gravity = page.GetByLabel("gravity");
            await gravity.WaitForAsync(new() { Timeout = 10_000 });
            await page.GetByText("(1–30, default 10)", new() { Exact = false }).WaitForAsync(new() { Timeout = 10_000 });
            // A continuous task shows its policy learner with the measured defaults filled in.
            Assert.Equal("10000", await page.Locator("#field-policy-steps").InputValueAsync());
            Assert.Equal("0", await page.Locator("#field-exploration-steps").InputValueAsync());

            await page.GetByLabel("Name").FillAsync("Low gravity");
            await gravity.FillAsync("99");
            await page.ClickAsync("#create-campaign");
            await page.GetByText("gravity must lie between 1 and 30, got 99.").WaitForAsync(new() { Timeout = 10_000 });
            await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("admin-form-parameters.png"), FullPage = true });
            await using (var db = app.CreateDb())
                Assert.Equal(0, await db.Campaigns.CountAsync());

            await gravity.FillAsync("5");
            await page.ClickAsync("#create-campaign");
            await page.Locator("#campaign-table a", new() { HasText = "Low gravity" }).WaitForAsync(new() { Timeout = 10_000 });
            await using (var db = app.CreateDb())
            {
                var campaign = await db.Campaigns.AsNoTracking().SingleAsync();
                Assert.Equal("pendulum", campaign.Environment);
                Assert.Equal(new Dictionary<string, double> { ["gravity"] = 5 }, campaign.EnvironmentParameters);
                Assert.Equal(("sac", 10_000, 0), (campaign.PolicyLearner, campaign.PolicySteps, campaign.ExplorationSteps));
            }
        });
    }

    [Fact]
    public async Task A_researcher_chooses_hierarchy_labels_and_reads_the_raters_rankings()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("admin_hierarchy"), StudioAppFactory.NewDataRoot("admin_hierarchy"),
            runWorker: false, kestrel: true);
        app.StartServer();
        var http = app.CreateClient();

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await Screenshots.KeepOnFailureAsync(page, "admin-hierarchy", async () =>
        {
            await BrowserAccounts.SignInAsAdminAsync(page, app, http.BaseAddress!);
            await page.GotoAsync(new Uri(http.BaseAddress!, "/admin").ToString());
            await page.WaitForSelectorAsync("#interactive-marker[data-interactive='true']", new() { State = WaitForSelectorState.Attached, Timeout = 30_000 });

            // The weight and pair fields appear only once the labels come from rankings.
            Assert.Equal(0, await page.GetByLabel("Weight of a hierarchy label").CountAsync());
            await page.GetByText("Clip choices (clips)", new() { Exact = true }).ClickAsync();
            await page.Locator(".mud-popover-open").GetByText("Factor rankings (hierarchy)", new() { Exact = true }).ClickAsync();
            var weight = page.GetByLabel("Weight of a hierarchy label");
            await weight.WaitForAsync(new() { Timeout = 10_000 });
            await page.GetByText("every model type applies it", new() { Exact = false }).WaitForAsync(new() { Timeout = 10_000 });

            await page.GetByLabel("Name").FillAsync("Ranked");
            await weight.FillAsync("0");
            await page.ClickAsync("#create-campaign");
            await page.GetByText("The hierarchy weight must be a number above 0", new() { Exact = false }).WaitForAsync(new() { Timeout = 10_000 });
            await using (var db = app.CreateDb())
                Assert.Equal(0, await db.Campaigns.CountAsync());

            await weight.FillAsync("0.5");
            await page.GetByLabel("Hierarchy pairs per round").FillAsync("300");
            await page.ClickAsync("#create-campaign");
            var link = page.Locator("#campaign-table a", new() { HasText = "Ranked" });
            await link.WaitForAsync(new() { Timeout = 10_000 });
            Campaign campaign;
            await using (var db = app.CreateDb())
                campaign = await db.Campaigns.AsNoTracking().SingleAsync();
            Assert.Equal(LabelSources.Hierarchy, campaign.LabelSource);
            Assert.Equal(0.5, campaign.HierarchyWeight);
            Assert.Equal(300, campaign.HierarchyPairsPerRound);

            // Two raters' rankings: the campaign page counts first places and shows their agreement.
            Assert.True((await StudioTestApi.RankAsync(http, campaign.Id, "rater-a", ["gas", "goal", "sheep", "coin", "roadblock", "mud"], null)).IsSuccessStatusCode);
            Assert.True((await StudioTestApi.RankAsync(http, campaign.Id, "rater-b", ["goal", "gas", "sheep", "coin", "roadblock", "mud"], null)).IsSuccessStatusCode);
            await link.ClickAsync();
            await page.WaitForURLAsync($"**/admin/campaigns/{campaign.Id}");
            await Assertions.Expect(page.Locator("#label-source")).ToContainTextAsync("factor-ranking labels (300 pairs per rater and round, weight 0.5)", new() { Timeout = 20_000 });
            await Assertions.Expect(page.Locator("[data-ranking-raters]")).ToHaveTextAsync("2");
            await Assertions.Expect(page.Locator("[data-kendall-w]")).ToHaveTextAsync("0.97");
            await Assertions.Expect(page.Locator("[data-ranked-first='gas']")).ToHaveTextAsync("1");
            await Assertions.Expect(page.Locator("[data-ranked-first='mud']")).ToHaveTextAsync("0");
            await Assertions.Expect(page.Locator("[data-rater-disagreement='rater-a']")).ToContainTextAsync("no decided choices yet");
            await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("campaign-rankings.png"), FullPage = true });
        });
    }

    [Fact]
    public async Task A_member_whose_role_is_taken_away_can_no_longer_act_from_a_page_left_open()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("admin_revoked"), StudioAppFactory.NewDataRoot("admin_revoked"), kestrel: true);
        app.StartServer();
        var http = app.CreateClient();
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "shared", pairs: 4, labels: 4, rounds: 1, start: false);
        await app.Service<PreferenceStudio.Web.Features.Access.UserAccounts>().CreateAsync("ed@lab.test", "a long enough passphrase", "researcher");
        var members = app.Service<PreferenceStudio.Web.Features.Members.CampaignMembers>();
        await members.SetAsync(campaign, new("ed@lab.test", "editor"));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        await Screenshots.KeepOnFailureAsync(page, "admin-revoked", async () =>
        {
            await BrowserAccounts.SignInAsync(page, http.BaseAddress!, "ed@lab.test", "a long enough passphrase");
            await page.GotoAsync(new Uri(http.BaseAddress!, $"/admin/campaigns/{campaign}").ToString());
            await page.WaitForSelectorAsync("#interactive-marker[data-interactive='true']", new() { State = WaitForSelectorState.Attached, Timeout = 30_000 });
            await Assertions.Expect(page.Locator("#your-role")).ToHaveTextAsync("editor");

            // Demoted to viewer while the page is open: the Start button it still shows does nothing.
            await members.SetAsync(campaign, new("ed@lab.test", "viewer"));
            await page.ClickAsync("#start-campaign");
            await Assertions.Expect(page.Locator("#your-role")).ToHaveTextAsync("viewer", new() { Timeout = 10_000 });
            Assert.Equal(0, await page.Locator("#start-campaign").CountAsync());
            await using (var db = app.CreateDb())
                Assert.Equal(CampaignStatus.Draft, (await db.Campaigns.SingleAsync(c => c.Id == campaign)).Status);

            // Removed: the page stops showing the campaign at its next update.
            var ed = (await members.ListAsync(campaign)).Single(m => m.Email == "ed@lab.test");
            await members.RemoveAsync(campaign, ed.UserId);
            Assert.Equal(System.Net.HttpStatusCode.NoContent, (await http.PostAsync($"/api/v1/campaigns/{campaign}/start", null)).StatusCode);
            await page.Locator("#no-longer-member").WaitForAsync(new() { Timeout = 20_000 });
        });
    }
}
