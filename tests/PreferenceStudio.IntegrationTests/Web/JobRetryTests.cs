using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// A step that fails is tried again with back-off before its campaign is marked failed, a failed campaign can be
/// retried from its failed step, and a job whose worker keeps dying leaves its campaign failed with the reason, not
/// stuck. The fault is real: the media folder is replaced by a plain file, so every clip fails to render, as on a
/// disk that cannot be written; mending it is making the folder again.
/// </summary>
public sealed class JobRetryTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static StudioAppFactory Studio(string cs, string dataRoot, int maxAttempts, bool runWorker = true) =>
        new(cs, dataRoot, runWorker, settings: new Dictionary<string, string>
        {
            ["Studio:Jobs:MaxAttempts"] = $"{maxAttempts}",
            ["Studio:Jobs:RetryDelaySeconds"] = "0.3",
        });

    /// <summary>The media folder becomes a file: nothing can be written under it.</summary>
    private static string BreakMedia(string dataRoot)
    {
        var media = Path.Combine(dataRoot, "media");
        if (Directory.Exists(media)) Directory.Delete(media, recursive: true);
        File.WriteAllText(media, "not a folder");
        return media;
    }

    private static void MendMedia(string media)
    {
        File.Delete(media);
        Directory.CreateDirectory(media);
    }

    private static async Task<Job> WaitForJobAsync(StudioAppFactory studio, Guid campaign, Func<Job, bool> done, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (true)
        {
            await using var db = studio.CreateDb();
            var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.CampaignId == campaign && j.Kind == JobKind.PrepareRound && j.RoundIndex == 0);
            if (job is not null && done(job)) return job;
            if (DateTime.UtcNow > deadline) Assert.Fail($"Timed out waiting for {what}; the job is {job?.Status} after {job?.Attempts} attempt(s): {job?.Error}");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task A_step_that_fails_is_tried_again_and_the_round_opens_once_the_fault_is_mended()
    {
        var cs = await postgres.CreateDatabaseAsync("jobretry");
        var dataRoot = StudioAppFactory.NewDataRoot("jobretry");
        await using var studio = Studio(cs, dataRoot, maxAttempts: 50);
        var http = studio.CreateClient();
        var media = BreakMedia(dataRoot);
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "retried", pairs: 6, labels: 6, rounds: 1, seed: 3);

        var failing = await WaitForJobAsync(studio, campaign, j => j.Attempts >= 2 && j.Error is not null, "a second failed try");
        Assert.Contains("could be rendered", failing.Error);
        await using (var db = studio.CreateDb())
        {
            var c = await db.Campaigns.AsNoTracking().FirstAsync(x => x.Id == campaign);
            Assert.Equal(CampaignStatus.Running, c.Status);
            Assert.Contains("PrepareRound failed (attempt", c.StatusMessage);
            Assert.Contains("of 50", c.StatusMessage);
        }

        MendMedia(media);
        await StudioTestApi.WaitForRoundAsync(cs, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(90));
        var job = await WaitForJobAsync(studio, campaign, j => j.Status == JobStatus.Succeeded, "the job to succeed");
        Assert.True(job.Attempts >= 2, $"{job.Attempts} attempts"); // the failed tries counted, then one succeeded
        await using (var db = studio.CreateDb())
        {
            var c = await db.Campaigns.AsNoTracking().FirstAsync(x => x.Id == campaign);
            Assert.Equal(CampaignStatus.Running, c.Status);
            Assert.Null(c.StatusMessage); // the retry notice goes once the step succeeded
            // Clips that failed in the earlier tries were rendered in the last one.
            var round = await db.Rounds.AsNoTracking().FirstAsync(r => r.CampaignId == campaign);
            Assert.Equal(0, await db.Clips.CountAsync(k => k.RoundId == round.Id && k.Status != ClipStatus.Rendered));
            Assert.True(await db.Clips.CountAsync(k => k.RoundId == round.Id) > 0);
        }
    }

    [Fact]
    public async Task A_step_that_keeps_failing_fails_the_campaign_with_its_reason_and_retry_runs_it_again()
    {
        var cs = await postgres.CreateDatabaseAsync("jobfail");
        var dataRoot = StudioAppFactory.NewDataRoot("jobfail");
        await using var studio = Studio(cs, dataRoot, maxAttempts: 2);
        var http = studio.CreateClient();
        var media = BreakMedia(dataRoot);
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "gives up", pairs: 6, labels: 6, rounds: 1, seed: 4);

        var refused = await http.PostAsync($"/api/v1/campaigns/{campaign}/retry", null);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("Only a failed campaign can be retried", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());

        var failed = await WaitForJobAsync(studio, campaign, j => j.Status == JobStatus.Failed, "the job to fail");
        Assert.Equal(2, failed.Attempts);
        await using (var db = studio.CreateDb())
        {
            var c = await db.Campaigns.AsNoTracking().FirstAsync(x => x.Id == campaign);
            Assert.Equal(CampaignStatus.Failed, c.Status);
            Assert.Contains("Round 1: PrepareRound failed", c.StatusMessage);
            Assert.Contains("gave up after 2 attempts", c.StatusMessage);
            Assert.Equal(RoundStatus.Failed, (await db.Rounds.AsNoTracking().FirstAsync(r => r.CampaignId == campaign)).Status);
        }

        MendMedia(media);
        Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync($"/api/v1/campaigns/{campaign}/retry", null)).StatusCode);
        await StudioTestApi.WaitForRoundAsync(cs, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(90));
        var job = await WaitForJobAsync(studio, campaign, j => j.Status == JobStatus.Succeeded, "the retried job to succeed");
        Assert.Equal(1, job.Attempts); // attempts start again from a retry
        await using (var db = studio.CreateDb())
        {
            var c = await db.Campaigns.AsNoTracking().FirstAsync(x => x.Id == campaign);
            Assert.Equal(CampaignStatus.Running, c.Status);
            Assert.Null(c.StatusMessage); // "Retrying round 1 ..." went when the step succeeded
        }
        Assert.Equal(HttpStatusCode.Conflict, (await http.PostAsync($"/api/v1/campaigns/{campaign}/retry", null)).StatusCode);
    }

    [Fact]
    public async Task A_job_whose_lease_expired_on_its_last_attempt_fails_its_campaign_and_round_with_the_reason()
    {
        var cs = await postgres.CreateDatabaseAsync("jobexpired");
        await using var studio = Studio(cs, StudioAppFactory.NewDataRoot("jobexpired"), maxAttempts: 3, runWorker: false);
        var http = studio.CreateClient();
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "crashing", pairs: 6, labels: 6, rounds: 1, seed: 5);
        await using var db = studio.CreateDb();
        db.Rounds.Add(new Round { CampaignId = campaign, Index = 0, Status = RoundStatus.Preparing });
        await db.SaveChangesAsync();
        // A worker took the job for the third time and died: its lease ran out.
        await db.Database.ExecuteSqlAsync($"""
            UPDATE jobs SET status = 'Running', attempts = 3, lease_owner = 'dead', lease_expires_at = clock_timestamp() - interval '1 second'
            WHERE campaign_id = {campaign}
            """);

        Assert.Null(await JobQueue.TryClaimAsync(db, "other", TimeSpan.FromSeconds(30), maxAttempts: 3));

        var job = await db.Jobs.AsNoTracking().FirstAsync(j => j.CampaignId == campaign);
        Assert.Equal(JobStatus.Failed, job.Status);
        var c = await db.Campaigns.AsNoTracking().FirstAsync(x => x.Id == campaign);
        Assert.Equal(CampaignStatus.Failed, c.Status);
        Assert.StartsWith("Round 1: PrepareRound failed: its lease expired on each of 3 attempts", c.StatusMessage);
        var round = await db.Rounds.AsNoTracking().FirstAsync(r => r.CampaignId == campaign);
        Assert.Equal(RoundStatus.Failed, round.Status);
        Assert.Contains("lease expired", round.Error);
    }
}
