using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Hierarchy;
using PreferenceStudio.Web.Features.Live;
using PreferenceStudio.Web.Features.Raters;
using PreferenceStudio.Web.Features.Rounds;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Hierarchy;

/// <summary>
/// Stores raters' factor rankings per campaign with their history: each save that changes the ranking adds a version;
/// resending the current ranking stores nothing new. A ranking that leaves out a factor, names one twice or has a
/// negative margin is refused whole (<see cref="RankingValidationException"/>).
/// </summary>
public sealed class FactorRankingStore(IDbContextFactory<StudioDbContext> dbFactory, CampaignEvents events)
{
    /// <summary>Validates and stores <paramref name="submission"/> as the rater's current ranking in the campaign.</summary>
    public async Task<RankingView> SaveAsync(RaterRef rater, RankingSubmission submission, string source, CancellationToken ct = default) =>
        (await SaveVersionAsync(rater, submission, source, ct)).Ranking;

    /// <summary>
    /// As <see cref="SaveAsync"/>, also saying whether a new version was stored (false: the submission repeats the
    /// current ranking, which is returned unchanged).
    /// </summary>
    public async Task<(RankingView Ranking, bool Created)> SaveVersionAsync(RaterRef rater, RankingSubmission submission, string source, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(submission);
        if (submission.RaterId is { } named && named != rater.Pseudonym)
            throw StudioProblemException.Forbidden($"This ranking is sent for rater '{named}', but you are authenticated as '{rater.Pseudonym}'. Leave rater_id out.");
        var campaignId = rater.CampaignId;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var campaign = await db.Campaigns.AsNoTracking().FirstOrDefaultAsync(c => c.Id == campaignId, ct)
            ?? throw StudioProblemException.NotFound($"No campaign {campaignId}.");
        var env = CampaignEnvironment.Create(campaign);
        var hierarchy = Parse(env, submission.Factors, submission.Margins);

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // The rater's row, shared: an erasure of this rater waits for this save (and then erases it too), and a
        // rater erased a moment ago stores nothing.
        await RaterDirectory.RequireNotErasedAsync(db, rater, ct);
        if (campaign.Consent.Length > 0
            && !await db.CampaignRaters.AnyAsync(r => r.CampaignId == campaignId && r.RaterId == rater.Id && r.ConsentedAt != null, ct))
            throw StudioProblemException.Conflict("Accept the campaign's consent text first (POST .../consent, or on the rating page).");
        var current = await CurrentRankingAsync(db, campaignId, rater.Id, ct);
        if (current is not null && current.Factors.SequenceEqual(hierarchy.Factors) && current.Margins.SequenceEqual(hierarchy.Margins))
            return (ToView(current, rater.Pseudonym), false);
        var ranking = new FactorRanking
        {
            CampaignId = campaignId,
            RaterId = rater.Id,
            Factors = hierarchy.Factors.ToArray(),
            Margins = hierarchy.Margins.ToArray(),
            Source = source,
        };
        db.FactorRankings.Add(ranking);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        // The admin page's ranking statistics follow new versions live.
        await events.PublishAsync(new CampaignChanged(campaignId, CampaignChangeKind.Rankings));
        return (ToView(ranking, rater.Pseudonym), true);
    }

    /// <summary>The current ranking of the rater named <paramref name="pseudonym"/> in the campaign, or null when they have not ranked yet.</summary>
    public async Task<RankingView?> CurrentAsync(Guid campaignId, string pseudonym, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var raterId = await db.CampaignRaters.Where(r => r.CampaignId == campaignId && r.Pseudonym == pseudonym).Select(r => r.RaterId).FirstOrDefaultAsync(ct);
        if (raterId is null) return null;
        return await CurrentRankingAsync(db, campaignId, raterId, ct) is { } r ? ToView(r, pseudonym) : null;
    }

    /// <summary>Every version of every rater's ranking in the campaign, oldest first.</summary>
    public async Task<IReadOnlyList<RankingView>> HistoryAsync(Guid campaignId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.FactorRankings.AsNoTracking().Where(r => r.CampaignId == campaignId)
            .OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).ToListAsync(ct);
        var names = await RaterDirectory.PseudonymsAsync(db, campaignId, ct);
        return rows.Select(r => ToView(r, names.GetValueOrDefault(r.RaterId, r.RaterId))).ToList();
    }

    /// <summary>Each rater's current ranking in the campaign (the latest version per rater).</summary>
    public static async Task<List<FactorRanking>> CurrentRankingsAsync(StudioDbContext db, Guid campaignId, CancellationToken ct)
    {
        var rows = await db.FactorRankings.AsNoTracking().Where(r => r.CampaignId == campaignId).ToListAsync(ct);
        return rows.GroupBy(r => r.RaterId)
            .Select(g => g.OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).First())
            .OrderBy(r => r.RaterId, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>The rater's current ranking row in the campaign, or null (for services that hold their own context).</summary>
    public static Task<FactorRanking?> CurrentRankingAsync(StudioDbContext db, Guid campaignId, string raterId, CancellationToken ct) =>
        db.FactorRankings.AsNoTracking().Where(r => r.CampaignId == campaignId && r.RaterId == raterId)
            .OrderByDescending(r => r.CreatedAt).ThenByDescending(r => r.Id).FirstOrDefaultAsync(ct);

    /// <summary>The hierarchy, or a <see cref="RankingValidationException"/> listing every problem by field.</summary>
    public static FactorHierarchy Parse(IPreferenceEnvironment env, IReadOnlyList<string>? factors, IReadOnlyList<double>? margins) =>
        FactorHierarchy.TryCreate(env, factors, margins, out var errors)
            ?? throw new RankingValidationException(errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray()));

    public static RankingView ToView(FactorRanking r, string pseudonym) => new(r.Id, r.CampaignId, pseudonym, r.Factors, r.Margins, r.Source, r.CreatedAt);
}
