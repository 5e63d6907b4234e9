using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Hierarchy;
using PreferenceStudio.Web.Features.Rounds;

namespace PreferenceStudio.Web.Features.Hierarchy;

/// <summary>What researchers read about a campaign's factor rankings (GET /api/v1/campaigns/{id}/rankings/stats).</summary>
/// <param name="KendallW">Agreement between raters' current rankings (Kendall's W, 0 to 1); null with fewer than two raters.</param>
public sealed record RankingStats(
    [property: JsonPropertyName("raters")] int Raters,
    [property: JsonPropertyName("factors")] IReadOnlyList<FactorStandingView> Factors,
    [property: JsonPropertyName("kendall_w")] double? KendallW,
    [property: JsonPropertyName("per_rater")] IReadOnlyList<RaterHierarchyView> PerRater);

/// <summary>One factor: how many raters ranked it first and its mean position (1 = most important).</summary>
public sealed record FactorStandingView(
    [property: JsonPropertyName("factor")] string Factor,
    [property: JsonPropertyName("description")] string Description,
    [property: JsonPropertyName("ranked_first")] int RankedFirst,
    [property: JsonPropertyName("mean_rank")] double? MeanRank);

/// <summary>
/// One rater's current ranking, how many versions they saved, and how their clip choices compare with their own
/// hierarchy: of the Left/Right choices the hierarchy in force at the time decided, how many went the other way.
/// </summary>
public sealed record RaterHierarchyView(
    [property: JsonPropertyName("rater")] string Rater,
    [property: JsonPropertyName("ranking")] IReadOnlyList<string> Ranking,
    [property: JsonPropertyName("versions")] int Versions,
    [property: JsonPropertyName("decided")] int Decided,
    [property: JsonPropertyName("disagreements")] int Disagreements,
    [property: JsonPropertyName("disagreement_rate")] double? DisagreementRate);

/// <summary>Reads a campaign's rankings and labels and computes <see cref="RankingStats"/> (the math is <see cref="RankingStatistics"/>).</summary>
public static class RankingStatsQuery
{
    public static async Task<RankingStats> ReadAsync(StudioDbContext db, RoundFactors roundFactors, Campaign campaign, CancellationToken ct)
    {
        var env = CampaignEnvironment.Create(campaign);
        var factorNames = env.Factors.Select(f => f.Name).ToList();
        var names = await Raters.RaterDirectory.PseudonymsAsync(db, campaign.Id, ct);
        var history = (await db.FactorRankings.AsNoTracking().Where(r => r.CampaignId == campaign.Id).ToListAsync(ct))
            .GroupBy(r => r.RaterId)
            .ToDictionary(g => g.Key, g => g.OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).ToList(), StringComparer.Ordinal);
        var hierarchies = new Dictionary<Guid, FactorHierarchy?>();
        FactorHierarchy? HierarchyOf(FactorRanking r)
        {
            if (!hierarchies.TryGetValue(r.Id, out var h))
                hierarchies[r.Id] = h = FactorHierarchy.TryCreate(env, r.Factors, r.Margins, out _);
            return h;
        }
        // A ranking stored before the environment's factors changed cannot be compared with the others.
        string Name(string raterId) => names.GetValueOrDefault(raterId, raterId);
        var current = history.OrderBy(h => Name(h.Key), StringComparer.Ordinal).Select(h => h.Value[^1])
            .Where(r => HierarchyOf(r) is not null).ToList();
        var summary = RankingStatistics.Summarise(factorNames, current.Select(r => (IReadOnlyList<string>)r.Factors).ToList());

        var raters = history.Keys.ToList();
        var labels = await db.Labels.AsNoTracking()
            .Where(l => l.CampaignId == campaign.Id && l.RaterId != null && raters.Contains(l.RaterId)
                && (l.Choice == PreferenceChoice.Left || l.Choice == PreferenceChoice.Right) && l.Comparison!.RoundId != null)
            .Select(l => new { RaterId = l.RaterId!, l.Choice, At = l.AnsweredAt ?? l.CreatedAt, RoundId = l.Comparison!.RoundId!.Value,
                l.Comparison.LeftSegmentId, l.Comparison.RightSegmentId })
            .ToListAsync(ct);
        var tables = new Dictionary<Guid, RoundFactorTable>();
        foreach (var roundId in labels.Select(l => l.RoundId).Distinct())
            tables[roundId] = await roundFactors.ForRoundAsync(roundId, env, ct);

        var perRater = new List<RaterHierarchyView>();
        foreach (var (rater, versions) in history.OrderBy(h => Name(h.Key), StringComparer.Ordinal))
        {
            var times = versions.Select(v => v.CreatedAt).ToList();
            var judged = labels.Where(l => l.RaterId == rater).Select(l =>
            {
                var hierarchy = HierarchyOf(versions[RankingStatistics.VersionInForce(times, l.At)]);
                var verdict = hierarchy is null ? null : tables[l.RoundId].Decide(env, hierarchy, l.LeftSegmentId, l.RightSegmentId);
                return (l.Choice, verdict?.Choice);
            });
            var consistency = RankingStatistics.Consistency(judged);
            perRater.Add(new RaterHierarchyView(Name(rater), versions[^1].Factors, versions.Count, consistency.Decided, consistency.Disagreements, consistency.Rate));
        }

        var standings = summary.Factors.Select((f, i) => new FactorStandingView(f.Factor, env.Factors[i].Description, f.RankedFirst, f.MeanRank)).ToList();
        return new RankingStats(summary.Raters, standings, summary.KendallW, perRater);
    }
}
