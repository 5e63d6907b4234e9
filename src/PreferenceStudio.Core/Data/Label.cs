using PreferenceStudio.Environments;

namespace PreferenceStudio.Core.Data;

/// <summary>A rater's answer to a comparison.</summary>
public class Label
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ComparisonId { get; set; }
    public Guid CampaignId { get; set; }
    public string? RaterId { get; set; }
    public PreferenceChoice Choice { get; set; }
    public DateTimeOffset? ShownAt { get; set; }
    public DateTimeOffset? AnsweredAt { get; set; }
    public int? ResponseMilliseconds { get; set; }
    /// <summary>Client-chosen key, unique in the database, so a retried submission stores one label.</summary>
    public string IdempotencyKey { get; set; } = "";
    /// <summary>"human", "simulated" or "import".</summary>
    public string Source { get; set; } = "human";
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;

    public Comparison? Comparison { get; set; }
}
