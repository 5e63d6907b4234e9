namespace PreferenceStudio.Core.Data;

/// <summary>One training of a reward model on a campaign's labels.</summary>
public class RewardModelRun
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid CampaignId { get; set; }
    public int RoundIndex { get; set; }
    public string ModelType { get; set; } = "bt";
    public RunStatus Status { get; set; } = RunStatus.Running;
    public int NTrain { get; set; }
    public int NTest { get; set; }
    public double? HeldoutAccuracy { get; set; }
    public double? HeldoutLogLik { get; set; }
    /// <summary>Free-form JSON object (jsonb).</summary>
    public string Metrics { get; set; } = "{}";
    public string? CheckpointPath { get; set; }
    public string? Error { get; set; }
    public DateTimeOffset StartedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? FinishedAt { get; set; }
}
