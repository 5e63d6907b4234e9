namespace PreferenceStudio.Core.Data;

/// <summary>
/// Durable background work. A (campaign, kind, round) step exists at most once; workers take jobs through
/// <see cref="JobQueue"/>, which leases them so a crashed worker's job is picked up again.
/// </summary>
public class Job
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid CampaignId { get; set; }
    public JobKind Kind { get; set; }
    public int RoundIndex { get; set; }
    public JobStatus Status { get; set; } = JobStatus.Pending;
    public int Attempts { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public string? LeaseOwner { get; set; }
    public DateTimeOffset? LeaseExpiresAt { get; set; }

    /// <summary>A Pending job that failed is not claimed again before this time (back-off between attempts).</summary>
    public DateTimeOffset? RunAfter { get; set; }
}
