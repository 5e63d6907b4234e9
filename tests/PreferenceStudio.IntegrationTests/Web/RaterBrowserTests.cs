using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>A person in Chromium: joins by link, compares two playing clips, answers with the mouse and the keyboard.</summary>
public sealed class RaterBrowserTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task A_rater_answers_one_pair_with_the_mouse_and_one_with_the_keyboard()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("browser"), StudioAppFactory.NewDataRoot("browser"), kestrel: true);
        app.StartServer();
        var http = app.CreateClient();
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "browser", pairs: 6, labels: 6, rounds: 2);
        await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(90));
        string joinCode;
        await using (var db = app.CreateDb())
            joinCode = (await db.Campaigns.FirstAsync(c => c.Id == campaign)).JoinCode;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var context = await browser.NewContextAsync();
        var page = await context.NewPageAsync();
        await Screenshots.KeepOnFailureAsync(page, "rate", async () =>
        {
            // Opening the link leaves nothing behind; the Join button gives the browser its rater identity.
            await page.GotoAsync(new Uri(http.BaseAddress!, $"/join/{joinCode}").ToString());
            await using (var db = app.CreateDb())
                Assert.False(await db.CampaignRaters.AnyAsync(r => r.CampaignId == campaign));
            await BrowserAccounts.JoinAsync(page, http.BaseAddress!, joinCode);

            var pair = page.Locator("#pair");
            await pair.WaitForAsync(new() { Timeout = 30_000 });
            var first = Guid.Parse((await pair.GetAttributeAsync("data-comparison-id"))!);
            // Both clips load and play in the browser, muted and started together.
            await page.WaitForFunctionAsync(
                "() => ['left-clip','right-clip'].every(id => { const v = document.getElementById(id); return v && v.muted && v.readyState >= 2 && v.currentTime > 0; })",
                null, new() { Timeout = 30_000 });

            await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("rate-page.png") });
            await page.ClickAsync("#answer-left");
            await page.WaitForFunctionAsync("id => { const p = document.getElementById('pair'); return p && p.dataset.comparisonId !== id; }",
                first.ToString(), new() { Timeout = 30_000 });
            var second = Guid.Parse((await pair.GetAttributeAsync("data-comparison-id"))!);
            Assert.NotEqual(first, second);

            await page.Keyboard.PressAsync("ArrowRight");
            await page.WaitForFunctionAsync("id => { const p = document.getElementById('pair'); return p && p.dataset.comparisonId !== id; }",
                second.ToString(), new() { Timeout = 30_000 });
            var progress = await page.Locator("#round-label").InnerTextAsync();
            Assert.Contains("2 / 6 labels", progress);

            // The server issued the identity: a protected, HttpOnly cookie that holds no readable rater id.
            var cookie = (await context.CookiesAsync()).Single(c => c.Name == "ps_rater");
            Assert.True(cookie.HttpOnly);
            Assert.Equal(SameSiteAttribute.Lax, cookie.SameSite);
            await using var check = app.CreateDb();
            var rater = await check.CampaignRaters.AsNoTracking().SingleAsync(r => r.CampaignId == campaign && r.Kind == "human");
            Assert.DoesNotContain(rater.RaterId, cookie.Value);
            var labels = await check.Labels.AsNoTracking().Where(l => l.CampaignId == campaign).ToListAsync();
            Assert.Equal(2, labels.Count);
            Assert.All(labels, l => Assert.Equal(rater.RaterId, l.RaterId));
            Assert.Equal(PreferenceChoice.Left, labels.Single(l => l.ComparisonId == first).Choice);
            Assert.Equal(PreferenceChoice.Right, labels.Single(l => l.ComparisonId == second).Choice);

            // Others finish the round; the studio trains and opens the next one, and the page says so without a reload.
            Assert.Equal(4, await StudioTestApi.AnswerAsOracleAsync(app.ConnectionString, http, campaign, "sim-others", 4));
            await Assertions.Expect(page.Locator("#announcer")).ToContainTextAsync("Round 2 is ready", new() { Timeout = 90_000 });
            await Assertions.Expect(page.Locator("#round-label")).ToContainTextAsync("Round 2 of 2", new() { Timeout = 30_000 });
            await page.Locator("#pair").WaitForAsync(new() { Timeout = 30_000 });

            // A mistyped link: the join page and the rating page both say so instead of failing.
            var missingJoin = await page.GotoAsync(new Uri(http.BaseAddress!, "/join/no-such-code").ToString());
            Assert.Equal(404, missingJoin!.Status);
            await page.GetByText("There is nothing at this address.").WaitForAsync(new() { Timeout = 30_000 });
            await page.GotoAsync(new Uri(http.BaseAddress!, "/rate/no-such-code").ToString());
            await Assertions.Expect(page.Locator("#rating-error")).ToContainTextAsync("No campaign has the join code", new() { Timeout = 30_000 });
        });
    }
}
