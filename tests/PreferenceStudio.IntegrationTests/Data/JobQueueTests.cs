using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Data;

public sealed class JobQueueTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private async Task<(string Cs, Guid CampaignId)> NewCampaignAsync(string prefix)
    {
        var cs = await postgres.CreateDatabaseAsync(prefix);
        await using var db = StudioDbContext.Create(cs);
        var campaign = new Campaign { Name = "jobs" };
        db.Campaigns.Add(campaign);
        await db.SaveChangesAsync();
        return (cs, campaign.Id);
    }

    [Fact]
    public async Task Enqueue_is_idempotent_per_campaign_kind_and_round()
    {
        var (cs, campaignId) = await NewCampaignAsync("jobs_enqueue");
        await using var db = StudioDbContext.Create(cs);

        Assert.True(await JobQueue.EnqueueAsync(db, campaignId, JobKind.PrepareRound, 0));
        Assert.False(await JobQueue.EnqueueAsync(db, campaignId, JobKind.PrepareRound, 0));
        Assert.True(await JobQueue.EnqueueAsync(db, campaignId, JobKind.TrainRound, 0));
        Assert.True(await JobQueue.EnqueueAsync(db, campaignId, JobKind.PrepareRound, 1));

        var jobs = await db.Jobs.OrderBy(j => j.CreatedAt).ToListAsync();
        Assert.Equal(3, jobs.Count);
        Assert.All(jobs, j => Assert.Equal(JobStatus.Pending, j.Status));
        Assert.Equal(JobKind.PrepareRound, jobs[0].Kind);
    }

    [Fact]
    public async Task Concurrent_claimers_never_get_the_same_job()
    {
        var (cs, campaignId) = await NewCampaignAsync("jobs_concurrent");
        const int rounds = 20;
        await using (var db = StudioDbContext.Create(cs))
            for (int r = 0; r < rounds; r++)
            {
                await JobQueue.EnqueueAsync(db, campaignId, JobKind.PrepareRound, r);
                await JobQueue.EnqueueAsync(db, campaignId, JobKind.TrainRound, r);
            }

        const int workerCount = 6;
        var claims = new ConcurrentBag<(string Owner, Guid JobId)>();
        // Every worker opens its connection first, then all start claiming together.
        int ready = 0;
        var go = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var workers = Enumerable.Range(0, workerCount).Select(w => Task.Run(async () =>
        {
            var owner = $"worker-{w}";
            await using var db = StudioDbContext.Create(cs);
            await db.Database.OpenConnectionAsync();
            if (Interlocked.Increment(ref ready) == workerCount) go.SetResult();
            await go.Task;
            while (await JobQueue.TryClaimAsync(db, owner, TimeSpan.FromMinutes(5)) is { } job)
            {
                claims.Add((owner, job.Id));
                await Task.Delay(2); // hold the job a moment so claims overlap
                Assert.True(await JobQueue.CompleteAsync(db, job));
            }
        })).ToArray();
        await Task.WhenAll(workers);

        // A claimer may see "nothing" while another's claim is in flight; drain what is left, then check.
        await using (var db = StudioDbContext.Create(cs))
            while (await JobQueue.TryClaimAsync(db, "drain", TimeSpan.FromMinutes(5)) is { } job)
            {
                claims.Add(("drain", job.Id));
                await JobQueue.CompleteAsync(db, job);
            }

        var ids = claims.Select(c => c.JobId).ToList();
        Assert.Equal(2 * rounds, ids.Count);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        await using var check = StudioDbContext.Create(cs);
        var jobs = await check.Jobs.ToListAsync();
        Assert.All(jobs, j =>
        {
            Assert.Equal(JobStatus.Succeeded, j.Status);
            Assert.Equal(1, j.Attempts);
        });
    }

    [Fact]
    public async Task A_live_lease_is_not_taken_but_an_expired_one_is()
    {
        var (cs, campaignId) = await NewCampaignAsync("jobs_lease");
        await using var db = StudioDbContext.Create(cs);
        await JobQueue.EnqueueAsync(db, campaignId, JobKind.TrainRound, 3);

        var first = await JobQueue.TryClaimAsync(db, "a", TimeSpan.FromMilliseconds(200));
        Assert.NotNull(first);
        Assert.Equal(1, first.Attempts);
        Assert.Equal("a", first.LeaseOwner);
        Assert.Null(await JobQueue.TryClaimAsync(db, "b", TimeSpan.FromMinutes(5)));

        await Task.Delay(400);
        var second = await JobQueue.TryClaimAsync(db, "b", TimeSpan.FromMinutes(5));
        Assert.NotNull(second);
        Assert.Equal(first.Id, second.Id);
        Assert.Equal(2, second.Attempts);

        // The worker that lost its lease can neither renew nor finish the job.
        Assert.False(await JobQueue.RenewLeaseAsync(db, first, TimeSpan.FromMinutes(5)));
        Assert.False(await JobQueue.CompleteAsync(db, first));
        Assert.True(await JobQueue.RenewLeaseAsync(db, second, TimeSpan.FromMinutes(5)));
        Assert.True(await JobQueue.FailAsync(db, second, "boom"));

        var stored = await db.Jobs.AsNoTracking().SingleAsync();
        Assert.Equal(JobStatus.Failed, stored.Status);
        Assert.Equal("boom", stored.Error);
        Assert.Equal("b", stored.LeaseOwner);
        Assert.NotNull(stored.FinishedAt);
    }

    [Fact]
    public async Task A_job_that_keeps_losing_its_lease_fails_and_can_be_retried()
    {
        var (cs, campaignId) = await NewCampaignAsync("jobs_poison");
        await using var db = StudioDbContext.Create(cs);
        await JobQueue.EnqueueAsync(db, campaignId, JobKind.PrepareRound, 0);

        for (int attempt = 1; attempt <= 2; attempt++)
        {
            var job = await JobQueue.TryClaimAsync(db, "crashy", TimeSpan.FromMilliseconds(1), maxAttempts: 2);
            Assert.NotNull(job);
            Assert.Equal(attempt, job.Attempts);
            await Task.Delay(50);
        }
        Assert.Null(await JobQueue.TryClaimAsync(db, "crashy", TimeSpan.FromMilliseconds(1), maxAttempts: 2));
        var failed = await db.Jobs.AsNoTracking().SingleAsync();
        Assert.Equal(JobStatus.Failed, failed.Status);
        Assert.Contains("lease expired", failed.Error);

        Assert.True(await JobQueue.RetryAsync(db, failed.Id));
        var again = await JobQueue.TryClaimAsync(db, "steady", TimeSpan.FromMinutes(5), maxAttempts: 2);
        Assert.NotNull(again);
        Assert.Equal(1, again.Attempts);
        Assert.True(await JobQueue.CompleteAsync(db, again));
        Assert.False(await JobQueue.RetryAsync(db, failed.Id)); // only failed jobs are retried
    }
}
