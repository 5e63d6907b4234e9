using Microsoft.EntityFrameworkCore;

namespace PreferenceStudio.Core.Data;

/// <summary>
/// A durable job queue on the <c>jobs</c> table, safe for several worker processes: claims use
/// <c>FOR UPDATE SKIP LOCKED</c> and a lease, so two workers never run the same job and a crashed worker's job
/// is taken again once its lease expires.
/// </summary>
public static class JobQueue
{
    /// <summary>How many times a job is tried (a lease that expired counts as a try) before it is marked failed.</summary>
    public const int DefaultMaxAttempts = 5;

    private const string Pending = nameof(JobStatus.Pending);
    private const string Running = nameof(JobStatus.Running);
    private const string Failed = nameof(JobStatus.Failed);

    /// <summary>
    /// Adds the step (campaign, kind, round) unless it already exists, whatever its status.
    /// Returns true when this call created it.
    /// </summary>
    public static async Task<bool> EnqueueAsync(StudioDbContext db, Guid campaignId, JobKind kind, int roundIndex,
        CancellationToken cancellationToken = default)
    {
        var id = Guid.CreateVersion7();
        var now = DateTimeOffset.UtcNow;
        var kindName = kind.ToString();
        int inserted = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO jobs (id, campaign_id, kind, round_index, status, attempts, created_at)
            VALUES ({id}, {campaignId}, {kindName}, {roundIndex}, {Pending}, 0, {now})
            ON CONFLICT (campaign_id, kind, round_index) DO NOTHING
            """, cancellationToken);
        return inserted == 1;
    }

    /// <summary>
    /// Atomically claims the oldest Pending job that is due (see <see cref="DeferAsync"/>), or a Running job whose
    /// lease has expired, for <paramref name="owner"/>; increments its Attempts. Returns null when there is nothing to
    /// do. The returned job is not tracked by <paramref name="db"/>. A job whose lease expired on its
    /// <paramref name="maxAttempts"/>th attempt is marked Failed instead of being claimed again, so a job that crashes
    /// its worker cannot crash every restart; its round and campaign are marked failed with it, with the reason, so
    /// neither is left waiting for a step that will not run.
    /// </summary>
    /// <param name="kinds">The kinds of job this worker takes (for example only training on a GPU machine); all when null or empty.</param>
    public static async Task<Job?> TryClaimAsync(StudioDbContext db, string owner, TimeSpan leaseDuration,
        int maxAttempts = DefaultMaxAttempts, CancellationToken cancellationToken = default, IReadOnlyCollection<JobKind>? kinds = null)
    {
        string[] kindNames = (kinds is { Count: > 0 } ? kinds : Enum.GetValues<JobKind>()).Select(k => k.ToString()).ToArray();
        var expiredMessage = $"its lease expired on each of {maxAttempts} attempts; the worker probably crashed (or was killed) while running it";
        string campaignFailed = nameof(CampaignStatus.Failed), roundFailed = nameof(RoundStatus.Failed);
        await db.Database.ExecuteSqlAsync($"""
            WITH failed AS (
                UPDATE jobs
                SET status = {Failed}, error = {expiredMessage}, finished_at = clock_timestamp(), lease_expires_at = NULL
                WHERE status = {Running} AND lease_expires_at < clock_timestamp() AND attempts >= {maxAttempts}
                RETURNING campaign_id, kind, round_index),
            campaigns_failed AS (
                UPDATE campaigns c
                SET status = {campaignFailed}, status_message = 'Round ' || (f.round_index + 1) || ': ' || f.kind || ' failed: ' || {expiredMessage}
                FROM failed f WHERE c.id = f.campaign_id
                RETURNING c.id)
            UPDATE rounds r
            SET status = {roundFailed}, error = {expiredMessage}
            FROM failed f WHERE r.campaign_id = f.campaign_id AND r.index = f.round_index
            """, cancellationToken);

        // clock_timestamp(), not now(): now() is frozen at the start of the caller's transaction, if any.
        var claimed = await db.Jobs.FromSql($"""
            UPDATE jobs
            SET status = {Running}, attempts = attempts + 1, lease_owner = {owner},
                lease_expires_at = clock_timestamp() + {leaseDuration}, started_at = clock_timestamp(),
                finished_at = NULL, run_after = NULL
            WHERE id = (
                SELECT id FROM jobs
                WHERE kind = ANY({kindNames})
                  AND ((status = {Pending} AND (run_after IS NULL OR run_after <= clock_timestamp()))
                    OR (status = {Running} AND lease_expires_at < clock_timestamp() AND attempts < {maxAttempts}))
                ORDER BY created_at, id
                LIMIT 1
                FOR UPDATE SKIP LOCKED)
            RETURNING *
            """).AsNoTracking().ToListAsync(cancellationToken);
        return claimed.Count == 0 ? null : claimed[0];
    }

    /// <summary>
    /// Hands a claimed job that failed back to the queue, to be claimed again no sooner than <paramref name="delay"/>
    /// from now; its attempts so far still count. <paramref name="error"/> is kept as the last failure's reason.
    /// False when this claim no longer holds the job.
    /// </summary>
    public static async Task<bool> DeferAsync(StudioDbContext db, Job job, string error, TimeSpan delay, CancellationToken cancellationToken = default)
    {
        int updated = await db.Database.ExecuteSqlAsync($"""
            UPDATE jobs
            SET status = {Pending}, error = {error}, run_after = clock_timestamp() + {delay},
                lease_owner = NULL, lease_expires_at = NULL, finished_at = clock_timestamp()
            WHERE id = {job.Id} AND status = {Running} AND lease_owner = {job.LeaseOwner} AND attempts = {job.Attempts}
            """, cancellationToken);
        return updated == 1;
    }

    /// <summary>
    /// Extends the lease of a job this worker still holds. False when the lease was lost (expired and taken
    /// by another worker, or the job was finished): the caller should stop working on it.
    /// </summary>
    public static async Task<bool> RenewLeaseAsync(StudioDbContext db, Job job, TimeSpan leaseDuration,
        CancellationToken cancellationToken = default)
    {
        int updated = await db.Database.ExecuteSqlAsync($"""
            UPDATE jobs SET lease_expires_at = clock_timestamp() + {leaseDuration}
            WHERE id = {job.Id} AND status = {Running} AND lease_owner = {job.LeaseOwner} AND attempts = {job.Attempts}
            """, cancellationToken);
        return updated == 1;
    }

    /// <summary>Marks a claimed job Succeeded. False when this claim no longer holds the job.</summary>
    public static Task<bool> CompleteAsync(StudioDbContext db, Job job, CancellationToken cancellationToken = default) =>
        FinishAsync(db, job, JobStatus.Succeeded, null, cancellationToken);

    /// <summary>Marks a claimed job Failed with <paramref name="error"/>. False when this claim no longer holds the job.</summary>
    public static Task<bool> FailAsync(StudioDbContext db, Job job, string error, CancellationToken cancellationToken = default) =>
        FinishAsync(db, job, JobStatus.Failed, error, cancellationToken);

    /// <summary>Puts a Failed job back to Pending with its attempts reset, e.g. after a "retry" in the UI.</summary>
    public static async Task<bool> RetryAsync(StudioDbContext db, Guid jobId, CancellationToken cancellationToken = default) =>
        await db.Jobs
            .Where(j => j.Id == jobId && j.Status == JobStatus.Failed)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Status, JobStatus.Pending)
                .SetProperty(j => j.Attempts, 0)
                .SetProperty(j => j.Error, (string?)null)
                .SetProperty(j => j.LeaseOwner, (string?)null)
                .SetProperty(j => j.LeaseExpiresAt, (DateTimeOffset?)null)
                .SetProperty(j => j.RunAfter, (DateTimeOffset?)null)
                .SetProperty(j => j.StartedAt, (DateTimeOffset?)null)
                .SetProperty(j => j.FinishedAt, (DateTimeOffset?)null), cancellationToken) == 1;

    private static async Task<bool> FinishAsync(StudioDbContext db, Job job, JobStatus status, string? error,
        CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        // Matching owner and attempt number means a worker whose lease was taken over cannot overwrite the
        // outcome of the newer claim.
        int updated = await db.Jobs
            .Where(j => j.Id == job.Id && j.Status == JobStatus.Running
                        && j.LeaseOwner == job.LeaseOwner && j.Attempts == job.Attempts)
            .ExecuteUpdateAsync(s => s
                .SetProperty(j => j.Status, status)
                .SetProperty(j => j.Error, error)
                .SetProperty(j => j.FinishedAt, now)
                .SetProperty(j => j.LeaseExpiresAt, (DateTimeOffset?)null), cancellationToken);
        if (updated != 1) return false;
        job.Status = status;
        job.Error = error;
        job.FinishedAt = now;
        job.LeaseExpiresAt = null;
        return true;
    }
}
