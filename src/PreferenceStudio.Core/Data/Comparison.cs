using PreferenceStudio.Environments;
namespace PreferenceStudio.Core.Data;

/// <summary>A pair of segments put to raters.</summary>
public class Comparison
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid CampaignId { get; set; }
    public Guid? RoundId { get; set; }
    public int? RoundIndex { get; set; }
    /// <summary>Position within the round.</summary>
    public int Ordinal { get; set; }
    public Guid LeftSegmentId { get; set; }
    public Guid RightSegmentId { get; set; }
    public Guid? LeftClipId { get; set; }
    public Guid? RightClipId { get; set; }
    public Guid? PolicyId { get; set; }
    /// <summary>In personalised campaigns, the pseudonym of the rater whose own policy made this pair (served to that rater only); null for everyone.</summary>
    public string? ForRaterId { get; set; }
    /// <summary>Id in the exchange format when imported; unique per campaign when set.</summary>
    public string? ExternalId { get; set; }
    public string? Group { get; set; }
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    /// <summary>Reserved for held-out evaluation: never used for training.</summary>
    public bool IsHeldOut { get; set; }
    /// <summary>The answer fixed in advance when this is a gold pair (left, right or equal); null for an ordinary pair.</summary>
    public PreferenceChoice? Gold { get; set; }
    /// <summary>Where the gold answer came from: "researcher", "true-reward" or "import".</summary>
    public string? GoldSource { get; set; }
    /// <summary>
    /// Answers in force (withdrawn ones not counted) and servings of this pair, kept by database triggers on labels
    /// and assignments so that choosing the next pair reads an index instead of counting rows. Never set by the app.
    /// </summary>
    public int LabelCount { get; set; }
    public int ServeCount { get; set; }

    public SegmentRecord? LeftSegment { get; set; }
    public SegmentRecord? RightSegment { get; set; }
    public Clip? LeftClip { get; set; }
    public Clip? RightClip { get; set; }
    public List<Label> Labels { get; set; } = [];
}

/// <summary>Where a gold pair's fixed answer came from.</summary>
public static class GoldSources
{
    public const string Researcher = "researcher";
    public const string TrueReward = "true-reward";
    public const string Import = "import";
}
