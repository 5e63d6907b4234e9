using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Infrastructure;
using PreferenceStudio.IntegrationTests.Infrastructure;
using PreferenceStudio.Migrations;
using PreferenceStudio.Web.Hosting.LocalDatabase;
using Xunit.Abstractions;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// A PostgreSQL cluster of these tests' own, so they can restart and stop it without disturbing the other tests'
/// shared one. In <c>.studio/test-pg-faults</c> on port 55434 (<c>STUDIO_TEST_FAULTS_PG_PORT</c> overrides).
/// </summary>
public sealed class RestartablePostgres : IAsyncLifetime
{
    public string Directory { get; } = Path.Combine(StudioPaths.DataRoot, "test-pg-faults");
    private readonly int _port = int.TryParse(Environment.GetEnvironmentVariable("STUDIO_TEST_FAULTS_PG_PORT"), out var p) ? p : 55434;
    private string _server = "";

    public async Task InitializeAsync() => _server = await StartAsync();

    public async Task<string> StartAsync()
    {
        var cs = await LocalPostgres.EnsureRunningAsync(new LocalPostgresOptions(Directory, _port) { Fsync = false });
        // This process's idle connections died with the server (the studio's own are its business, and under test).
        NpgsqlConnection.ClearAllPools();
        return new NpgsqlConnectionStringBuilder(cs) { Database = "postgres" }.ConnectionString;
    }

    public async Task RestartAsync()
    {
        await LocalPostgres.RestartAsync(Directory);
        NpgsqlConnection.ClearAllPools();
    }

    public async Task StopAsync()
    {
        await LocalPostgres.StopAsync(Directory);
        NpgsqlConnection.ClearAllPools();
    }

    public async Task<string> CreateDatabaseAsync(string prefix)
    {
        var cs = await PostgresFixture.CreateEmptyDatabaseOnAsync(_server, prefix);
        await StudioDatabase.MigrateAsync(cs);
        return cs;
    }

    // The cluster is this class's alone: stopped, not left running beside the next test run.
    public Task DisposeAsync() => StopAsync();
}

/// <summary>
/// The database restarted while raters answer, the database down when the studio starts, and a full disk while a
/// round renders: the studio rides through each without a restart of its own, loses no acknowledged label and does
/// not fail the campaign.
/// </summary>
public sealed class DatabaseFaultTests(RestartablePostgres postgres, ITestOutputHelper output) : IClassFixture<RestartablePostgres>
{
    [Fact]
    public async Task PostgreSQL_restarted_under_50_raters_loses_no_acknowledged_label_and_fails_no_campaign()
    {
        var cs = await postgres.CreateDatabaseAsync("restart");
        await using var studio = await StudioProcess.StartAsync(cs, StudioAppFactory.NewDataRoot("pgrestart"));
        var http = studio.CreateClient();
        const int raters = 50, perRater = 4;
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "restart", pairs: 60, labels: 250, rounds: 2, seed: 14);
        await StudioTestApi.WaitForRoundAsync(cs, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        var clients = new List<HttpClient>();
        for (int i = 0; i < raters; i++)
        {
            var client = new HttpClient { BaseAddress = studio.Address, Timeout = TimeSpan.FromSeconds(60) };
            client.DefaultRequestHeaders.Authorization = new("Bearer", await StudioTestApi.RaterTokenAsync(http, campaign, $"crowd-{i}"));
            clients.Add(client);
        }

        var acknowledged = new ConcurrentQueue<(string Key, DateTime At)>();
        var refusals = new ConcurrentQueue<string>();
        var raterTasks = clients.Select((client, i) => RateAsync(client, campaign, $"crowd-{i}", perRater, acknowledged, refusals)).ToList();
        await ClusterTests.WaitUntilAsync(() => acknowledged.Count >= raters, TimeSpan.FromSeconds(120), "a first answer per rater, on average");
        var restartStarted = DateTime.UtcNow;
        await postgres.RestartAsync();
        var restartDone = DateTime.UtcNow;
        await Task.WhenAll(raterTasks).WaitAsync(TimeSpan.FromMinutes(4));

        var firstAfter = acknowledged.Where(a => a.At > restartDone).Select(a => a.At).DefaultIfEmpty(DateTime.MaxValue).Min();
        output.WriteLine($"pg_ctl restart took {(restartDone - restartStarted).TotalSeconds:F1} s; first label acknowledged "
            + $"{(firstAfter - restartStarted).TotalSeconds:F1} s after the restart began; {refusals.Count} answers were refused on the way and resent: "
            + string.Join(" | ", refusals.Distinct().Take(5)));
        Assert.False(studio.HasExited, "the studio exited:\n" + studio.Log);
        Assert.Equal(raters * perRater, acknowledged.Count);
        await using var db = StudioDbContext.Create(cs);
        var stored = await db.Labels.Where(l => l.CampaignId == campaign).Select(l => l.IdempotencyKey).ToListAsync();
        // Every acknowledged answer stored, once; and nothing stored that was not acknowledged.
        Assert.Equal(raters * perRater, stored.Count);
        Assert.Equal(acknowledged.Select(a => a.Key).Order(), stored.Select(k => k[(k.IndexOf('/') + 1)..]).Order());
        var status = await db.Campaigns.Where(c => c.Id == campaign).Select(c => c.Status).SingleAsync();
        Assert.Equal(CampaignStatus.Running, status);
    }

