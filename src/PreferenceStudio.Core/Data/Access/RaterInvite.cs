namespace PreferenceStudio.Core.Data.Access;

/// <summary>
/// A personal join link for an invite-only campaign: one rater may join with it, once. Only the SHA-256 of its token is
/// kept, so the links can be downloaded only when they are made.
/// </summary>
public class RaterInvite
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid CampaignId { get; set; }
    public string TokenHash { get; set; } = "";
    /// <summary>UTC.</summary>
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public string? CreatedBy { get; set; }
    /// <summary>UTC; when a rater joined with it.</summary>
    public DateTimeOffset? UsedAt { get; set; }
    public string? RaterId { get; set; }
}
