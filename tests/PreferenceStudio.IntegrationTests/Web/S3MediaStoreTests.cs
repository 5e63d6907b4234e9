using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// The S3 media store against a real S3-compatible server (s3rver): a worker and a web node with data folders of
/// their own share clips, posters and checkpoints through the bucket only.
/// </summary>
public sealed class S3MediaStoreTests(PostgresFixture postgres, S3ServerFixture s3) : IClassFixture<PostgresFixture>, IClassFixture<S3ServerFixture>
{
    [Fact]
    public async Task A_published_file_is_fetched_into_another_nodes_folder_and_a_missing_one_is_null()
    {
        var writer = s3.Store(StudioAppFactory.NewDataRoot("s3-writer"), prefix: "unit/");
        var readerRoot = StudioAppFactory.NewDataRoot("s3-reader");
        var reader = s3.Store(readerRoot, prefix: "unit/");
        var written = Path.Combine(StudioAppFactory.NewDataRoot("s3-writer-2"), "checkpoints", "c1", "reward.bin");
        var other = s3.Store(Path.GetDirectoryName(Path.GetDirectoryName(Path.GetDirectoryName(written)!)!)!, prefix: "unit/");
        Directory.CreateDirectory(Path.GetDirectoryName(written)!);
        var bytes = Enumerable.Range(0, 70_000).Select(i => (byte)(i * 7)).ToArray();
        await File.WriteAllBytesAsync(written, bytes);
        await other.PublishAsync(written);
        Assert.Contains("unit/checkpoints/c1/reward.bin", await other.ListKeysAsync("checkpoints/"));

        // Recorded by another node at its own path: this node reads it at the same place under its own folder.
        var local = await reader.LocalCopyAsync(written);
        Assert.Equal(Path.Combine(readerRoot, "checkpoints", "c1", "reward.bin"), local);
        Assert.Equal(bytes, await File.ReadAllBytesAsync(local!));
        Assert.Null(await writer.LocalCopyAsync(Path.Combine(readerRoot, "media", "nothing.mp4")));
        Assert.Throws<ArgumentException>(() => reader.KeyFor("/somewhere/else.bin"));
    }

    [Fact]
    public async Task Clips_posters_and_checkpoints_made_by_a_worker_reach_a_web_node_through_the_bucket_only()
    {
        var cs = await postgres.CreateDatabaseAsync("s3");
        string workerRoot = StudioAppFactory.NewDataRoot("s3-worker"), webRoot = StudioAppFactory.NewDataRoot("s3-web");
        var prefix = $"studio-{Guid.NewGuid():N}/";
        var workerSettings = s3.StudioSettings(prefix);
        workerSettings["Studio:Role"] = "worker";
        var webSettings = s3.StudioSettings(prefix);
        webSettings["Studio:Role"] = "web";
        await using var worker = new StudioAppFactory(cs, workerRoot, settings: workerSettings);
        await using var web = new StudioAppFactory(cs, webRoot, settings: webSettings);
        _ = worker.CreateClient();
        var http = web.CreateClient();
        const int pairs = 6;
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "s3", pairs: pairs, labels: 6, rounds: 2, seed: 17);
        await StudioTestApi.WaitForRoundAsync(cs, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));

        var bucket = s3.Store(webRoot, prefix);
        var media = await bucket.ListKeysAsync("media/");
        await using (var db = StudioDbContext.Create(cs))
        {
            var clips = await db.Clips.AsNoTracking().Where(c => c.Segment!.CampaignId == campaign).ToListAsync();
            Assert.Equal(2 * pairs, clips.Count);
            foreach (var clip in clips)
            {
                Assert.Contains(prefix + "media/" + clip.FileName, media);
                Assert.Contains(prefix + "media/" + clip.PosterFileName, media);
            }
        }
        // The web node has rendered nothing: it serves a clip, with a range, from the bucket.
        Assert.False(Directory.Exists(Path.Combine(webRoot, "media")) && Directory.EnumerateFiles(Path.Combine(webRoot, "media")).Any());
        var next = await StudioTestApi.NextAsync(http, campaign, "sim-s3");
        var url = next.GetProperty("pair").GetProperty("left_clip_url").GetString()!;
        var ranged = new HttpRequestMessage(HttpMethod.Get, url);
        ranged.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(10, 209);
        var response = await http.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        var fileName = url.Split('/').Last().Split('?')[0];
        var rendered = await File.ReadAllBytesAsync(Path.Combine(workerRoot, "media", fileName));
        Assert.Equal(rendered[10..210], await response.Content.ReadAsByteArrayAsync());

        // The worker trains round 1; its reward-model checkpoint downloads from the web node, which never had it.
        Assert.Equal(6, await StudioTestApi.AnswerAsOracleAsync(cs, http, campaign, "sim-s3", 6));
        await StudioTestApi.WaitForRoundAsync(cs, campaign, 1, RoundStatus.Open, TimeSpan.FromSeconds(180));
        Assert.Contains(await bucket.ListKeysAsync("checkpoints/"), k => k.StartsWith($"{prefix}checkpoints/{campaign:N}/policy-round2", StringComparison.Ordinal));
        var runs = await http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/runs");
        var run = runs.EnumerateArray().First(r => r.GetProperty("status").GetString() == "succeeded");
        var checkpoint = await http.GetAsync(run.GetProperty("checkpoint_url").GetString());
        Assert.Equal(HttpStatusCode.OK, checkpoint.StatusCode);
        var runId = run.GetProperty("id").GetGuid();
        var trained = Directory.EnumerateFiles(Path.Combine(workerRoot, "checkpoints"), $"*{runId:N}.bin", SearchOption.AllDirectories).Single();
        Assert.Equal(await File.ReadAllBytesAsync(trained), await checkpoint.Content.ReadAsByteArrayAsync());
    }
}
