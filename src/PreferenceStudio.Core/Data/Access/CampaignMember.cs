namespace PreferenceStudio.Core.Data.Access;

/// <summary>What a member may do in one campaign; each role includes the ones below it. Stored as its name.</summary>
public enum CampaignRole
{
    /// <summary>Sees the campaign, its runs, raters' pseudonyms, exports and checkpoints.</summary>
    Viewer = 1,
    /// <summary>Also starts and pauses it, imports data, creates scripted raters and invite links, erases a rater's data.</summary>
    Editor = 2,
    /// <summary>Also adds and removes members.</summary>
    Owner = 3,
}

/// <summary>A researcher's membership of a campaign. The researcher who creates a campaign is its first owner.</summary>
public class CampaignMember
{
    public Guid CampaignId { get; set; }
    public string UserId { get; set; } = "";
    public CampaignRole Role { get; set; }
    /// <summary>UTC.</summary>
    public DateTimeOffset AddedAt { get; set; } = DateTimeOffset.UtcNow;

    public StudioUser? User { get; set; }
}
