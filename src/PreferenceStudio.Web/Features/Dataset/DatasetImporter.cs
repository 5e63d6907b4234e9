using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Exchange;
using PreferenceStudio.Environments;
using PreferenceStudio.Web.Features.Raters;

namespace PreferenceStudio.Web.Features.Dataset;

/// <summary>The outcome of an import: how many comparisons (and factor rankings) were stored, and how many were already there.</summary>
public sealed record ImportResult(
    [property: JsonPropertyName("imported")] int Imported,
    [property: JsonPropertyName("already_present")] int AlreadyPresent,
    [property: JsonPropertyName("lines")] int Lines,
    [property: JsonPropertyName("rankings_imported")] int RankingsImported = 0,
    [property: JsonPropertyName("rankings_already_present")] int RankingsAlreadyPresent = 0);

/// <summary>An import that was refused as a whole; each error names its line.</summary>
public sealed class ImportRejectedException(IReadOnlyList<PreferenceJsonlError> errors)
    : Exception($"The file was not imported: {errors.Count} line(s) have errors. First: {errors[0]}")
{
    public IReadOnlyList<PreferenceJsonlError> Errors { get; } = errors;
}

/// <summary>
/// Stores a JSONL file of comparisons as labels of a campaign, all or nothing: every line is validated first (schema,
/// environment, board, dynamics, label), then everything is written in one transaction. Lines whose id the campaign
/// already holds are skipped, so re-sending the same file stores each comparison once. Factor-ranking lines become
/// versions of their rater's ranking in the campaign; a version the campaign holds already (same rater and time) is skipped.
/// </summary>
public sealed class DatasetImporter(IDbContextFactory<StudioDbContext> dbFactory)
{
    private const int MaxRaterIdLength = 64;
    private const int MaxTextLength = 200;