    [Fact]
    public async Task A_studio_started_while_the_database_is_down_says_why_it_is_not_ready_and_becomes_ready_when_it_is_back()
    {
        var cs = await postgres.CreateDatabaseAsync("downatstart");
        await postgres.StopAsync();
        try
        {
            await using var studio = await StudioProcess.StartAsync(cs, StudioAppFactory.NewDataRoot("downatstart"), createAdmin: false, ready: false);
            using var http = new HttpClient { BaseAddress = studio.Address };
            var notReady = await http.GetAsync("/health/ready");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
            var report = await notReady.Content.ReadFromJsonAsync<JsonElement>();
            var database = report.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "database");
            Assert.Equal("Unhealthy", database.GetProperty("status").GetString());
            Assert.StartsWith("The database is unreachable: ", database.GetProperty("description").GetString());

            var started = Stopwatch.StartNew();
            await postgres.StartAsync();
            var up = started.Elapsed;
            await ClusterTests.WaitUntilAsync(async () => (await http.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK,
                TimeSpan.FromSeconds(60), "the studio is ready");
            output.WriteLine($"PostgreSQL up {up.TotalSeconds:F1} s after the start command; studio ready {started.Elapsed.TotalSeconds:F1} s after it");
            studio.AdminToken = await TestAccounts.AdminTokenAsync(cs);
            Assert.Equal(HttpStatusCode.OK, (await studio.CreateClient().GetAsync("/api/v1/campaigns")).StatusCode);
        }
        finally
        {
            await postgres.StartAsync();
        }
    }

    [Fact]
    public async Task A_full_disk_while_rendering_is_retried_with_a_clear_message_and_the_round_opens_once_there_is_room()
    {
        var cs = await postgres.CreateDatabaseAsync("diskfull");
        var dataRoot = StudioAppFactory.NewDataRoot("diskfull");
        Mount(dataRoot, "tmpfs", "-t", "tmpfs", "-o", "size=16m", "tmpfs", dataRoot);
        try
        {
            // The studio makes its folders at start; the disk fills after that.
            await using (var studio = await StudioProcess.StartAsync(cs, dataRoot, settings: new Dictionary<string, string>
                         {
                             ["Studio__Jobs__RetryDelaySeconds"] = "1", ["Studio__Jobs__MaxRetryDelaySeconds"] = "2", ["Studio__Jobs__MaxAttempts"] = "50",
                         }))
            {
                var filler = Path.Combine(dataRoot, "filler");
                Fill(filler);
                var campaign = await StudioTestApi.CreateCampaignAsync(studio.CreateClient(), "diskfull", pairs: 6, labels: 6, rounds: 1, seed: 15);
                Campaign seen = null!;
                await ClusterTests.WaitUntilAsync(async () =>
                {
                    await using var db = StudioDbContext.Create(cs);
                    seen = await db.Campaigns.AsNoTracking().SingleAsync(c => c.Id == campaign);
                    return seen.StatusMessage?.Contains("is full") == true
                        && await db.Jobs.AnyAsync(j => j.CampaignId == campaign && j.Attempts >= 2);
                }, TimeSpan.FromSeconds(120), "the render failed on the full disk and was tried again");
                Assert.Equal(CampaignStatus.Running, seen.Status);
                Assert.Contains("media folder", seen.StatusMessage);
                Assert.Contains("Free space there", seen.StatusMessage);

                File.Delete(filler);
                await StudioTestApi.WaitForRoundAsync(cs, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
                await using var after = StudioDbContext.Create(cs);
                var c = await after.Campaigns.AsNoTracking().SingleAsync(x => x.Id == campaign);
                Assert.Equal(CampaignStatus.Running, c.Status);
                // Every pair is shown: the clips that failed on the full disk were rendered again.
                Assert.Equal(6, await after.Comparisons.CountAsync(x => x.CampaignId == campaign
                    && x.LeftClip!.Status == ClipStatus.Rendered && x.RightClip!.Status == ClipStatus.Rendered));
            }
        }
        finally
        {
            Mount(dataRoot, "umount", "-l", dataRoot);
        }
    }

    [Fact]
    public async Task The_rating_page_says_it_is_reconnecting_while_the_database_is_down_and_stores_the_answer_once_it_is_back()
    {
        var cs = await postgres.CreateDatabaseAsync("ratepage");
        await using var app = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("ratepage"), kestrel: true);
        app.StartServer();
        var http = app.CreateClient();
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "ratepage", pairs: 6, labels: 6, rounds: 1, seed: 16);
        await StudioTestApi.WaitForRoundAsync(cs, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(90));
        string joinCode;
        await using (var db = app.CreateDb())
            joinCode = (await db.Campaigns.FirstAsync(c => c.Id == campaign)).JoinCode;

