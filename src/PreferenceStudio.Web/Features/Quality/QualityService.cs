using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Core.Quality;
using PreferenceStudio.Environments;
using PreferenceStudio.Learning.Loop;
using PreferenceStudio.Web.Features.Live;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Quality;

/// <summary>
/// How good a campaign's labels are: agreement between raters (Krippendorff's alpha, Fleiss' kappa) per round and
/// overall; per rater their gold accuracy, agreement with the majority of the others, response times, position bias
/// and the reliability the last reward model estimated; which raters are flagged and left out of training; gold pairs.
/// </summary>
public sealed class QualityService(IDbContextFactory<StudioDbContext> dbFactory, CampaignEvents events)
{
    /// <summary>Gold answers a rater needs before a low gold accuracy flags them (two misses are bad luck, not a pattern).</summary>
    public const int MinGoldAnswersToFlag = 3;

    private sealed record LabelRow(string RaterId, PreferenceChoice Choice, Guid ComparisonId, int? Round, PreferenceChoice? Gold, double? Seconds);

    public async Task<QualityReport?> ReportAsync(Guid campaignId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var campaign = await db.Campaigns.AsNoTracking().FirstOrDefaultAsync(c => c.Id == campaignId, ct);
        if (campaign is null) return null;
        var labels = await LabelsAsync(db, campaign, ct);
        var raters = await db.CampaignRaters.AsNoTracking().Where(r => r.CampaignId == campaignId && r.ErasedAt == null)
            .OrderBy(r => r.JoinedAt).ThenBy(r => r.Pseudonym).ToListAsync(ct);
        var (reliability, run) = await ReliabilityAsync(db, campaign, ct);

        var units = labels.GroupBy(l => l.ComparisonId).Select(g => (Round: g.First().Round, Answers: g.Select(l => (l.RaterId, Answer: Name(l.Choice))).ToList())).ToList();
        AgreementView Measure(int? round, IEnumerable<(int? Round, List<(string RaterId, string Answer)> Answers)> set)
        {
            var list = set.ToList();
            var answers = list.Select(u => (IReadOnlyList<string>)u.Answers.Select(a => a.Answer).ToList()).ToList();
            return new AgreementView(round, list.Sum(u => u.Answers.Count), list.Count(u => u.Answers.Count >= 2),
                Agreement.KrippendorffAlpha(answers), Agreement.FleissKappa(answers));
        }
        var rounds = units.Where(u => u.Round is not null).GroupBy(u => u.Round!.Value).OrderBy(g => g.Key).Select(g => Measure(g.Key, g)).ToList();
        var loo = Agreement.LeaveOneOutMajority(units.Select(u => (IReadOnlyList<(string, string)>)u.Answers));

        var views = raters.Select(r =>
        {
            var mine = labels.Where(l => l.RaterId == r.RaterId).ToList();
            var gold = Gold(mine);
            bool flagged = Flagged(campaign, gold);
            var times = mine.Where(l => l.Seconds is not null).Select(l => l.Seconds!.Value).ToList();
            int decisive = mine.Count(l => l.Choice is PreferenceChoice.Left or PreferenceChoice.Right);
            var (agreement, compared) = loo.TryGetValue(r.RaterId, out var a) ? a : (double.NaN, 0);
            return new RaterQualityView(r.Pseudonym, r.Kind, mine.Count, gold.Count, gold.Count > 0 ? gold.Accuracy : null,
                flagged, Excluded(campaign, r.TrainingOverride, flagged), r.TrainingOverride,
                compared > 0 ? agreement : null, compared,
                Agreement.Median(times), times.Count > 0 ? (double)times.Count(t => t < campaign.FastAnswerSeconds) / times.Count : null,
                decisive > 0 ? (double)mine.Count(l => l.Choice == PreferenceChoice.Left) / decisive : null,
                reliability.TryGetValue(r.Pseudonym, out var rel) ? rel : null);
        }).ToList();
        int goldPairs = await db.Comparisons.CountAsync(x => x.CampaignId == campaignId && x.Gold != null, ct);
        return new QualityReport(Measure(null, units), rounds, views, goldPairs, campaign.LabelsPerPair, campaign.MinGoldAccuracy,
            campaign.FastAnswerSeconds, campaign.RaterWeighting, run);
    }

