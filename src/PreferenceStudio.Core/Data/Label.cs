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
    /// <summary>
    /// UTC; set when the rater took the answer back (undo, while its round was open). A withdrawn label is kept as a
    /// record but counts nowhere: queries do not see it (a query filter), and the pair is offered to the rater again.
    /// </summary>
    public DateTimeOffset? WithdrawnAt { get; set; }

    public Comparison? Comparison { get; set; }
}