        using var playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await (await browser.NewContextAsync()).NewPageAsync();
        await Screenshots.KeepOnFailureAsync(page, "rate-reconnecting", async () =>
        {
            await BrowserAccounts.JoinAsync(page, http.BaseAddress!, joinCode);
            var pair = page.Locator("#pair");
            await pair.WaitForAsync(new() { Timeout = 30_000 });
            var first = (await pair.GetAttributeAsync("data-comparison-id"))!;

            await postgres.StopAsync();
            try
            {
                await page.ClickAsync("#answer-left");
                await Microsoft.Playwright.Assertions.Expect(page.Locator("#reconnecting")).ToBeVisibleAsync(new() { Timeout = 30_000 });
                // Well past the services' own retries: the page keeps trying instead of failing.
                await Task.Delay(TimeSpan.FromSeconds(20));
                await Microsoft.Playwright.Assertions.Expect(page.Locator("#reconnecting")).ToBeVisibleAsync();
            }
            finally
            {
                await postgres.StartAsync();
            }
            await page.WaitForFunctionAsync("id => { const p = document.getElementById('pair'); return p && p.dataset.comparisonId !== id; }",
                first, new() { Timeout = 60_000 });
            await Microsoft.Playwright.Assertions.Expect(page.Locator("#reconnecting")).ToBeHiddenAsync();
            await using var check = app.CreateDb();
            var label = await check.Labels.AsNoTracking().SingleAsync(l => l.CampaignId == campaign);
            Assert.Equal(Guid.Parse(first), label.ComparisonId);
            Assert.Equal(PreferenceStudio.Environments.PreferenceChoice.Left, label.Choice);
        });
    }

    /// <summary>A scripted rater who resends an answer (same key) or a request for the next pair until the studio acknowledges it.</summary>
    private static async Task RateAsync(HttpClient client, Guid campaign, string rater, int answers,
        ConcurrentQueue<(string, DateTime)> acknowledged, ConcurrentQueue<string> refusals)
    {
        for (int n = 0; n < answers; n++)
        {
            var next = await UntilAcknowledgedAsync(() => client.GetAsync($"/api/v1/campaigns/{campaign}/next"), refusals);
            var state = await next.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("ready", state.GetProperty("status").GetString());
            var comparison = state.GetProperty("pair").GetProperty("comparison_id").GetGuid();
            var key = $"{rater}:{comparison:N}";
            await UntilAcknowledgedAsync(() => client.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/labels",
                new { comparison_id = comparison, choice = "left", idempotency_key = key }), refusals);
            acknowledged.Enqueue((key, DateTime.UtcNow));
        }
    }

    private static async Task<HttpResponseMessage> UntilAcknowledgedAsync(Func<Task<HttpResponseMessage>> send, ConcurrentQueue<string> refusals)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            string refusal;
            try
            {
                var response = await send();
                if (response.IsSuccessStatusCode) return response;
                refusal = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                // Only a fault of the moment may be resent; anything else is a refusal the studio means.
                Assert.True(response.StatusCode == HttpStatusCode.ServiceUnavailable, refusal);
            }
            catch (HttpRequestException ex)
            {
                refusal = ex.Message;
            }
            refusals.Enqueue(refusal);
            if (DateTime.UtcNow > deadline) throw new TimeoutException("Not acknowledged within 120 s: " + refusal);
            await Task.Delay(250);
        }
    }

    private static void Fill(string path)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        var block = new byte[1 << 16];
        try
        {
            while (true) file.Write(block);
        }
        catch (IOException)
        {
            // Full.
        }
    }

    private static void Mount(string dataRoot, string program, params string[] arguments)
    {
        using var process = Process.Start(new ProcessStartInfo(program == "tmpfs" ? "mount" : program, arguments)
            { RedirectStandardError = true })!;
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{program} {string.Join(' ', arguments)} failed (this test needs root to mount a small tmpfs as {dataRoot}): "
            + process.StandardError.ReadToEnd());
    }
}
