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
        var poll = TimeSpan.FromSeconds(options.Value.WorkerPollSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            Job? job = null;
            try
            {
                await using (var db = await dbFactory.CreateDbContextAsync(stoppingToken))
                    job = await JobQueue.TryClaimAsync(db, _owner, Lease, cancellationToken: stoppingToken);
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
            catch (Exception ex)
            {
                // The database may be briefly unreachable; never let the loop die.
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
            await JobQueue.CompleteAsync(db, job, CancellationToken.None);
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
            logger.LogError(ex, "{Kind} for round {Round} of campaign {Campaign} failed", job.Kind, job.RoundIndex + 1, job.CampaignId);
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            await JobQueue.FailAsync(db, job, ex.Message, CancellationToken.None);
            await db.Campaigns.Where(c => c.Id == job.CampaignId).ExecuteUpdateAsync(u => u
                .SetProperty(c => c.Status, CampaignStatus.Failed)
                .SetProperty(c => c.StatusMessage, $"Round {job.RoundIndex + 1}: {job.Kind} failed: {ex.Message}"), CancellationToken.None);
            await db.Rounds.Where(r => r.CampaignId == job.CampaignId && r.Index == job.RoundIndex).ExecuteUpdateAsync(u => u
                .SetProperty(r => r.Status, RoundStatus.Failed)
                .SetProperty(r => r.Error, ex.Message), CancellationToken.None);
            await events.PublishAsync(new CampaignChanged(job.CampaignId, CampaignChangeKind.Failure, job.RoundIndex, ex.Message));
        }
        finally
        {
            renewal.Dispose();
            await renewing;
        }
    }

    private async Task RenewLeaseAsync(Job job, PeriodicTimer timer, CancellationTokenSource leaseLost)
    {
        try
        {
            while (await timer.WaitForNextTickAsync(leaseLost.Token))
            {
                await using var db = await dbFactory.CreateDbContextAsync(leaseLost.Token);
                if (!await JobQueue.RenewLeaseAsync(db, job, Lease, leaseLost.Token))
                {
                    await leaseLost.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException) { }
        catch (ObjectDisposedException) { }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Could not renew the lease of job {Job}", job.Id);
        }
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
