namespace PreferenceStudio.Core.Data;

/// <summary>A pair served to a rater; a rater is served a given pair at most once.</summary>
public class Assignment
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid ComparisonId { get; set; }
    public string RaterId { get; set; } = "";
    public DateTimeOffset ShownAt { get; set; } = DateTimeOffset.UtcNow;

    public Comparison? Comparison { get; set; }
    public Rater? Rater { get; set; }
}
