using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments.Rendering;
using PreferenceStudio.Environments;

namespace PreferenceStudio.Web.Features.Study;

/// <summary>A legend entry ready for a page: the picture as a data URI (the page's CSP allows data: images).</summary>
public sealed record LegendEntry(string Name, string Meaning, string ImageDataUri);

/// <summary>What a rater reads: the campaign's instructions and consent as safe HTML, and the legend of its clips.</summary>
public sealed record StudyText(string InstructionsHtml, string ConsentHtml, IReadOnlyList<LegendEntry> Legend)
{
    public bool HasInstructions => InstructionsHtml.Length > 0;
    public bool AsksConsent => ConsentHtml.Length > 0;
}

/// <summary>
/// Reads a campaign's texts for its raters and draws the legend with the environment's own renderer (once per
/// environment and parameters: the pictures do not change while the studio runs).
/// </summary>
public sealed class StudyTexts(IDbContextFactory<StudioDbContext> dbFactory)
{
    private readonly ConcurrentDictionary<string, IReadOnlyList<LegendEntry>> _legends = new();

    public async Task<StudyText?> ForCampaignAsync(Guid campaignId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var c = await db.Campaigns.AsNoTracking().FirstOrDefaultAsync(x => x.Id == campaignId, ct);
        return c is null ? null : new StudyText(SafeMarkdown.ToHtml(c.Instructions), SafeMarkdown.ToHtml(c.Consent), LegendFor(c));
    }

    /// <summary>The legend of a campaign's clips (also for the researcher's preview).</summary>
    public IReadOnlyList<LegendEntry> LegendFor(Campaign campaign) => LegendFor(campaign.Environment, campaign.EnvironmentParameters);

    /// <summary>The legend of an environment's clips with these parameters (empty for an unknown environment).</summary>
    public IReadOnlyList<LegendEntry> LegendFor(string environment, IReadOnlyDictionary<string, double> parameters)
    {
        // The admin form previews while the researcher types: parameters not yet valid show no legend rather than fail.
        if (EnvironmentRegistry.Find(environment) is not { } definition || EnvironmentRegistry.Validate(definition, parameters).Count > 0) return [];
        // The admin form previews any parameters a researcher types: a bounded cache, emptied when it fills.
        if (_legends.Count > 256) _legends.Clear();
        var key = environment + "|" + string.Join(",", parameters.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value:R}"));
        return _legends.GetOrAdd(key, _ => LegendPictures.For(EnvironmentRegistry.Create(environment, parameters))
            .Select(i => new LegendEntry(i.Name, i.Meaning, "data:image/png;base64," + Convert.ToBase64String(i.Png))).ToList());
    }
}
