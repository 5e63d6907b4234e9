using System.Text;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Hierarchy;
using PreferenceStudio.Learning;

namespace PreferenceStudio.Web.Features.Hierarchy;

/// <summary>Automatic labels from raters' factor rankings, and how many rankings gave them.</summary>
public sealed record HierarchyLabels(List<PreferencePair> Pairs, int Rankings, int PairsDrawn);

/// <summary>
/// The "factor hierarchy" label source (HERON): for each rater's current ranking and each round so far, labels random
/// pairs of single steps of that round's segments (<see cref="HierarchyLabeler.DefaultPieceLength"/>) with the
/// hierarchical decision rule. Each label carries its rater and the campaign's
/// hierarchy weight. Segments of held-out comparisons are left out, so the held-out clip labels still measure the
/// model on segments it never trained on.
/// </summary>
public static class HierarchyLabelSource
{
    /// <param name="excludedRaterIds">Internal ids of raters left out of training: their rankings give no labels either.</param>
    public static async Task<HierarchyLabels> LabelAsync(StudioDbContext db, Campaign campaign, IPreferenceEnvironment env, int roundIndex, CancellationToken ct,
        IReadOnlySet<string>? excludedRaterIds = null)
    {
        var rankings = (await FactorRankingStore.CurrentRankingsAsync(db, campaign.Id, ct))
            .Where(r => excludedRaterIds is null || !excludedRaterIds.Contains(r.RaterId)).ToList();
        if (rankings.Count == 0) return new HierarchyLabels([], 0, 0);

        // Models know raters by pseudonym (as the clip labels of TrainingLabels do), never by their internal id.
        var names = await Raters.RaterDirectory.PseudonymsAsync(db, campaign.Id, ct);
        var hierarchies = rankings.Select(r => (Rater: names.GetValueOrDefault(r.RaterId, r.RaterId), Hierarchy: Hierarchy(env, r))).ToList();
        var rounds = await db.Rounds.AsNoTracking().Where(r => r.CampaignId == campaign.Id && r.Index <= roundIndex)
            .OrderBy(r => r.Index).Select(r => new { r.Id, r.Index }).ToListAsync(ct);
        var heldOut = (await db.Comparisons.AsNoTracking().Where(c => c.CampaignId == campaign.Id && c.IsHeldOut)
                .Select(c => new { c.LeftSegmentId, c.RightSegmentId }).ToListAsync(ct))
            .SelectMany(c => new[] { c.LeftSegmentId, c.RightSegmentId }).ToHashSet();

        var pairs = new List<PreferencePair>();
        int drawn = 0;
        foreach (var round in rounds)
        {
            var segments = (await db.Segments.AsNoTracking().Where(s => s.RoundId == round.Id).OrderBy(s => s.Id)
                    .Select(s => new { s.Id, s.States, s.Actions }).ToListAsync(ct))
                .Where(s => !heldOut.Contains(s.Id)).Select(s => new Segment(s.States, s.Actions)).ToList();
            segments = HierarchyLabeler.Pieces(env, segments, HierarchyLabeler.DefaultPieceLength);
            if (segments.Count < 2) continue;
            foreach (var (rater, hierarchy) in hierarchies)
            {
                var rng = new Random(Seed(campaign.Seed, round.Index, rater));
                drawn += campaign.HierarchyPairsPerRound;
                pairs.AddRange(HierarchyLabeler.Label(env, segments, hierarchy, campaign.HierarchyPairsPerRound, rng)
                    .Select(l => new PreferencePair(segments[l.Left], segments[l.Right], l.Choice, rater, campaign.HierarchyWeight)));
            }
        }
        return new HierarchyLabels(pairs, rankings.Count, drawn);
    }

    /// <summary>
    /// A seed that is the same on every run and machine for a campaign, round and rater (FNV-1a over the three):
    /// string.GetHashCode is randomised per process, and a restarted round must draw the same pairs.
    /// </summary>
    public static int Seed(int campaignSeed, int roundIndex, string rater)
    {
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes($"{campaignSeed}|{roundIndex}|{rater}"))
        {
            hash ^= b;
            hash *= 16777619;
        }
        return (int)(hash & 0x7FFFFFFF);
    }

    private static FactorHierarchy Hierarchy(IPreferenceEnvironment env, FactorRanking ranking) =>
        FactorHierarchy.TryCreate(env, ranking.Factors, ranking.Margins, out var errors)
            ?? throw new InvalidOperationException($"A rater's stored ranking (version {ranking.Id}) does not fit {env.Name}: {string.Join(" ", errors.Select(e => e.Message))} The rater should rank the factors again.");
}
