using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments.Hierarchy;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// A person in Chromium ranks a campaign's reward factors before comparing clips: reorders them with the mouse (drag
/// and drop) and the keyboard, sets a margin, saves; the stored ranking is what the page showed, and the pair then
/// shows each clip's factor values in that order.
/// </summary>
public sealed class RankingBrowserTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const string Items = "[data-testid='factor-item']";

    private static ILocator Item(IPage page, string factor) => page.Locator($"{Items}[data-factor='{factor}']");

    private static Task<string[]> OrderAsync(IPage page, string selector = Items) =>
        page.EvalOnSelectorAllAsync<string[]>(selector, "els => els.map(e => e.dataset.factor)");

    /// <summary>Waits until the page shows the factors in <paramref name="expected"/> order (each move is a round trip to the server).</summary>
    private static async Task WaitForOrderAsync(IPage page, string[] expected, string selector = Items)
    {
        try
        {
            await page.WaitForFunctionAsync(
                "([sel, want]) => JSON.stringify(Array.from(document.querySelectorAll(sel)).map(e => e.dataset.factor)) === JSON.stringify(want)",
                new object[] { selector, expected }, new() { Timeout = 30_000 });
        }
        catch (TimeoutException)
        {
            Assert.Equal(expected, await OrderAsync(page, selector));
            throw;
        }
    }

    private static string[] Moved(string[] order, int from, int to)
    {
        var list = order.ToList();
        var item = list[from];
        list.RemoveAt(from);
        list.Insert(to, item);
        return list.ToArray();
    }

    [Fact]
    public async Task A_rater_ranks_the_factors_with_the_mouse_and_the_keyboard_and_then_sees_them_beside_the_pair()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("rank-browser"), StudioAppFactory.NewDataRoot("rank-browser"), kestrel: true);
        app.StartServer();
        var http = app.CreateClient();
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "ranking", pairs: 6, labels: 6, rounds: 1,
            extra: new Dictionary<string, object?> { ["label_source"] = LabelSources.Both });
        await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(90));
        string joinCode;
        await using (var db = app.CreateDb())
        {
            var c = await db.Campaigns.FirstAsync(x => x.Id == campaign);
            Assert.True(c.UsesFactorRankings);
            joinCode = c.JoinCode;
        }

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1400, Height = 1000 } });
        var page = await context.NewPageAsync();
        await Screenshots.KeepOnFailureAsync(page, "ranking", async () =>
        {
            await BrowserAccounts.JoinAsync(page, http.BaseAddress!, joinCode);
            await page.Locator("#ranking-step").WaitForAsync(new() { Timeout = 30_000 });
            // The join gave this browser the campaign's one human rater.
            string rater;
            await using (var db = app.CreateDb())
                rater = (await db.CampaignRaters.AsNoTracking().SingleAsync(r => r.CampaignId == campaign && r.Kind == "human")).RaterId;

            // The ranking comes first, in the environment's order with default margins; no pair is served meanwhile.
            string[] order = ["gas", "goal", "sheep", "coin", "roadblock", "mud"];
            await WaitForOrderAsync(page, order);
            Assert.Equal(0, await page.Locator("#pair").CountAsync());
            Assert.Equal(FactorHierarchy.DefaultMargin.ToString(System.Globalization.CultureInfo.InvariantCulture),
                await page.Locator("[data-testid='margin-gas']").InputValueAsync());
            Assert.Contains("lower is better", await Item(page, "gas").InnerTextAsync());
            Assert.Contains("higher is better", await Item(page, "goal").InnerTextAsync());
            await using (var db = app.CreateDb())
                Assert.False(await db.Assignments.AnyAsync(a => a.RaterId == rater));

            // Mouse: drag gas (first) onto sheep (third).
            await Item(page, "gas").Locator("[data-testid='drag-handle']").DragToAsync(Item(page, "sheep"));
            order = Moved(order, 0, 2);
            await WaitForOrderAsync(page, order);

            // Keyboard: focus mud (last) and move it up twice; it keeps the focus after each move.
            await Item(page, "mud").FocusAsync();
            for (int step = 0; step < 2; step++)
            {
                int at = Array.IndexOf(order, "mud");
                await page.Keyboard.PressAsync("ArrowUp");
                order = Moved(order, at, at - 1);
                await WaitForOrderAsync(page, order);
                await page.WaitForFunctionAsync("() => document.activeElement && document.activeElement.dataset.factor === 'mud'",
                    null, new() { Timeout = 30_000 });
            }
            // ... and ArrowDown on the first factor moves it one level down.
            await Item(page, order[0]).FocusAsync();
            await page.Keyboard.PressAsync("ArrowDown");
            order = Moved(order, 0, 1);
            await WaitForOrderAsync(page, order);
            // The visible buttons do the same for a pointer or switch user.
            await page.GetByLabel("Move roadblock up", new() { Exact = true }).ClickAsync();
            order = Moved(order, Array.IndexOf(order, "roadblock"), Array.IndexOf(order, "roadblock") - 1);
            await WaitForOrderAsync(page, order);

            // A negative margin is refused inline and nothing is stored; a valid one is saved.
            await page.Locator("[data-testid='margin-gas']").FillAsync("-1");
            await page.ClickAsync("[data-testid='save-ranking']");
            await Assertions.Expect(page.Locator("[data-testid='margin-error-gas']")).ToContainTextAsync("0 or more", new() { Timeout = 30_000 });
            await using (var db = app.CreateDb())
                Assert.False(await db.FactorRankings.AnyAsync(r => r.RaterId == rater));

            await page.Locator("[data-testid='margin-gas']").FillAsync("0.5");
            await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("ranking-step.png") });
            await page.ClickAsync("[data-testid='save-ranking']");

            // The pair appears, with each clip's factor values in the rater's order.
            await page.Locator("#pair").WaitForAsync(new() { Timeout = 30_000 });
            await page.Locator("#pair-factors").WaitForAsync(new() { Timeout = 30_000 });
            Assert.Equal(order, await OrderAsync(page, "[data-testid='pair-factor']"));
            Assert.Contains("Your ranking", await page.Locator("#hierarchy-verdict").InnerTextAsync());
            await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("ranking-pair.png") });

            var expectedMargins = order.Select(f => f == "gas" ? 0.5 : FactorHierarchy.DefaultMargin).ToArray();
            await using (var db = app.CreateDb())
            {
                var stored = await db.FactorRankings.AsNoTracking().SingleAsync(r => r.RaterId == rater);
                Assert.Equal(campaign, stored.CampaignId);
                Assert.Equal(order, stored.Factors);
                Assert.Equal(expectedMargins, stored.Margins);
                Assert.Equal("human", stored.Source);
            }

            // "Revise my ranking" reopens the ranking as stored; keeping it returns to the same pair.
            var comparison = await page.Locator("#pair").GetAttributeAsync("data-comparison-id");
            await page.ClickAsync("[data-testid='revise-ranking']");
            await page.Locator("#ranking-step").WaitForAsync(new() { Timeout = 30_000 });
            await WaitForOrderAsync(page, order);
            Assert.Equal("0.5", await page.Locator("[data-testid='margin-gas']").InputValueAsync());
            await page.ClickAsync("[data-testid='cancel-ranking']");
            await page.Locator("#pair").WaitForAsync(new() { Timeout = 30_000 });
            Assert.Equal(comparison, await page.Locator("#pair").GetAttributeAsync("data-comparison-id"));
            await using (var db = app.CreateDb())
                Assert.Equal(1, await db.FactorRankings.CountAsync(r => r.RaterId == rater));
        });
    }
}
