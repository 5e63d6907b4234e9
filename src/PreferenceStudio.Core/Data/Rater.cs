namespace PreferenceStudio.Core.Data;

/// <summary>A pseudonymous person or program that labels pairs.</summary>
public class Rater
{
    /// <summary>Pseudonymous id such as "r-3fa9c2".</summary>
    public string Id { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    /// <summary>"human", "simulated" or "imported".</summary>
    public string Kind { get; set; } = "human";
}
