namespace PreferenceStudio.Core.Data.Access;

/// <summary>The record that a researcher erased one rater's data from a campaign: who, when, and how much was deleted.</summary>
public class RaterErasure
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid CampaignId { get; set; }
    public string Pseudonym { get; set; } = "";
    /// <summary>Email of the account that erased it (kept even if the account is deleted later).</summary>
    public string ErasedBy { get; set; } = "";
    /// <summary>UTC.</summary>
    public DateTimeOffset ErasedAt { get; set; } = DateTimeOffset.UtcNow;
    public int Labels { get; set; }
    public int Rankings { get; set; }
    public int Assignments { get; set; }
}
