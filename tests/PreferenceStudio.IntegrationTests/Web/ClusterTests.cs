using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PreferenceStudio.Core.Data;
using PreferenceStudio.IntegrationTests.Infrastructure;
using PreferenceStudio.Web.Features.Live;
using PreferenceStudio.Web.Features.Rounds;
using Xunit.Abstractions;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// The studio as a small cluster on one PostgreSQL: web nodes and workers as separate processes, live changes and
/// job wake-ups carried between them by LISTEN/NOTIFY, clips in the shared media folder, and a web node or a worker
/// killed with SIGKILL while it works.
/// </summary>
public sealed class ClusterTests(PostgresFixture postgres, ITestOutputHelper output) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task A_change_and_a_queued_job_raised_on_one_node_reach_the_pages_and_worker_of_another()
    {
        var cs = await postgres.CreateDatabaseAsync("notify");
        var dataRoot = StudioAppFactory.NewDataRoot("notify");
        await using var a = new StudioAppFactory(cs, dataRoot, runWorker: false);
        await using var b = new StudioAppFactory(cs, dataRoot, runWorker: false);
        _ = a.CreateClient();
        _ = b.CreateClient();
        await WaitUntilAsync(() => a.Services.GetRequiredService<ClusterNotifier>().Listening && b.Services.GetRequiredService<ClusterNotifier>().Listening,
            TimeSpan.FromSeconds(20), "both nodes listen");

        var heardOnB = new TaskCompletionSource<CampaignChanged>(TaskCreationOptions.RunContinuationsAsynchronously);
        var campaignId = Guid.NewGuid();
        b.Services.GetRequiredService<CampaignEvents>().Changed += c => { if (c.CampaignId == campaignId) heardOnB.TrySetResult(c); };
        await a.Services.GetRequiredService<CampaignEvents>().PublishAsync(
            new CampaignChanged(campaignId, CampaignChangeKind.Failure, 2, Message: new string('x', 5000)));
        var heard = await heardOnB.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(CampaignChangeKind.Failure, heard.Kind);
        Assert.Equal(2, heard.RoundIndex);
        // A long message is cut to fit a notification, not dropped.
        Assert.Equal(ClusterNotifier.MaxMessageLength + 1, heard.Message!.Length);

        // A job queued on A wakes B's worker, which waits far longer than this test for its next poll.
        var signalB = b.Services.GetRequiredService<WorkerSignal>();
        while (await signalB.WaitAsync(TimeSpan.Zero, CancellationToken.None)) { }
        a.Services.GetRequiredService<WorkerSignal>().Wake();
        Assert.True(await signalB.WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None), "B's worker was not woken by A's job");
    }

    [Fact]
    public async Task Two_web_nodes_and_a_worker_share_labels_training_and_clips_and_a_killed_web_node_keeps_its_acknowledged_labels()
    {
        var cs = await postgres.CreateDatabaseAsync("cluster");
        var dataRoot = StudioAppFactory.NewDataRoot("cluster");
        var webRole = new Dictionary<string, string> { ["Studio__Role"] = "web" };
        await using var worker = await StudioProcess.StartAsync(cs, dataRoot, createAdmin: false, settings: new Dictionary<string, string> { ["Studio__Role"] = "worker" });
        await using var a = await StudioProcess.StartAsync(cs, dataRoot, settings: webRole);
        await using var b = await StudioProcess.StartAsync(cs, dataRoot, createAdmin: false, settings: webRole);
        b.AdminToken = a.AdminToken;
        var httpA = a.CreateClient();
        var httpB = b.CreateClient();
        const int pairs = 24, labels = 48;
        var campaign = await StudioTestApi.CreateCampaignAsync(httpA, "cluster", pairs: pairs, labels: labels, rounds: 2, seed: 12);
        await StudioTestApi.WaitForRoundAsync(cs, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));

        // A hub client on B hears of labels taken on A.
        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(b.Address, StudioHub.Path), o => o.AccessTokenProvider = () => Task.FromResult<string?>(b.AdminToken))
            .Build();
        await using var _ = hub;
        var labelCounts = new ConcurrentQueue<int>();
        hub.On<JsonElement>("CampaignChanged", c =>
        {
            if (c.GetProperty("kind").GetInt32() == (int)CampaignChangeKind.Labels) labelCounts.Enqueue(c.GetProperty("done").GetInt32());
        });
        await hub.StartAsync();
        await hub.InvokeAsync("WatchCampaign", campaign);
        Assert.Equal(4, await StudioTestApi.AnswerAsOracleAsync(cs, httpA, campaign, "sim-on-a", 4));
        await WaitUntilAsync(() => labelCounts.Contains(4), TimeSpan.FromSeconds(15), "node B's hub client hears the 4th label taken on node A");

        // Raters answer on A; A is killed under them. Every answer A acknowledged is stored.
        var acknowledged = new ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var raters = Enumerable.Range(0, 6).Select(i => AnswerUntilStoppedAsync(httpA, campaign, $"crowd-{i}", acknowledged, stop.Token)).ToList();
        await WaitUntilAsync(() => acknowledged.Count >= 8, TimeSpan.FromSeconds(60), "raters answered on A");
        a.Kill();
        stop.Cancel();
        await Task.WhenAll(raters);
        await using (var db = StudioDbContext.Create(cs))
        {
            var stored = await db.Labels.Where(l => l.CampaignId == campaign).Select(l => l.IdempotencyKey).ToListAsync();
            foreach (var key in acknowledged) Assert.Single(stored, k => k.EndsWith("/" + key, StringComparison.Ordinal));
        }

        // B takes the rest of the round; the worker trains it and renders round 2, whose clips B serves.
        int answered;
        await using (var db = StudioDbContext.Create(cs))
            answered = await db.Labels.CountAsync(l => l.CampaignId == campaign);
        for (int i = 0; answered < labels; i++)
        {
            int got = await StudioTestApi.AnswerAsOracleAsync(cs, httpB, campaign, $"sim-on-b-{i}", Math.Min(pairs, labels - answered));
            if (got == 0) break;
            answered += got;
        }
        await StudioTestApi.WaitForRoundAsync(cs, campaign, 1, RoundStatus.Open, TimeSpan.FromSeconds(240));
        await using (var db = StudioDbContext.Create(cs))
        {
            var runs = await db.RewardModelRuns.Where(r => r.CampaignId == campaign && r.RoundIndex == 0 && r.Status == RunStatus.Succeeded)
                .GroupBy(r => r.ModelType).Select(g => g.Count()).ToListAsync();
            Assert.NotEmpty(runs);
            Assert.All(runs, count => Assert.Equal(1, count));
            Assert.Equal(pairs, await db.Comparisons.CountAsync(c => c.CampaignId == campaign && db.Rounds.Any(r => r.Id == c.RoundId && r.Index == 1)));
        }
        var next = await StudioTestApi.NextAsync(httpB, campaign, "sim-round-2");
        Assert.Equal("ready", next.GetProperty("status").GetString());
        var clip = new HttpRequestMessage(HttpMethod.Get, next.GetProperty("pair").GetProperty("left_clip_url").GetString());
        clip.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 99);
        var response = await httpB.SendAsync(clip);
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(100, (await response.Content.ReadAsByteArrayAsync()).Length);
        Assert.False(worker.HasExited, worker.Log);
        output.WriteLine($"{acknowledged.Count} labels acknowledged by node A before it was killed; all stored");
    }

    [Fact]
    public async Task A_worker_killed_mid_training_leaves_the_job_to_the_other_which_records_one_run()
    {
        var cs = await postgres.CreateDatabaseAsync("workerkill");
        var dataRoot = StudioAppFactory.NewDataRoot("workerkill");
        var workerRole = new Dictionary<string, string> { ["Studio__Role"] = "worker" };
        await using var web = await StudioProcess.StartAsync(cs, dataRoot, settings: new Dictionary<string, string> { ["Studio__Role"] = "web" });
        await using var first = await StudioProcess.StartAsync(cs, dataRoot, createAdmin: false, settings: workerRole);
        await using var second = await StudioProcess.StartAsync(cs, dataRoot, createAdmin: false, settings: workerRole);
        var http = web.CreateClient();
        const int pairs = 20, labels = 20;
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "workerkill", pairs: pairs, labels: labels, rounds: 2, seed: 13);
        await StudioTestApi.WaitForRoundAsync(cs, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        Assert.Equal(labels, await StudioTestApi.AnswerAsOracleAsync(cs, http, campaign, "sim-kill", labels));

        // The worker that claimed the training is killed while it trains.
        Job training = null!;
        await WaitUntilAsync(async () =>
        {
            await using var db = StudioDbContext.Create(cs);
            training = (await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.CampaignId == campaign && j.Kind == JobKind.TrainRound))!;
            return training is { Status: JobStatus.Running, LeaseOwner: not null };
        }, TimeSpan.FromSeconds(60), "a worker claimed the training");
        var (victim, survivor) = training.LeaseOwner!.Split(':')[1] == first.ProcessId.ToString() ? (first, second) : (second, first);
        Assert.Equal(victim.ProcessId.ToString(), training.LeaseOwner!.Split(':')[1]);
        var killedAt = DateTime.UtcNow;
        victim.Kill();

        await StudioTestApi.WaitForRoundAsync(cs, campaign, 1, RoundStatus.Open, TimeSpan.FromSeconds(240));
        output.WriteLine($"round 2 open {(DateTime.UtcNow - killedAt).TotalSeconds:F1} s after the training worker was killed (lease 30 s)");
        await using (var db = StudioDbContext.Create(cs))
        {
            var job = await db.Jobs.AsNoTracking().SingleAsync(j => j.Id == training.Id);
            Assert.Equal(JobStatus.Succeeded, job.Status);
            Assert.Equal(survivor.ProcessId.ToString(), job.LeaseOwner!.Split(':')[1]);
            // One succeeded run per model for the round; the killed worker's run, if it got as far as recording one, is marked failed.
            var runs = await db.RewardModelRuns.AsNoTracking().Where(r => r.CampaignId == campaign && r.RoundIndex == 0).ToListAsync();
            Assert.All(runs.GroupBy(r => r.ModelType), g => Assert.Single(g, r => r.Status == RunStatus.Succeeded));
            Assert.DoesNotContain(runs, r => r.Status == RunStatus.Running);
            Assert.Equal(1, await db.Rounds.CountAsync(r => r.CampaignId == campaign && r.Index == 1));
            Assert.Equal(pairs, await db.Comparisons.CountAsync(c => c.CampaignId == campaign && db.Rounds.Any(r => r.Id == c.RoundId && r.Index == 1)));
            Assert.Equal(CampaignStatus.Running, (await db.Campaigns.AsNoTracking().SingleAsync(c => c.Id == campaign)).Status);
        }
    }

    /// <summary>A scripted rater: next pair, answer, until stopped; records the keys of the answers the studio acknowledged.</summary>
    internal static async Task AnswerUntilStoppedAsync(HttpClient http, Guid campaign, string rater, ConcurrentBag<string> acknowledged, CancellationToken stop)
    {
        var raterHttp = new HttpClient { BaseAddress = http.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        raterHttp.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", await StudioTestApi.RaterTokenAsync(http, campaign, rater));
        while (!stop.IsCancellationRequested)
        {
            try
            {
                var next = await raterHttp.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/next", stop);
                if (next.GetProperty("status").GetString() != "ready") return;
                var comparison = next.GetProperty("pair").GetProperty("comparison_id").GetGuid();
                var key = $"{rater}:{comparison:N}";
                var response = await raterHttp.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/labels",
                    new { comparison_id = comparison, choice = "left", idempotency_key = key }, stop);
                if (response.IsSuccessStatusCode) acknowledged.Add(key);
            }
            catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or JsonException)
            {
                // The node went away mid-request: that answer was never acknowledged.
                return;
            }
        }
    }

    internal static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout, string what) =>
        WaitUntilAsync(() => Task.FromResult(condition()), timeout, what);

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Timed out after {timeout.TotalSeconds} s waiting until {what}.");
            await Task.Delay(100);
        }
    }
}
