namespace PreferenceStudio.Core.Data;

/// <summary>A policy that generated a round's rollouts.</summary>
public class Policy
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid CampaignId { get; set; }
    /// <summary>The round whose clips this policy produced.</summary>
    public int RoundIndex { get; set; }
    /// <summary>"uniform" or "value-iteration".</summary>
    public string Kind { get; set; } = "uniform";
    public string? CheckpointPath { get; set; }
    /// <summary>The reward model the policy was trained on; null for the uniform start policy.</summary>
    public Guid? RewardModelRunId { get; set; }
    public double? ScaledReturn { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    public RewardModelRun? RewardModelRun { get; set; }
}
