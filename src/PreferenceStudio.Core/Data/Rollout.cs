namespace PreferenceStudio.Core.Data;

/// <summary>One episode run by a policy; segments are cut from it.</summary>
public class Rollout
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid CampaignId { get; set; }
    public Guid RoundId { get; set; }
    public Guid? PolicyId { get; set; }
    public int EpisodeIndex { get; set; }
    public int Seed { get; set; }
    /// <summary>States s_0..s_T (jsonb).</summary>
    public double[][] States { get; set; } = [];
    /// <summary>Actions a_0..a_{T-1} (jsonb).</summary>
    public double[][] Actions { get; set; } = [];
    public double? TrueReturn { get; set; }
    /// <summary>Exploration rate the episode was run with.</summary>
    public double Epsilon { get; set; }
}
