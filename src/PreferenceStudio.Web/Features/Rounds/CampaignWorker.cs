using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Web.Features.Live;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Rounds;

/// <summary>
/// Drives campaigns from the durable jobs table: claims a job (with a lease other workers respect), runs its step,
/// marks it done. A job whose worker died is claimed again when its lease runs out; the steps are written to resume.
/// </summary>
public sealed class CampaignWorker(
    IDbContextFactory<StudioDbContext> dbFactory,
    RoundPreparer preparer,
    RoundTrainer trainer,
    WorkerSignal signal,
    CampaignEvents events,
    IOptions<StudioOptions> options,
    ILogger<CampaignWorker> logger) : BackgroundService
{
    /// <summary>Short, and renewed while a step runs, so a crashed worker's job is picked up again within seconds.</summary>
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(30);

    private readonly string _owner = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Off the host's start: a database that is down (retried for half a minute) must not hold up serving /health.
        await Task.Yield();
        var poll = TimeSpan.FromSeconds(options.Value.WorkerPollSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            Job? job = null;
            try
            {
                await using (var db = await dbFactory.CreateDbContextAsync(stoppingToken))
                    job = await JobQueue.TryClaimAsync(db, _owner, Lease, options.Value.Jobs.MaxAttempts, stoppingToken, options.Value.Jobs.Kinds);
                if (job is null)
                {
                    await signal.WaitAsync(poll, stoppingToken);
                    continue;
                }
                await RunAsync(job, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                if (job is not null) await ReleaseAsync(job);
                break;
            }
            catch (Exception ex) when (StudioExecutionStrategy.IsTransient(ex))
            {
                logger.LogWarning("The worker cannot reach the database ({Error}); trying again", ex.Message);
                await Task.Delay(poll, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
            }
            catch (Exception ex)
            {
                // Never let the loop die.
                logger.LogError(ex, "Worker loop error");
                await Task.Delay(poll, stoppingToken).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
    }

    private async Task RunAsync(Job job, CancellationToken stoppingToken)
    {
        using var leaseLost = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        using var renewal = new PeriodicTimer(Lease / 3);
        var renewing = RenewLeaseAsync(job, renewal, leaseLost);
        try
        {
            logger.LogInformation("Running {Kind} for round {Round} of campaign {Campaign} (attempt {Attempt})",
                job.Kind, job.RoundIndex + 1, job.CampaignId, job.Attempts);
            switch (job.Kind)
            {
                case JobKind.PrepareRound: await preparer.PrepareAsync(job.CampaignId, job.RoundIndex, leaseLost.Token); break;
                case JobKind.TrainRound: await trainer.TrainAsync(job.CampaignId, job.RoundIndex, leaseLost.Token); break;
                default: throw new NotSupportedException($"Unknown job kind {job.Kind}");
            }
            renewal.Dispose();
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
            if (await JobQueue.CompleteAsync(db, job, CancellationToken.None))
            {
                // A notice of an earlier failed try of this step, or of a researcher's retry of it, is stale now.
                string failedTry = $"{Step(job)} failed (attempt ", retried = $"Retrying round {job.RoundIndex + 1}: {job.Kind} ";
                int cleared = await db.Campaigns.Where(c => c.Id == job.CampaignId && c.Status == CampaignStatus.Running
                        && (c.StatusMessage!.StartsWith(failedTry) || c.StatusMessage!.StartsWith(retried)))
                    .ExecuteUpdateAsync(u => u.SetProperty(c => c.StatusMessage, (string?)null), CancellationToken.None);
                await tx.CommitAsync(CancellationToken.None);
                if (cleared > 0) await events.PublishAsync(new CampaignChanged(job.CampaignId, CampaignChangeKind.Status, job.RoundIndex));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            throw;
        }
        catch (OperationCanceledException) when (leaseLost.IsCancellationRequested)
        {
            logger.LogWarning("Lost the lease on job {Job}; another worker has it now", job.Id);
        }
        catch (Exception ex)
        {
            await FailedAsync(job, ex);
        }
        finally
        {
            renewal.Dispose();
            await renewing;
        }
    }

    /// <summary>
    /// A try of <paramref name="job"/> threw. Unless no retry can mend it, or it was the last try allowed, the job goes
    /// back to the queue after a back-off and the campaign keeps running, its status message saying what failed and
    /// when it is tried again. Otherwise the job, its round and its campaign are marked failed with the reason; a
    /// researcher can retry the campaign from that step (<see cref="Campaigns.CampaignService.RetryAsync"/>).
    /// </summary>
    private async Task FailedAsync(Job job, Exception ex)
    {
        var jobs = options.Value.Jobs;
        bool permanent = IsPermanent(ex);
        string step = Step(job);
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        if (!permanent && job.Attempts < jobs.MaxAttempts)
        {
            var delay = jobs.DelayAfter(job.Attempts);
            logger.LogWarning(ex, "{Kind} for round {Round} of campaign {Campaign} failed on attempt {Attempt} of {Max}; retrying in {Delay}",
                job.Kind, job.RoundIndex + 1, job.CampaignId, job.Attempts, jobs.MaxAttempts, delay);
            if (!await JobQueue.DeferAsync(db, job, ex.Message, delay, CancellationToken.None)) return; // another worker holds it now
            string message = $"{step} failed (attempt {job.Attempts} of {jobs.MaxAttempts}): {ex.Message} Trying again in {delay.TotalSeconds:0.#} s.";
            await db.Campaigns.Where(c => c.Id == job.CampaignId && c.Status != CampaignStatus.Failed)
                .ExecuteUpdateAsync(u => u.SetProperty(c => c.StatusMessage, message), CancellationToken.None);
            await events.PublishAsync(new CampaignChanged(job.CampaignId, CampaignChangeKind.Status, job.RoundIndex, message));
            return;
        }

        logger.LogError(ex, "{Kind} for round {Round} of campaign {Campaign} failed on attempt {Attempt} of {Max}; the campaign is marked failed",
            job.Kind, job.RoundIndex + 1, job.CampaignId, job.Attempts, jobs.MaxAttempts);
        // The job, its round and its campaign fail together: nobody sees a failed step in a running campaign.
        await using var tx = await db.Database.BeginTransactionAsync(CancellationToken.None);
        if (!await JobQueue.FailAsync(db, job, ex.Message, CancellationToken.None)) return;
        string reason = permanent ? ex.Message : $"{ex.Message} (gave up after {job.Attempts} attempts)";
        await db.Campaigns.Where(c => c.Id == job.CampaignId).ExecuteUpdateAsync(u => u
            .SetProperty(c => c.Status, CampaignStatus.Failed)
            .SetProperty(c => c.StatusMessage, $"{step} failed: {reason}"), CancellationToken.None);
        await db.Rounds.Where(r => r.CampaignId == job.CampaignId && r.Index == job.RoundIndex).ExecuteUpdateAsync(u => u
            .SetProperty(r => r.Status, RoundStatus.Failed)
            .SetProperty(r => r.Error, reason), CancellationToken.None);
        await tx.CommitAsync(CancellationToken.None);
        await events.PublishAsync(new CampaignChanged(job.CampaignId, CampaignChangeKind.Failure, job.RoundIndex, reason));
    }

    private static string Step(Job job) => $"Round {job.RoundIndex + 1}: {job.Kind}";

    /// <summary>Failures a retry cannot mend: the labels or settings themselves are unusable.</summary>
    private static bool IsPermanent(Exception ex) => ex is Learning.RewardTrainingException or NotSupportedException;

    /// <summary>
    /// Renews the lease every third of its length. A failed renewal (the database briefly unreachable) is tried again
    /// at the next tick; once the lease can no longer be known to be held (renewal refused, or no success for a whole
    /// lease), the work is cancelled at once, since another worker may already have claimed the job.
    /// </summary>
    private async Task RenewLeaseAsync(Job job, PeriodicTimer timer, CancellationTokenSource leaseLost)
    {
        var renewed = System.Diagnostics.Stopwatch.StartNew();
        try
        {
            while (await timer.WaitForNextTickAsync(leaseLost.Token))
            {
                try
                {
                    await using var db = await dbFactory.CreateDbContextAsync(leaseLost.Token);
                    if (!await JobQueue.RenewLeaseAsync(db, job, Lease, leaseLost.Token))
                    {
                        logger.LogWarning("Job {Job} is no longer ours (its lease was taken over or it was finished); stopping its work", job.Id);
                        await leaseLost.CancelAsync();
                        return;
                    }
                    renewed.Restart();
                }
                catch (Exception ex) when (ex is not OperationCanceledException and not ObjectDisposedException)
                {
                    logger.LogWarning(ex, "Could not renew the lease of job {Job}", job.Id);
                    if (renewed.Elapsed >= Lease - Lease / 3)
                    {
                        logger.LogWarning("The lease of job {Job} could not be renewed before it runs out; stopping its work", job.Id);
                        await leaseLost.CancelAsync();
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { }
    }

    /// <summary>On a clean shutdown, hand the job back at once instead of waiting for its lease to expire.</summary>
    private async Task ReleaseAsync(Job job)
    {
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            await db.Jobs.Where(j => j.Id == job.Id && j.LeaseOwner == _owner && j.Status == JobStatus.Running)
                .ExecuteUpdateAsync(u => u.SetProperty(j => j.Status, JobStatus.Pending)
                    .SetProperty(j => j.Attempts, j => j.Attempts - 1)
                    .SetProperty(j => j.LeaseOwner, (string?)null)
                    .SetProperty(j => j.LeaseExpiresAt, (DateTimeOffset?)null));
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Could not release job {Job}; it is taken again when its lease expires", job.Id);
        }
    }
}