    /// <summary>
    /// Internal ids of raters whose labels must not train the campaign's models: a researcher left them out, or they
    /// are flagged by their gold accuracy and the campaign leaves flagged raters out (unless a researcher kept them in).
    /// </summary>
    public static async Task<HashSet<string>> ExcludedRaterIdsAsync(StudioDbContext db, Campaign campaign, CancellationToken ct)
    {
        var overrides = await db.CampaignRaters.AsNoTracking().Where(r => r.CampaignId == campaign.Id)
            .Select(r => new { r.RaterId, r.TrainingOverride }).ToListAsync(ct);
        var excluded = overrides.Where(r => r.TrainingOverride == false).Select(r => r.RaterId).ToHashSet(StringComparer.Ordinal);
        if (!campaign.ExcludeFlaggedRaters || campaign.MinGoldAccuracy is null) return excluded;
        var practice = await PracticeAnswers.LabelIdsAsync(db, campaign, ct);
        var gold = (await db.Labels.AsNoTracking().Where(l => l.CampaignId == campaign.Id && l.RaterId != null && l.Comparison!.Gold != null)
            .Select(l => new { l.Id, l.RaterId, Match = l.Choice == l.Comparison!.Gold }).ToListAsync(ct))
            .Where(l => !practice.Contains(l.Id));
        foreach (var g in gold.GroupBy(x => x.RaterId!))
        {
            var stats = (Accuracy: (double)g.Count(x => x.Match) / g.Count(), Count: g.Count());
            if (Flagged(campaign, stats) && overrides.FirstOrDefault(o => o.RaterId == g.Key)?.TrainingOverride != true) excluded.Add(g.Key);
        }
        return excluded;
    }

