using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Playwright;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// A crowd rater in Chromium, as a recruiting platform sends them: consent, instructions with the legend, answers
/// with confirmation and their own count, undo, the quota and the completion code; a phone held either way up;
/// clips that play as one; and colours anyone can read.
/// </summary>
public sealed class RaterExperienceBrowserTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const string Consent = "By taking part you agree that your answers are stored for research.";

    private static async Task<(StudioAppFactory App, HttpClient Http, Guid Campaign, string Code)> StartAsync(PostgresFixture postgres, string name,
        Dictionary<string, object?> extra, int pairs = 6)
    {
        var app = new StudioAppFactory(await postgres.CreateDatabaseAsync(name), StudioAppFactory.NewDataRoot(name), kestrel: true);
        app.StartServer();
        var http = app.CreateClient();
        var campaign = await StudioTestApi.CreateCampaignAsync(http, name, pairs: pairs, labels: 30, rounds: 1, extra: extra);
        await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        await using var db = app.CreateDb();
        return (app, http, campaign, (await db.Campaigns.FirstAsync(c => c.Id == campaign)).JoinCode);
    }

    /// <summary>Opens the recruiting link and presses Join; leaves the live rating page open.</summary>
    private static async Task JoinAsync(IPage page, Uri baseAddress, string code, string query = "")
    {
        await page.GotoAsync(new Uri(baseAddress, $"/join/{code}{query}").ToString());
        await page.ClickAsync("#join-button");
        await page.Locator("#join-button").WaitForAsync(new() { State = WaitForSelectorState.Detached, Timeout = 30_000 });
        await page.WaitForSelectorAsync("#interactive-marker[data-interactive='true']", new() { State = WaitForSelectorState.Attached, Timeout = 30_000 });
    }

    private static Task<string?> PairIdAsync(IPage page) => page.Locator("#pair").GetAttributeAsync("data-comparison-id");

    private static async Task WaitForNewPairAsync(IPage page, string? previous) =>
        await page.WaitForFunctionAsync("id => { const p = document.getElementById('pair'); return p && p.dataset.comparisonId !== id; }",
            previous ?? "", new() { Timeout = 30_000 });

    private static async Task WaitForClipsAsync(IPage page) =>
        await page.WaitForFunctionAsync(
            "() => ['left-clip','right-clip'].every(id => { const v = document.getElementById(id); return v && v.readyState >= 2; })",
            null, new() { Timeout = 30_000 });

    [Fact]
    public async Task A_crowd_rater_consents_reads_the_instructions_answers_undoes_and_leaves_with_the_completion_code()
    {
        var (app, http, campaign, code) = await StartAsync(postgres, "crowd_browser", new()
        {
            ["segment_length"] = 6,
        });
        await using var owned = app;
        // The platform's completion page: here a page of the studio's own, so the redirect can be seen arriving.
        var completionUrl = new Uri(http.BaseAddress!, "/account/login?cc=PS-7Q2X").ToString();
        Assert.True((await http.PutAsJsonAsync($"/api/v1/campaigns/{campaign}/rater-settings", new
        {
            consent = Consent, instructions = "Choose the clip where the **van** delivers the parcel sooner.\n\n<img src=x onerror=alert(1)>",
            labels_per_rater = 3, completion_code = "PS-7Q2X", completion_url = completionUrl, require_full_playback = true,
        })).IsSuccessStatusCode);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync();
        var dialogs = 0;
        page.Dialog += (_, d) => { dialogs++; _ = d.DismissAsync(); };
        await Screenshots.KeepOnFailureAsync(page, "crowd", async () =>
        {
            await JoinAsync(page, http.BaseAddress!, code, "?PROLIFIC_PID=pp-browser-1&STUDY_ID=st-9&SESSION_ID=se-9");

            // Consent first: no clip is shown (or timed) before the rater agrees.
            await Assertions.Expect(page.Locator("#consent-text")).ToContainTextAsync("stored for research", new() { Timeout = 30_000 });
            Assert.Equal(0, await page.Locator("#pair").CountAsync());
            Assert.Equal(1, await page.Locator("main#main h1").CountAsync());
            await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("crowd-consent.png") });
            await page.ClickAsync("#consent-agree");

            // Then the instructions, rendered from Markdown without the raw HTML, and the legend drawn by the renderer.
            await Assertions.Expect(page.Locator("#start-step")).ToContainTextAsync("delivers the parcel sooner", new() { Timeout = 30_000 });
            Assert.Equal("van", await page.Locator("#start-step .study-markdown strong").InnerTextAsync());
            Assert.Equal(0, await page.Locator("#start-step img[src='x']").CountAsync());
            var legend = await page.Locator("#start-step [data-legend]").EvaluateAllAsync<string[]>("items => items.map(i => i.dataset.legend)");
            Assert.Contains("Destination", legend);
            Assert.Contains("Sheep", legend);
            Assert.Contains("Coin", legend);
            Assert.Contains("Mud", legend);
            Assert.Contains("Roadblock", legend);
            Assert.True(await page.EvaluateAsync<bool>("() => [...document.querySelectorAll('#start-step [data-legend] img')].every(i => i.complete && i.naturalWidth >= 24)"));
            await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("crowd-instructions.png"), FullPage = true });
            await page.ClickAsync("#start-rating");

            var pair = page.Locator("#pair");
            await pair.WaitForAsync(new() { Timeout = 30_000 });
            await Assertions.Expect(page.Locator("#my-count")).ToHaveTextAsync("0 of 3");
            // The campaign asks for both clips to play through before answering.
            Assert.True(await page.Locator("#answer-left").IsDisabledAsync());
            await Assertions.Expect(page.Locator("#watch-first")).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("#answer-left")).ToBeEnabledAsync(new() { Timeout = 30_000 });
            var first = await PairIdAsync(page);
            await page.ClickAsync("#answer-left");

            // A confirmation, the rater's own count, a new pair.
            await WaitForNewPairAsync(page, first);
            await Assertions.Expect(page.Locator("#announcer")).ToContainTextAsync("Saved: left better", new() { Timeout = 10_000 });
            await Assertions.Expect(page.Locator("#my-count")).ToHaveTextAsync("1 of 3");
            Assert.Equal("polite", await page.Locator("#announcer").GetAttributeAsync("aria-live"));

            // Undo: the answer is withdrawn (and kept as such), the count goes back and the same pair is offered again.
            await page.ClickAsync("#undo");
            await page.WaitForFunctionAsync("id => document.getElementById('pair')?.dataset.comparisonId === id", first, new() { Timeout = 30_000 });
            await Assertions.Expect(page.Locator("#my-count")).ToHaveTextAsync("0 of 3");
            await using (var db = app.CreateDb())
            {
                var labels = await db.Labels.IgnoreQueryFilters().AsNoTracking().Where(l => l.CampaignId == campaign).ToListAsync();
                Assert.NotNull(Assert.Single(labels).WithdrawnAt);
                Assert.Equal(Guid.Parse(first!), labels[0].ComparisonId);
            }

            // Help from the keyboard; instructions and consent stay reachable.
            await page.Keyboard.PressAsync("?");
            await Assertions.Expect(page.Locator("#help-dialog")).ToContainTextAsync("Undo", new() { Timeout = 10_000 });
            await page.ClickAsync("#close-help");
            await page.ClickAsync("#show-instructions");
            await Assertions.Expect(page.Locator("#instructions-dialog [data-legend='Sheep']")).ToBeVisibleAsync();
            await page.ClickAsync("#close-instructions");
            await page.ClickAsync("#show-consent");
            await Assertions.Expect(page.Locator("#consent-dialog")).ToContainTextAsync("stored for research");
            await page.ClickAsync("#close-consent");

            // Three answers reach the quota: the completion code, then the platform's page.
            for (int i = 0; i < 3; i++)
            {
                await Assertions.Expect(page.Locator("#answer-right")).ToBeEnabledAsync(new() { Timeout = 30_000 });
                var before = await PairIdAsync(page);
                if (i == 1) await page.Keyboard.PressAsync("ArrowRight");
                else await page.ClickAsync("#answer-right");
                if (i < 2) await WaitForNewPairAsync(page, before);
            }
            await Assertions.Expect(page.Locator("#completion-code")).ToHaveTextAsync("PS-7Q2X", new() { Timeout = 30_000 });
            await Assertions.Expect(page.Locator("#my-count")).ToHaveTextAsync("3 of 3");
            await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("crowd-complete.png") });
            await page.WaitForURLAsync(url => url.Contains("cc=PS-7Q2X", StringComparison.Ordinal), new() { Timeout = 15_000 });

            await using (var db = app.CreateDb())
            {
                var rater = await db.CampaignRaters.AsNoTracking().SingleAsync(r => r.CampaignId == campaign && r.Kind == RaterKinds.Human);
                Assert.Equal(("prolific", "pp-browser-1", "st-9", "se-9"), (rater.ParticipantPlatform, rater.ParticipantId, rater.ParticipantStudy, rater.ParticipantSession));
                Assert.NotNull(rater.ConsentedAt);
                Assert.NotNull(rater.CompletedAt);
                Assert.Equal(3, await db.Labels.CountAsync(l => l.CampaignId == campaign && l.RaterId == rater.RaterId));
                Assert.Equal(4, await db.Labels.IgnoreQueryFilters().CountAsync(l => l.CampaignId == campaign && l.RaterId == rater.RaterId));
            }
            Assert.Equal(0, dialogs); // the instructions' onerror never ran
        });
    }

    [Theory]
    [InlineData(390, 844)]
    [InlineData(844, 390)]
    public async Task On_a_phone_both_clips_and_the_four_answers_are_in_view_without_scrolling(int width, int height)
    {
        var (app, http, _, code) = await StartAsync(postgres, $"phone_{width}", new() { ["labels_per_rater"] = 10 });
        await using var owned = app;
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height }, IsMobile = true, HasTouch = true, DeviceScaleFactor = 2 });
        var page = await context.NewPageAsync();
        await Screenshots.KeepOnFailureAsync(page, $"phone-{width}x{height}", async () =>
        {
            await JoinAsync(page, http.BaseAddress!, code);
            await page.Locator("#pair").WaitForAsync(new() { Timeout = 30_000 });
            await WaitForClipsAsync(page);
            await page.ScreenshotAsync(new() { Path = Screenshots.PathFor($"phone-{width}x{height}.png") });

            const string layout = """
                () => {
                    const box = id => { const r = document.getElementById(id).getBoundingClientRect(); return { x: r.left, y: r.top, w: r.width, h: r.height }; };
                    return {
                        vw: window.innerWidth, vh: window.innerHeight, scrollY: window.scrollY,
                        scrollWidth: document.documentElement.scrollWidth,
                        boxes: Object.fromEntries(['left-clip','right-clip','answer-left','answer-equal','answer-incomparable','answer-right'].map(id => [id, box(id)])),
                        visibleKeyHints: [...document.querySelectorAll('.kbd')].filter(k => getComputedStyle(k).display !== 'none').length,
                    };
                }
                """;
            var before = await page.EvaluateAsync<JsonElement>(layout);
            int vw = before.GetProperty("vw").GetInt32(), vh = before.GetProperty("vh").GetInt32();
            Assert.Equal((width, height), (vw, vh));
            Assert.Equal(0, before.GetProperty("scrollY").GetDouble());
            Assert.True(before.GetProperty("scrollWidth").GetInt32() <= vw, $"the page is {before.GetProperty("scrollWidth")} px wide on a {vw} px screen");
            Assert.Equal(0, before.GetProperty("visibleKeyHints").GetInt32());
            var boxes = before.GetProperty("boxes");
            // Playwright adds "$id" reference markers to objects it returns.
            foreach (var control in boxes.EnumerateObject().Where(p => !p.Name.StartsWith('$')))
            {
                var b = control.Value;
                double x = b.GetProperty("x").GetDouble(), y = b.GetProperty("y").GetDouble(), w = b.GetProperty("w").GetDouble(), h = b.GetProperty("h").GetDouble();
                Assert.True(x >= 0 && y >= 0 && x + w <= vw + 0.5 && y + h <= vh + 0.5, $"{control.Name} at ({x},{y}) {w}x{h} is not within {vw}x{vh}");
                if (control.Name.StartsWith("answer-", StringComparison.Ordinal))
                    Assert.True(w >= 44 && h >= 44, $"{control.Name} is {w}x{h}, under 44 px");
                else
                    Assert.True(w >= 100, $"{control.Name} is only {w} px wide");
            }
            double X(string id) => boxes.GetProperty(id).GetProperty("x").GetDouble();
            double Y(string id) => boxes.GetProperty(id).GetProperty("y").GetDouble();
            // Left is left and right is right, on one row: Left, Equal, Can't tell, Right.
            Assert.True(X("left-clip") < X("right-clip"));
            Assert.True(X("answer-left") < X("answer-equal") && X("answer-equal") < X("answer-incomparable") && X("answer-incomparable") < X("answer-right"));
            Assert.Equal(Y("answer-left"), Y("answer-right"), 1.0);

            // Answering (with a tap) shows the confirmation and the next pair without moving the clips or the buttons.
            var first = await PairIdAsync(page);
            await page.TapAsync("#answer-equal");
            await WaitForNewPairAsync(page, first);
            await Assertions.Expect(page.Locator("#announcer")).ToContainTextAsync("Saved", new() { Timeout = 10_000 });
            var after = (await page.EvaluateAsync<JsonElement>(layout)).GetProperty("boxes");
            foreach (var id in new[] { "left-clip", "answer-left", "answer-right" })
                Assert.Equal(boxes.GetProperty(id).GetProperty("y").GetDouble(), after.GetProperty(id).GetProperty("y").GetDouble(), 0.5);
        });
    }

    [Fact]
    public async Task The_two_clips_play_from_one_clock_within_a_frame_over_three_loops_and_the_controls_are_readable()
    {
        // Longer segments, so the two clips of a pair often differ in length (a trip that ends early is shorter).
        var (app, http, _, code) = await StartAsync(postgres, "clock", new() { ["segment_length"] = 12 });
        await using var owned = app;
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 800 } });
        await Screenshots.KeepOnFailureAsync(page, "clock", async () =>
        {
            await JoinAsync(page, http.BaseAddress!, code);
            await page.Locator("#pair").WaitForAsync(new() { Timeout = 30_000 });
            await WaitForClipsAsync(page);

            // Sampled on every animation frame from the video elements themselves: the shorter clip should be where
            // the longer one is, or on its own last frame once it has ended. Samples taken mid-seek say nothing.
            var sync = await page.EvaluateAsync<JsonElement>("""
                () => new Promise(resolve => {
                    const l = document.getElementById('left-clip'), r = document.getElementById('right-clip');
                    const fps = parseFloat(document.getElementById('pair').dataset.frameRate);
                    let loops = 0, last = 0, worst = 0, samples = 0, skipped = 0, endedMarks = 0;
                    const started = performance.now();
                    const step = () => {
                        const lead = r.duration > l.duration ? r : l, follow = lead === l ? r : l;
                        const t = lead.currentTime;
                        if (t + 0.2 < last) loops++;
                        last = t;
                        if (l.seeking || r.seeking || !isFinite(follow.duration)) skipped++;
                        else {
                            samples++;
                            worst = Math.max(worst, Math.abs(follow.currentTime - Math.min(t, follow.duration)));
                        }
                        if (follow.closest('figure').classList.contains('clip-ended')) endedMarks++;
                        if (loops >= 3 || performance.now() - started > 60000) resolve({ fps, loops, worst, samples, skipped, endedMarks,
                            left: l.duration, right: r.duration });
                        else requestAnimationFrame(step);
                    };
                    requestAnimationFrame(step);
                })
                """);
            double fps = sync.GetProperty("fps").GetDouble();
            int samples = sync.GetProperty("samples").GetInt32(), skipped = sync.GetProperty("skipped").GetInt32();
            Assert.True(fps > 0);
            Assert.Equal(3, sync.GetProperty("loops").GetInt32());
            Assert.True(samples >= 30 && samples >= 4 * skipped, $"{samples} samples, {skipped} taken mid-seek");
            Assert.True(sync.GetProperty("worst").GetDouble() <= 1 / fps,
                $"the clips were {sync.GetProperty("worst").GetDouble():0.000} s apart, more than one frame (1/{fps}); {sync}");
            // A shorter clip is marked as ended while the longer one plays on.
            double left = sync.GetProperty("left").GetDouble(), right = sync.GetProperty("right").GetDouble();
            if (Math.Abs(left - right) > 2 / fps) Assert.True(sync.GetProperty("endedMarks").GetInt32() > 0, sync.ToString());

            // Pause stops both; play starts both again.
            await page.ClickAsync("#pause");
            await page.WaitForTimeoutAsync(300);
            var paused = await page.EvaluateAsync<JsonElement>("() => ({ l: document.getElementById('left-clip').currentTime, r: document.getElementById('right-clip').currentTime, lp: document.getElementById('left-clip').paused, rp: document.getElementById('right-clip').paused })");
            Assert.True(paused.GetProperty("lp").GetBoolean() && paused.GetProperty("rp").GetBoolean());
            await page.WaitForTimeoutAsync(300);
            var still = await page.EvaluateAsync<double>("() => document.getElementById('left-clip').currentTime");
            Assert.Equal(paused.GetProperty("l").GetDouble(), still, 3);
            await page.ClickAsync("#pause");

            // Every main control, measured from the colours the browser rendered: WCAG AA, 4.5:1 or better.
            var contrast = await page.EvaluateAsync<JsonElement>(ContrastScript,
                new[] { "#answer-left", "#answer-equal", "#answer-incomparable", "#answer-right", "#replay", "#pause", "#slow", "#show-help", "#my-count", "#round-label" });
            foreach (var c in contrast.EnumerateArray())
                Assert.True(c.GetProperty("ratio").GetDouble() >= 4.5, $"{c.GetProperty("selector")}: {c.GetProperty("fg")} on {c.GetProperty("bg")} is {c.GetProperty("ratio").GetDouble():0.00}:1");

            // The keyboard focus is visible: a ring of at least 2 px on the focused control.
            await page.FocusAsync("#answer-left");
            await page.Keyboard.PressAsync("Tab");
            var ring = await page.EvaluateAsync<JsonElement>("() => { const s = getComputedStyle(document.activeElement); return { id: document.activeElement.id, style: s.outlineStyle, width: parseFloat(s.outlineWidth) }; }");
            Assert.Equal("answer-equal", ring.GetProperty("id").GetString());
            Assert.NotEqual("none", ring.GetProperty("style").GetString());
            Assert.True(ring.GetProperty("width").GetDouble() >= 2, ring.ToString());
        });
    }

    [Fact]
    public async Task A_researcher_writes_the_instructions_with_a_preview_follows_the_stage_copies_the_link_and_reads_tables_on_a_phone()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("study_design"), StudioAppFactory.NewDataRoot("study_design"), kestrel: true);
        app.StartServer();
        var http = app.CreateClient();
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var context = await browser.NewContextAsync(new() { ViewportSize = new() { Width = 1280, Height = 900 } });
        await context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"], new() { Origin = http.BaseAddress!.GetLeftPart(UriPartial.Authority) });
        var page = await context.NewPageAsync();
        await Screenshots.KeepOnFailureAsync(page, "study-design", async () =>
        {
            await BrowserAccounts.SignInAsAdminAsync(page, app, http.BaseAddress!);
            await page.GotoAsync(new Uri(http.BaseAddress!, "/admin").ToString());
            await page.WaitForSelectorAsync("#interactive-marker[data-interactive='true']", new() { State = WaitForSelectorState.Attached, Timeout = 30_000 });

            await page.GetByLabel("Name").FillAsync("Crowd study");
            await page.GetByLabel("Pairs per round").FillAsync("4");
            await page.GetByLabel("Labels wanted per round").FillAsync("3");
            await page.GetByLabel("Rounds").FillAsync("1");
            await page.GetByLabel("Instructions for raters").FillAsync("Pick the **faster** van.");
            await page.GetByLabel("Pairs per rater").FillAsync("5");
            await page.GetByLabel("Completion code").FillAsync("C-100");

            // The preview shows what raters will read: the Markdown rendered, and the legend of the delivery clips.
            await page.GetByLabel("Preview what raters read").CheckAsync();
            await Assertions.Expect(page.Locator("#field-preview strong")).ToHaveTextAsync("faster", new() { Timeout = 10_000 });
            await Assertions.Expect(page.Locator("#field-preview [data-legend='Sheep'] img")).ToBeVisibleAsync();
            await page.ScreenshotAsync(new() { Path = Screenshots.PathFor("study-design-preview.png"), FullPage = true });

            // The green and orange actions are readable.
            var contrast = await page.EvaluateAsync<JsonElement>(ContrastScript, new[] { "#create-and-start", "#create-campaign" });
            foreach (var c in contrast.EnumerateArray())
                Assert.True(c.GetProperty("ratio").GetDouble() >= 4.5, $"{c.GetProperty("selector")}: {c.GetProperty("fg")} on {c.GetProperty("bg")} is {c.GetProperty("ratio").GetDouble():0.00}:1");

            await page.ClickAsync("#create-and-start");
            var link = page.Locator("#campaign-table a", new() { HasText = "Crowd study" });
            await link.WaitForAsync(new() { Timeout = 10_000 });
            Campaign campaign;
            await using (var db = app.CreateDb())
                campaign = await db.Campaigns.AsNoTracking().SingleAsync();
            Assert.Equal(("Pick the **faster** van.", 5, "C-100"), (campaign.Instructions, campaign.LabelsPerRater!.Value, campaign.CompletionCode));

            // From the moment it starts, the campaign page says what the studio is doing, until the round opens.
            await link.ClickAsync();
            await page.WaitForURLAsync($"**/admin/campaigns/{campaign.Id}");
            var stage = page.Locator("#campaign-stage");
            var seen = await stage.GetAttributeAsync("data-stage");
            Assert.Contains(seen, new[] { "planning", "rendering", "open" });
            await Assertions.Expect(stage).ToHaveAttributeAsync("data-stage", "open", new() { Timeout = 120_000 });
            await Assertions.Expect(page.Locator("#stage-text")).ToContainTextAsync("Round 1 of 1 is open: 0 of 3 labels");
            var pause = await page.EvaluateAsync<JsonElement>(ContrastScript, new[] { "#pause-campaign", "#campaign-status" });
            foreach (var c in pause.EnumerateArray())
                Assert.True(c.GetProperty("ratio").GetDouble() >= 4.5, $"{c.GetProperty("selector")}: {c.GetProperty("fg")} on {c.GetProperty("bg")} is {c.GetProperty("ratio").GetDouble():0.00}:1");

            // One click copies the whole join link.
            await page.ClickAsync("#copy-join-link");
            // The page writes the clipboard asynchronously after the click: read until it has arrived (5 s at most).
            var copied = "";
            for (var until = DateTime.UtcNow.AddSeconds(5); copied.Length == 0 && DateTime.UtcNow < until; await Task.Delay(100))
                copied = await page.EvaluateAsync<string>("() => navigator.clipboard.readText()");
            Assert.Equal(new Uri(http.BaseAddress!, $"/join/{campaign.JoinCode}").ToString(), copied);

            // The rater settings can be changed later, here too.
            await page.GetByText("What raters meet: instructions, consent, quota, completion").ClickAsync();
            await page.Locator("#rater-settings-panel").GetByLabel("Pairs per rater").FillAsync("7");
            await page.ClickAsync("#save-rater-settings");
            // A save on a 2-core machine under the whole test run took over 10 s once (CI, stop 21).
            await page.GetByText("Saved what raters meet.").WaitForAsync(new() { Timeout = 30_000 });
            await using (var db = app.CreateDb())
                Assert.Equal(7, (await db.Campaigns.AsNoTracking().SingleAsync()).LabelsPerRater);

            // At phone width the tables become cards with a label on each value, and nothing runs off the side.
            await page.SetViewportSizeAsync(390, 844);
            foreach (var path in new[] { "/admin", $"/admin/campaigns/{campaign.Id}" })
            {
                await page.GotoAsync(new Uri(http.BaseAddress!, path).ToString());
                await page.WaitForSelectorAsync("#interactive-marker[data-interactive='true']", new() { State = WaitForSelectorState.Attached, Timeout = 30_000 });
                await page.WaitForSelectorAsync("td[data-label]", new() { Timeout = 10_000 });
                var width = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
                Assert.True(width <= 390, $"{path} is {width} px wide at 390");
                await page.ScreenshotAsync(new() { Path = Screenshots.PathFor($"phone{path.Replace('/', '-')}.png".Replace(campaign.Id.ToString(), "campaign")), FullPage = true });
            }
            Assert.True(await page.Locator("td[data-label='Status']").First.IsVisibleAsync());
            await Assertions.Expect(page.Locator("#nav-menu")).ToBeVisibleAsync();
        });
    }

    /// <summary>
    /// For each selector: the text colour and the first opaque background behind it (the element's own or an
    /// ancestor's), and their WCAG contrast ratio.
    /// </summary>
    internal const string ContrastScript = """
        selectors => {
            const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); const p = m[1].split(',').map(s => parseFloat(s)); return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
            const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }; return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
            const background = el => { for (let e = el; e; e = e.parentElement) { const c = parse(getComputedStyle(e).backgroundColor); if (c.a > 0.5) return c; } return { r: 255, g: 255, b: 255, a: 1 }; };
            return selectors.map(selector => {
                const el = document.querySelector(selector);
                const fg = parse(getComputedStyle(el).color), bg = background(el);
                // Semi-transparent text (MudBlazor's greys) blends with what is behind it.
                const text = { r: fg.r * fg.a + bg.r * (1 - fg.a), g: fg.g * fg.a + bg.g * (1 - fg.a), b: fg.b * fg.a + bg.b * (1 - fg.a) };
                const [hi, lo] = [lum(text), lum(bg)].sort((a, b) => b - a);
                return { selector, fg: getComputedStyle(el).color, bg: `rgb(${bg.r}, ${bg.g}, ${bg.b})`, ratio: (hi + 0.05) / (lo + 0.05) };
            });
        }
        """;
}
