using System.Net;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// Studio:Role splits the studio into web nodes that only serve and workers that only run jobs, on one database;
/// Studio:Jobs:Kinds limits which jobs a worker takes.
/// </summary>
public sealed class WorkerRoleTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task A_web_node_leaves_jobs_to_a_worker_node_which_serves_no_pages_or_api()
    {
        var cs = await postgres.CreateDatabaseAsync("roles");
        var dataRoot = StudioAppFactory.NewDataRoot("roles");
        await using var web = new StudioAppFactory(cs, dataRoot, settings: new Dictionary<string, string> { ["Studio:Role"] = "web" });
        var http = web.CreateClient();
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "split", pairs: 6, labels: 6, rounds: 1, seed: 6);
        // Longer than the web node's poll interval (0.2 s) many times over: no worker there takes the job.
        await Task.Delay(TimeSpan.FromSeconds(3));
        await using (var db = web.CreateDb())
            Assert.Equal(JobStatus.Pending, (await db.Jobs.AsNoTracking().FirstAsync(j => j.CampaignId == campaign)).Status);

        await using var worker = new StudioAppFactory(cs, dataRoot, settings: new Dictionary<string, string> { ["Studio:Role"] = "worker" });
        var workerHttp = worker.CreateClient();
        await StudioTestApi.WaitForRoundAsync(cs, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        // The round opens just before the worker marks the job done.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        Job job;
        do
        {
            await using var db = web.CreateDb();
            job = await db.Jobs.AsNoTracking().FirstAsync(j => j.CampaignId == campaign);
            if (job.Status != JobStatus.Running) break;
            await Task.Delay(100);
        } while (DateTime.UtcNow < deadline);
        Assert.Equal(JobStatus.Succeeded, job.Status);
        Assert.StartsWith(Environment.MachineName + ":", job.LeaseOwner);
        // The worker answers its health checks and nothing else; the web node serves the campaign.
        Assert.Equal(HttpStatusCode.OK, (await workerHttp.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await workerHttp.GetAsync($"/api/v1/campaigns/{campaign}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"/api/v1/campaigns/{campaign}")).StatusCode);
    }

    [Fact]
    public async Task A_worker_takes_only_the_kinds_of_job_it_is_set_for()
    {
        var cs = await postgres.CreateDatabaseAsync("jobkinds");
        await using var studio = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("jobkinds"), runWorker: false);
        var campaign = await StudioTestApi.CreateCampaignAsync(studio.CreateClient(), "kinds", pairs: 6, labels: 6, rounds: 1, seed: 7);
        await using var db = studio.CreateDb();
        var lease = TimeSpan.FromSeconds(30);
        Assert.Null(await JobQueue.TryClaimAsync(db, "gpu", lease, kinds: [JobKind.TrainRound]));
        var claimed = await JobQueue.TryClaimAsync(db, "cpu", lease, kinds: [JobKind.PrepareRound]);
        Assert.NotNull(claimed);
        Assert.Equal(campaign, claimed.CampaignId);
        Assert.Equal(JobKind.PrepareRound, claimed.Kind);
    }
}