    /// <summary>Sets whether a rater's labels train the models (null: the campaign's rule decides).</summary>
    public async Task SetTrainingOverrideAsync(Guid campaignId, string pseudonym, bool? include, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        int changed = await db.CampaignRaters.Where(r => r.CampaignId == campaignId && r.Pseudonym == pseudonym && r.ErasedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.TrainingOverride, include), ct);
        if (changed == 0) throw StudioProblemException.NotFound($"Campaign {campaignId} has no rater '{pseudonym}'.");
        await events.PublishAsync(new CampaignChanged(campaignId, CampaignChangeKind.Labels));
    }

    /// <summary>Marks a pair of the campaign as gold with <paramref name="answer"/> (left, right, equal), or makes it ordinary (null).</summary>
    public async Task SetGoldAsync(Guid campaignId, Guid comparisonId, string? answer, CancellationToken ct = default)
    {
        PreferenceChoice? gold = answer switch
        {
            null => null,
            "left" => PreferenceChoice.Left,
            "right" => PreferenceChoice.Right,
            "equal" => PreferenceChoice.Equal,
            _ => throw new StudioValidationException(new() { ["answer"] = [$"A gold answer is left, right or equal (or null to make the pair ordinary again), not '{answer}'."] }),
        };
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var comparison = await db.Comparisons.FirstOrDefaultAsync(x => x.Id == comparisonId && x.CampaignId == campaignId, ct)
            ?? throw StudioProblemException.NotFound($"Campaign {campaignId} has no comparison {comparisonId}.");
        if (comparison.IsHeldOut) throw StudioProblemException.Conflict("This pair is held out to measure the models; choose another one as gold.");
        if (comparison.ForRaterId is not null) throw StudioProblemException.Conflict("This pair was made for one rater's own policy; only shared pairs can be gold.");
        comparison.Gold = gold;
        comparison.GoldSource = gold is null ? null : GoldSources.Researcher;
        await db.SaveChangesAsync(ct);
        await events.PublishAsync(new CampaignChanged(campaignId, CampaignChangeKind.Labels, comparison.RoundIndex));
    }

    /// <summary>The shared pairs of the campaign's current round with their gold answers and label counts (held-out
    /// pairs listed too, marked: they measure the models and cannot be gold).</summary>
    public async Task<IReadOnlyList<GoldCandidateView>> GoldCandidatesAsync(Guid campaignId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var current = await db.Campaigns.Where(c => c.Id == campaignId).Select(c => (int?)c.CurrentRound).FirstOrDefaultAsync(ct)
            ?? throw StudioProblemException.NotFound($"No campaign {campaignId}.");
        var rows = await db.Comparisons.AsNoTracking()
            .Where(x => x.CampaignId == campaignId && x.RoundIndex == current && x.ForRaterId == null)
            .OrderBy(x => x.Ordinal)
            .Select(x => new { x.Id, x.RoundIndex, x.IsHeldOut, Left = x.LeftClip!.FileName, Right = x.RightClip!.FileName, LeftOk = x.LeftClip.Status == ClipStatus.Rendered,
                RightOk = x.RightClip.Status == ClipStatus.Rendered, x.Gold, x.GoldSource, Labels = x.Labels.Count })
            .ToListAsync(ct);
        return rows.Select(x => new GoldCandidateView(x.Id, x.RoundIndex ?? 0, x.LeftOk ? "/media/" + x.Left : null, x.RightOk ? "/media/" + x.Right : null,
            x.Gold is { } g ? Name(g) : null, x.GoldSource, x.Labels, x.IsHeldOut)).ToList();
    }

    /// <summary>Every rater's answers in the campaign, practice answers left out.</summary>
    /// <summary>One rater's counts as the raters table gives them.</summary>
    public sealed record RaterMeasures(string Pseudonym, string Kind, DateTimeOffset JoinedAt, DateTimeOffset? CompletedAt, string? ParticipantPlatform,
        string? ParticipantId, string? ParticipantStudy, string? ParticipantSession, int Labels, int GoldAnswers, double? GoldAccuracy, double? Reliability,
        bool Flagged, bool Excluded);

    /// <summary>
    /// Each rater's label count, gold accuracy, reliability and whether they are flagged or left out, as
    /// <see cref="ReportAsync"/> computes them, but counted by the database (GROUP BY), so a campaign of millions of
    /// labels costs a row per rater here, not a row per label (the report's agreement needs every answer).
    /// </summary>
    public async Task<List<RaterMeasures>?> RaterMeasuresAsync(Guid campaignId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var campaign = await db.Campaigns.AsNoTracking().FirstOrDefaultAsync(c => c.Id == campaignId, ct);
        if (campaign is null) return null;
        var practice = (await PracticeAnswers.LabelIdsAsync(db, campaign, ct)).ToList();
        var counts = await db.Labels.AsNoTracking().Where(l => l.CampaignId == campaignId && l.RaterId != null && !practice.Contains(l.Id))
            .GroupBy(l => l.RaterId!)
            .Select(g => new
            {
                RaterId = g.Key,
                Labels = g.Count(),
                Gold = g.Count(l => l.Comparison!.Gold != null),
                GoldMatched = g.Count(l => l.Comparison!.Gold != null && l.Choice == l.Comparison.Gold),
            })
            .ToDictionaryAsync(x => x.RaterId, ct);
        var raters = await db.CampaignRaters.AsNoTracking().Where(r => r.CampaignId == campaignId && r.ErasedAt == null)
            .OrderBy(r => r.JoinedAt).ThenBy(r => r.Pseudonym).ToListAsync(ct);
        var (reliability, _) = await ReliabilityAsync(db, campaign, ct);
        return raters.Select(r =>
        {
            var c = counts.GetValueOrDefault(r.RaterId);
            var gold = c is null || c.Gold == 0 ? (double.NaN, 0) : ((double)c.GoldMatched / c.Gold, c.Gold);
            bool flagged = Flagged(campaign, gold);
            return new RaterMeasures(r.Pseudonym, r.Kind, r.JoinedAt, r.CompletedAt, r.ParticipantPlatform, r.ParticipantId, r.ParticipantStudy,
                r.ParticipantSession, c?.Labels ?? 0, gold.Item2, gold.Item2 > 0 ? gold.Item1 : null,
                reliability.TryGetValue(r.Pseudonym, out var rel) ? rel : null, flagged, Excluded(campaign, r.TrainingOverride, flagged));
        }).ToList();
    }

    private static async Task<List<LabelRow>> LabelsAsync(StudioDbContext db, Campaign campaign, CancellationToken ct)
    {
        var practice = await PracticeAnswers.LabelIdsAsync(db, campaign, ct);
        var rows = await db.Labels.AsNoTracking().Where(l => l.CampaignId == campaign.Id && l.RaterId != null)
            .Select(l => new { l.Id, l.RaterId, l.Choice, l.ComparisonId, l.Comparison!.RoundIndex, l.Comparison.Gold, l.ResponseMilliseconds })
            .ToListAsync(ct);
        return rows.Where(l => !practice.Contains(l.Id)).Select(l => new LabelRow(l.RaterId!, l.Choice, l.ComparisonId, l.RoundIndex, l.Gold, l.ResponseMilliseconds / 1000.0)).ToList();
    }

    private static (double Accuracy, int Count) Gold(List<LabelRow> mine)
    {
        var answered = mine.Where(l => l.Gold is not null).ToList();
        return answered.Count == 0 ? (double.NaN, 0) : ((double)answered.Count(l => l.Choice == l.Gold) / answered.Count, answered.Count);
    }

    private static bool Flagged(Campaign c, (double Accuracy, int Count) gold) =>
        c.MinGoldAccuracy is { } min && gold.Count >= MinGoldAnswersToFlag && gold.Accuracy < min;

    private static bool Excluded(Campaign c, bool? training, bool flagged) =>
        training == false || (training != true && c.ExcludeFlaggedRaters && flagged);

    /// <summary>Each rater's reliability (by pseudonym) from the newest succeeded run of the policy's model that estimated it.</summary>
    private static async Task<(Dictionary<string, double> Reliability, Guid? Run)> ReliabilityAsync(StudioDbContext db, Campaign c, CancellationToken ct)
    {
        var runs = await db.RewardModelRuns.AsNoTracking()
            .Where(r => r.CampaignId == c.Id && r.ModelType == c.RewardModel && r.Status == RunStatus.Succeeded)
            .OrderByDescending(r => r.RoundIndex).ThenByDescending(r => r.StartedAt)
            .Select(r => new { r.Id, r.Metrics }).Take(5).ToListAsync(ct);
        foreach (var run in runs)
        {
            if (RewardModelMetrics.Parse(run.Metrics).RaterReliability is { } reliability)
                return (new Dictionary<string, double>(reliability, StringComparer.Ordinal), run.Id);
        }
        return (new Dictionary<string, double>(StringComparer.Ordinal), null);
    }

    private static string Name(PreferenceChoice c) => c.ToString().ToLowerInvariant();
}
