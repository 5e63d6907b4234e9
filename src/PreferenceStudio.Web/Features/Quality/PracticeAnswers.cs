using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;

namespace PreferenceStudio.Web.Features.Quality;

/// <summary>
/// A rater's practice answers: their first <see cref="Campaign.PracticeGoldPairs"/> answers to gold pairs served in a
/// round (the rating page says they are practice and tells whether each matched). Practice is for learning the task:
/// these answers neither train the models nor count towards gold accuracy, flags or agreement.
/// </summary>
public static class PracticeAnswers
{
    /// <summary>The ids of every practice answer in the campaign (empty when it has no practice pairs).</summary>
    public static async Task<HashSet<Guid>> LabelIdsAsync(StudioDbContext db, Campaign campaign, CancellationToken ct)
    {
        if (campaign.PracticeGoldPairs <= 0) return [];
        var gold = await db.Labels.AsNoTracking()
            .Where(l => l.CampaignId == campaign.Id && l.RaterId != null && l.Comparison!.Gold != null && l.Comparison.RoundId != null)
            .Select(l => new { l.Id, l.RaterId, l.CreatedAt })
            .ToListAsync(ct);
        return gold.GroupBy(l => l.RaterId)
            .SelectMany(g => g.OrderBy(l => l.CreatedAt).ThenBy(l => l.Id).Take(campaign.PracticeGoldPairs))
            .Select(l => l.Id).ToHashSet();
    }
}
