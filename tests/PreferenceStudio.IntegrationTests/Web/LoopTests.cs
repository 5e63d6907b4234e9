using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Media;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// The whole loop through the real host: clips rendered by ffmpeg, a simulated oracle rater answering over the HTTP
/// API, the background worker training the reward model (TorchSharp) and planning the next policy, the next round's
/// clips rendered and playable.
/// </summary>
public sealed class LoopTests(PostgresFixture postgres, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Two_rounds_with_an_oracle_rater_learn_a_reward_and_render_the_next_round()
    {
        var cs = await postgres.CreateDatabaseAsync("loop");
        await using var app = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("loop"));
        var http = app.CreateClient();
        const int pairs = 60;
        // The policy learns from the Bradley-Terry ensemble; the regret model is trained beside it for comparison.
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "loop", pairs: pairs, labels: pairs, rounds: 3, seed: 3,
            extra: new Dictionary<string, object?> { ["comparison_models"] = new[] { "regret" } });

        for (int round = 0; round < 2; round++)
        {
            await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, round, RoundStatus.Open, TimeSpan.FromSeconds(120));
            int answered = await StudioTestApi.AnswerAsOracleAsync(app.ConnectionString, http, campaign, "sim-oracle", pairs);
            Assert.Equal(pairs, answered);
            await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, round, RoundStatus.Completed, TimeSpan.FromSeconds(120));
        }
        var third = await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 2, RoundStatus.Open, TimeSpan.FromSeconds(120));

        await using var db = app.CreateDb();
        var second = await db.Rounds.AsNoTracking().FirstAsync(r => r.CampaignId == campaign && r.Index == 1);
        // Held-out pairs are ones the model never trained on; an oracle's labels are learnable from the step features.
        Assert.NotNull(second.HeldoutAccuracy);
        Assert.True(second.HeldoutAccuracy > 0.8, $"held-out accuracy after round 2 was {second.HeldoutAccuracy}");
        var allRuns = await db.RewardModelRuns.AsNoTracking().Where(r => r.CampaignId == campaign).OrderBy(r => r.RoundIndex).ThenBy(r => r.ModelType).ToListAsync();
        foreach (var r in allRuns) output.WriteLine($"round {r.RoundIndex + 1} {r.ModelType}: {r.Metrics}");
        Assert.Equal(["bt", "regret", "bt", "regret"], allRuns.Select(r => r.ModelType));
        Assert.Equal([0, 0, 1, 1], allRuns.Select(r => r.RoundIndex));
        Assert.All(allRuns, r =>
        {
            Assert.Equal(RunStatus.Succeeded, r.Status);
            Assert.True(File.Exists(r.CheckpointPath), $"checkpoint {r.CheckpointPath} missing");
            var metrics = System.Text.Json.JsonDocument.Parse(r.Metrics).RootElement;
            // Every run records calibration, EPIC to the true reward and the scaled return of its greedy policy.
            Assert.InRange(metrics.GetProperty("ece").GetDouble(), 0, 1);
            Assert.InRange(metrics.GetProperty("epic").GetDouble(), 0, 1);
            Assert.InRange(metrics.GetProperty("scaled_return").GetDouble(), -5, 1.0001);
            Assert.Single(metrics.GetProperty("per_rater").EnumerateObject());
        });
        var runs = allRuns.Where(r => r.ModelType == "bt").ToList();
        Assert.NotNull(second.ScaledReturn);

        // The runs and their checkpoints are downloadable through the API.
        var listed = await http.GetFromJsonAsync<System.Text.Json.JsonElement>($"/api/v1/campaigns/{campaign}/runs");
        Assert.Equal(4, listed.GetArrayLength());
        var checkpointUrl = listed[3].GetProperty("checkpoint_url").GetString()!;
        var checkpoint = await http.GetByteArrayAsync(checkpointUrl);
        Assert.Equal(new FileInfo(allRuns[3].CheckpointPath!).Length, checkpoint.Length);

        // The third round was made from the policy learned after round 2, and its clips play.
        var policy = await db.Policies.AsNoTracking().FirstAsync(p => p.Id == third.PolicyId);
        Assert.Equal("value-iteration", policy.Kind);
        Assert.Equal(runs[1].Id, policy.RewardModelRunId);
        var clips = await db.Clips.AsNoTracking().Where(c => c.RoundId == third.Id).ToListAsync();
        Assert.NotEmpty(clips);
        Assert.All(clips, c => Assert.Equal(ClipStatus.Rendered, c.Status));
        var media = Path.Combine(app.DataRoot, "media");
        foreach (var clip in clips.Take(5))
        {
            var probe = Ffprobe.Probe(Path.Combine(media, clip.FileName));
            Assert.Equal("h264", probe.Codec);
            Assert.Equal("yuv420p", probe.PixelFormat);
            Assert.Equal(clip.Frames, probe.Frames);
            Assert.True(probe.Duration > TimeSpan.FromSeconds(0.5), $"clip lasts {probe.Duration}");
        }

        // Served over HTTP with range requests, as a browser's video element asks for it.
        var request = new HttpRequestMessage(HttpMethod.Get, "/media/" + clips[0].FileName);
        request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(0, 99);
        var response = await http.SendAsync(request);
        Assert.Equal(System.Net.HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(100, (await response.Content.ReadAsByteArrayAsync()).Length);
        Assert.Equal("video/mp4", response.Content.Headers.ContentType?.MediaType);

        // The dataset rebuilds from the database: every label with both segments, rater, times, round and clip hashes;
        // importing it into a new campaign and exporting again gives the same comparisons.
        var exported = (await http.GetStringAsync($"/api/v1/campaigns/{campaign}/export?format=jsonl"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2 * pairs, exported.Length);
        var hashes = (await db.Clips.AsNoTracking().Where(c => c.Sha256 != null).Select(c => c.Sha256!).ToListAsync()).ToHashSet();
        foreach (var line in exported)
        {
            var record = System.Text.Json.JsonDocument.Parse(line).RootElement;
            Assert.Equal("sim-oracle", record.GetProperty("rater").GetString());
            Assert.True(record.GetProperty("answered_at").GetDateTimeOffset() >= record.GetProperty("shown_at").GetDateTimeOffset());
            Assert.InRange(record.GetProperty("round").GetInt32(), 0, 1);
            Assert.Contains(record.GetProperty("left_clip_sha256").GetString()!, hashes);
            Assert.Contains(record.GetProperty("right_clip_sha256").GetString()!, hashes);
        }
        var copy = await StudioTestApi.CreateCampaignAsync(http, "copy", pairs: 10, labels: 10, rounds: 1, start: false);
        var import = await http.PostAsync($"/api/v1/campaigns/{copy}/preferences/import",
            new StringContent(string.Join("\n", exported), System.Text.Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(System.Net.HttpStatusCode.OK, import.StatusCode);
        var again = (await http.GetStringAsync($"/api/v1/campaigns/{copy}/export?format=jsonl"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(exported.Select(DatasetApiTests.Core), again.Select(DatasetApiTests.Core));
    }
}