    /// <param name="maxSegmentSteps">A segment with more actions than this is an error on its line.</param>
    public async Task<ImportResult> ImportAsync(Guid campaignId, Stream body, int maxSegmentSteps, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var campaign = await db.Campaigns.AsNoTracking().FirstAsync(c => c.Id == campaignId, ct);

        var read = await PreferenceJsonl.ReadAllAsync(body, ct);
        var errors = read.Errors.ToList();
        int lineCount = read.Records.Count + read.Rankings.Count;
        if (read.IsValid)
        {
            foreach (var (record, line) in read.Records.Zip(read.RecordLines))
            {
                if (record.Environment != campaign.Environment)
                    errors.Add(new(line, $"environment is '{record.Environment}' but this campaign runs '{campaign.Environment}'; import it into a campaign of that environment"));
                else if (!SameParameters(record, campaign))
                    errors.Add(new(line, $"environment_parameters {Describe(record.EnvironmentParameters)} differ from this campaign's {Describe(campaign.EnvironmentParameters)}; segments of another parameter setting do not belong to it"));
                if (record.Rater is { } rater && !RaterDirectory.IsValidImportedName(rater))
                    errors.Add(new(line, $"rater is a name of 1 to {MaxRaterIdLength} characters without control characters"));
                if (record.Left.Length > maxSegmentSteps || record.Right.Length > maxSegmentSteps)
                    errors.Add(new(line, $"a segment has {Math.Max(record.Left.Length, record.Right.Length)} steps; this studio takes at most {maxSegmentSteps} (Studio:Import:MaxSegmentSteps)"));
                if (record.Id.Length > MaxTextLength)
                    errors.Add(new(line, $"id is longer than {MaxTextLength} characters"));
                if (record.Group is { Length: > MaxTextLength })
                    errors.Add(new(line, $"group is longer than {MaxTextLength} characters"));
            }
            foreach (var (ranking, at) in read.Rankings.Zip(read.RankingLines))
            {
                if (ranking.Environment != campaign.Environment)
                    errors.Add(new(at, $"factor ranking {ranking.Id}: environment is '{ranking.Environment}' but this campaign runs '{campaign.Environment}'"));
                else if (!SameParameters(ranking.Environment, ranking.EnvironmentParameters, campaign))
                    errors.Add(new(at, $"factor ranking {ranking.Id}: environment_parameters {Describe(ranking.EnvironmentParameters)} differ from this campaign's {Describe(campaign.EnvironmentParameters)}"));
                if (!RaterDirectory.IsValidImportedName(ranking.Rater))
                    errors.Add(new(at, $"factor ranking {ranking.Id}: rater is a name of 1 to {MaxRaterIdLength} characters without control characters"));
            }
        }
        if (read.IsValid)
        {
            // An erasure is final: an older export that still holds the rater's answers cannot bring them back.
            var erased = await RaterDirectory.ErasedPseudonymsAsync(db, campaignId, ct);
            foreach (var (record, line) in read.Records.Zip(read.RecordLines).Where(r => r.First.Rater is { } name && erased.Contains(name)))
                errors.Add(new(line, $"rater '{record.Rater}' was erased from this campaign; remove their lines"));
            foreach (var (ranking, at) in read.Rankings.Zip(read.RankingLines).Where(r => erased.Contains(r.First.Rater)))
                errors.Add(new(at, $"factor ranking {ranking.Id}: rater '{ranking.Rater}' was erased from this campaign; remove their lines"));
        }
        if (errors.Count > 0) throw new ImportRejectedException(errors.OrderBy(e => e.Line).ToList());
        if (read.Records.Count == 0 && read.Rankings.Count == 0)
            throw new ImportRejectedException([new(1, "the file holds no comparisons or factor rankings; send one JSON object per line")]);

        var ids = read.Records.Select(r => r.Id).ToList();
        var present = (await db.Comparisons.Where(c => c.CampaignId == campaignId && c.ExternalId != null && ids.Contains(c.ExternalId))
            .Select(c => c.ExternalId!).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        var fresh = read.Records.Where(r => !present.Contains(r.Id)).ToList();

        db.ChangeTracker.AutoDetectChangesEnabled = false;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var segments = await db.Segments.Where(s => s.CampaignId == campaignId)
            .Select(s => new { s.ContentHash, s.Id }).ToDictionaryAsync(s => s.ContentHash, s => s.Id, ct);
        Guid SegmentId(PreferenceStudio.Environments.Segment segment)
        {
            var record = SegmentRecord.From(campaignId, segment);
            if (segments.TryGetValue(record.ContentHash, out var id)) return id;
            db.Segments.Add(record);
            segments[record.ContentHash] = record.Id;
            return record.Id;
        }

        // Files name raters by pseudonym: the campaign's rater of that name, else a new imported one (inside the
        // transaction, so a failed import leaves no raters behind).
        Dictionary<string, string> raters;
        try
        {
            raters = await RaterDirectory.EnsureImportedAsync(db, campaignId,
                fresh.Select(r => r.Rater).Concat(read.Rankings.Select(r => r.Rater)).OfType<string>(), ct);
        }
        catch (ErasedRaterException e)
        {
            // Erased between the check above and this transaction: refused the same way, nothing stored.
            throw new ImportRejectedException([new(1, e.Message)]);
        }
        var freshRankings = await FreshRankingsAsync(db, campaignId, read.Rankings, raters, ct);

        int ordinal = 0;
        foreach (var r in fresh)
        {
            var comparison = new Comparison
            {
                CampaignId = campaignId, Ordinal = ordinal++, ExternalId = r.Id, Group = r.Group,
                LeftSegmentId = SegmentId(r.Left), RightSegmentId = SegmentId(r.Right),
                Gold = r.Gold, GoldSource = r.Gold is null ? null : GoldSources.Import,
            };
            db.Comparisons.Add(comparison);
            db.Labels.Add(new Label
            {
                ComparisonId = comparison.Id, CampaignId = campaignId, RaterId = r.Rater is null ? null : raters[r.Rater], Choice = r.Label,
                // PostgreSQL keeps instants in UTC; a file may give any offset (the instant is the same).
                ShownAt = r.ShownAt?.ToUniversalTime(), AnsweredAt = r.AnsweredAt?.ToUniversalTime(),
                ResponseMilliseconds = r.ShownAt is { } s && r.AnsweredAt is { } a ? (int)Math.Clamp((a - s).TotalMilliseconds, 0, int.MaxValue) : null,
                IdempotencyKey = $"import:{comparison.Id:N}", Source = "import",
            });
        }
        db.FactorRankings.AddRange(freshRankings);
        db.ChangeTracker.DetectChanges();
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new ImportResult(fresh.Count, present.Count, lineCount, freshRankings.Count, read.Rankings.Count - freshRankings.Count);
    }

    /// <summary>The file's ranking versions the campaign does not hold yet (same rater and time means the same version).</summary>
    private static async Task<List<FactorRanking>> FreshRankingsAsync(StudioDbContext db, Guid campaignId, IReadOnlyList<FactorRankingRecord> rankings,
        IReadOnlyDictionary<string, string> raterIds, CancellationToken ct)
    {
        if (rankings.Count == 0) return [];
        var raters = rankings.Select(r => raterIds[r.Rater]).Distinct().ToList();
        var held = (await db.FactorRankings.Where(r => r.CampaignId == campaignId && raters.Contains(r.RaterId))
            .Select(r => new { r.RaterId, r.CreatedAt }).ToListAsync(ct))
            .Select(r => (r.RaterId, r.CreatedAt.UtcTicks)).ToHashSet();
        var fresh = new List<FactorRanking>();
        foreach (var r in rankings)
        {
            // PostgreSQL keeps microseconds: compare and store at that precision, so a re-import matches what is stored.
            var at = new DateTimeOffset(r.CreatedAt.UtcTicks - r.CreatedAt.UtcTicks % 10, TimeSpan.Zero);
            var raterId = raterIds[r.Rater];
            if (!held.Add((raterId, at.UtcTicks))) continue;
            fresh.Add(new FactorRanking
            {
                CampaignId = campaignId, RaterId = raterId, Factors = r.Factors.ToArray(), Margins = r.Margins.ToArray(),
                Source = "import", CreatedAt = at,
            });
        }
        return fresh;
    }

    private static bool SameParameters(PreferenceRecord record, Campaign campaign) =>
        SameParameters(record.Environment, record.EnvironmentParameters, campaign);

    private static bool SameParameters(string environment, IReadOnlyDictionary<string, double>? parameters, Campaign campaign)
    {
        var mine = EnvironmentRegistry.WithDefaults(campaign.Environment, campaign.EnvironmentParameters);
        var theirs = EnvironmentRegistry.WithDefaults(environment, parameters);
        return mine.Count == theirs.Count && mine.All(p => theirs.TryGetValue(p.Key, out var v) && v == p.Value);
    }

    private static string Describe(IReadOnlyDictionary<string, double>? parameters) =>
        parameters is null || parameters.Count == 0 ? "(defaults)"
            : "{" + string.Join(", ", parameters.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}: {p.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}")) + "}";
}
