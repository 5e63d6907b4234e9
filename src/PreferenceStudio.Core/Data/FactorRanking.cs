namespace PreferenceStudio.Core.Data;

/// <summary>
/// One version of a rater's ranking of a campaign's reward factors (HERON): the factor names, most important first,
/// and each level's margin in units of that factor's spread. Saving a new ranking adds a row, so the history is
/// kept; the latest row is the rater's current ranking.
/// </summary>
public class FactorRanking
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid CampaignId { get; set; }
    public string RaterId { get; set; } = "";
    public string[] Factors { get; set; } = [];
    public double[] Margins { get; set; } = [];
    /// <summary>"human" (rating page), "api", "simulated" or "import".</summary>
    public string Source { get; set; } = "human";
    /// <summary>UTC. With the campaign and rater it identifies the version, so a re-imported ranking is stored once.</summary>
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
}
