namespace PreferenceStudio.Core.Data;

/// <summary>A policy that generated a round's rollouts.</summary>
public class Policy
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid CampaignId { get; set; }
    /// <summary>The round whose clips this policy produced.</summary>
    public int RoundIndex { get; set; }
    /// <summary>"uniform", "value-iteration" (tabular, a JSON action table) or "ppo" (a Gaussian policy checkpoint).</summary>
    public string Kind { get; set; } = "uniform";
    public string? CheckpointPath { get; set; }
    /// <summary>The reward model the policy was trained on; null for the uniform start policy.</summary>
    public Guid? RewardModelRunId { get; set; }
    public double? ScaledReturn { get; set; }
    /// <summary>Mean true return over evaluation episodes (continuous environments, where no scaled return is known).</summary>
    public double? MeanReturn { get; set; }
    /// <summary>The pseudonym of the rater this policy was trained for (personalised campaigns); null for the campaign's shared policy.</summary>
    public string? RaterId { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    public RewardModelRun? RewardModelRun { get; set; }
}
