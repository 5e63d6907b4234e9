namespace PreferenceStudio.Core.Data;

/// <summary>One round of a campaign: pairs shown to raters, then training on the labels collected so far.</summary>
public class Round
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid CampaignId { get; set; }
    /// <summary>0-based position in the campaign; unique per campaign.</summary>
    public int Index { get; set; }
    public RoundStatus Status { get; set; } = RoundStatus.Preparing;
    /// <summary>The policy whose rollouts produced this round's clips.</summary>
    public Guid? PolicyId { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? OpenedAt { get; set; }
    public DateTimeOffset? ClosedAt { get; set; }
    /// <summary>Held-out accuracy of the reward model trained after this round's labels.</summary>
    public double? HeldoutAccuracy { get; set; }
    public double? HeldoutLogLik { get; set; }
    /// <summary>Scaled return of the policy trained after this round's labels.</summary>
    public double? ScaledReturn { get; set; }
    /// <summary>Mean true return of the next policy over evaluation episodes (continuous environments).</summary>
    public double? MeanReturn { get; set; }
    public string? Error { get; set; }

    public Campaign? Campaign { get; set; }
    public Policy? Policy { get; set; }
}
