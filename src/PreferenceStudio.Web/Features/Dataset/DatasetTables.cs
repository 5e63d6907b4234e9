using System.Globalization;
using CsvHelper;
using Microsoft.EntityFrameworkCore;
using Parquet;
using Parquet.Serialization;
using Parquet.Serialization.Attributes;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Web.Features.Raters;
using PreferenceStudio.Web.Hosting;
using JsonName = System.Text.Json.Serialization.JsonPropertyNameAttribute;

namespace PreferenceStudio.Web.Features.Dataset;

/// <summary>The table kinds a campaign exports besides the JSONL exchange file, one row type each.</summary>
public static class ExportKinds
{
    public const string Comparisons = "comparisons";
    public const string Rankings = "rankings";
    public const string Segments = "segments";
    public const string Raters = "raters";
    public static readonly IReadOnlyList<string> All = [Comparisons, Rankings, Segments, Raters];
    public static readonly IReadOnlyList<string> Formats = ["jsonl", "csv", "parquet", "bundle"];
}

/// <summary>One label, as a row: which segment was chosen and which rejected (null for equal and can't tell).</summary>
public sealed class ComparisonRow
{
    [JsonName("label_id"), ParquetRequired] public string LabelId { get; set; } = "";
    [JsonName("comparison_id"), ParquetRequired] public string ComparisonId { get; set; } = "";
    /// <summary>The exchange-format id (the one an import brought, else the studio's own).</summary>
    [JsonName("exchange_id"), ParquetRequired] public string ExchangeId { get; set; } = "";
    [JsonName("round")] public int? Round { get; set; }
    [JsonName("rater")] public string? Rater { get; set; }
    /// <summary>The rater group or study condition the comparison came with (imports), else null.</summary>
    [JsonName("group")] public string? Group { get; set; }
    [JsonName("label"), ParquetRequired] public string Label { get; set; } = "";
    [JsonName("chosen_segment_id")] public string? ChosenSegmentId { get; set; }
    [JsonName("rejected_segment_id")] public string? RejectedSegmentId { get; set; }
    [JsonName("left_segment_id"), ParquetRequired] public string LeftSegmentId { get; set; } = "";
    [JsonName("right_segment_id"), ParquetRequired] public string RightSegmentId { get; set; } = "";
    [JsonName("shown_at"), ParquetTimestamp(ParquetTimestampResolution.Milliseconds)] public DateTime? ShownAt { get; set; }
    [JsonName("answered_at"), ParquetTimestamp(ParquetTimestampResolution.Milliseconds)] public DateTime? AnsweredAt { get; set; }
    [JsonName("response_ms")] public int? ResponseMs { get; set; }
    [JsonName("held_out")] public bool HeldOut { get; set; }
    [JsonName("gold")] public string? Gold { get; set; }
    [JsonName("left_clip_sha256")] public string? LeftClipSha256 { get; set; }
    [JsonName("right_clip_sha256")] public string? RightClipSha256 { get; set; }
    [JsonName("policy_id")] public string? PolicyId { get; set; }
}

/// <summary>One version of a rater's factor ranking, as a row.</summary>
public sealed class RankingRow
{
    [JsonName("ranking_id"), ParquetRequired] public string RankingId { get; set; } = "";
    [JsonName("rater"), ParquetRequired] public string Rater { get; set; } = "";
    [JsonName("environment"), ParquetRequired] public string Environment { get; set; } = "";
    /// <summary>The environment's parameters as a JSON object ("{}" for its defaults).</summary>
    [JsonName("environment_parameters"), ParquetRequired] public string EnvironmentParameters { get; set; } = "{}";
    [JsonName("factors")] public List<string> Factors { get; set; } = [];
    [JsonName("margins")] public List<double> Margins { get; set; } = [];
    [JsonName("created_at"), ParquetTimestamp(ParquetTimestampResolution.Milliseconds)] public DateTime CreatedAt { get; set; }
    [JsonName("source"), ParquetRequired] public string Source { get; set; } = "";
}

/// <summary>One segment a comparison showed: its states and actions (nested lists in Parquet, JSON arrays in CSV).</summary>
public sealed class SegmentRow
{
    [JsonName("segment_id"), ParquetRequired] public string SegmentId { get; set; } = "";
    [JsonName("environment"), ParquetRequired] public string Environment { get; set; } = "";
    /// <summary>The environment's parameters as a JSON object ("{}" for its defaults).</summary>
    [JsonName("environment_parameters"), ParquetRequired] public string EnvironmentParameters { get; set; } = "{}";
    [JsonName("round")] public int? Round { get; set; }
    [JsonName("steps")] public int Steps { get; set; }
    [JsonName("states")] public List<List<double>> States { get; set; } = [];
    [JsonName("actions")] public List<List<double>> Actions { get; set; } = [];
    /// <summary>Per-step true-reward factor values, where the studio computed them (null for imported segments).</summary>
    [JsonName("features")] public List<List<double>>? Features { get; set; }
    [JsonName("true_return")] public double? TrueReturn { get; set; }
    [JsonName("content_hash"), ParquetRequired] public string ContentHash { get; set; } = "";
}

/// <summary>One rater of the campaign (erased raters are gone): who, from where, and how their answers measure up.</summary>
public sealed class RaterRow
{
    [JsonName("rater"), ParquetRequired] public string Rater { get; set; } = "";
    [JsonName("kind"), ParquetRequired] public string Kind { get; set; } = "";
    [JsonName("joined_at"), ParquetTimestamp(ParquetTimestampResolution.Milliseconds)] public DateTime JoinedAt { get; set; }
    [JsonName("completed_at"), ParquetTimestamp(ParquetTimestampResolution.Milliseconds)] public DateTime? CompletedAt { get; set; }
    [JsonName("participant_platform")] public string? ParticipantPlatform { get; set; }
    [JsonName("participant_id")] public string? ParticipantId { get; set; }
    [JsonName("participant_study")] public string? ParticipantStudy { get; set; }
    [JsonName("participant_session")] public string? ParticipantSession { get; set; }
    [JsonName("labels")] public int Labels { get; set; }
    [JsonName("gold_answers")] public int GoldAnswers { get; set; }
    [JsonName("gold_accuracy")] public double? GoldAccuracy { get; set; }
    /// <summary>The reliability the campaign's rater-weighting model estimated (null without one).</summary>
    [JsonName("reliability")] public double? Reliability { get; set; }
    [JsonName("flagged")] public bool Flagged { get; set; }
    [JsonName("excluded_from_training")] public bool ExcludedFromTraining { get; set; }
}

/// <summary>
/// A row type's CSV columns: the same columns, names and order as its Parquet schema (the properties with their
/// JSON names, in declaration order). Nulls are empty fields, times ISO-8601 UTC, numbers invariant and
/// round-trippable, lists JSON arrays.
/// </summary>
internal static class CsvColumns<T>
{
    private static readonly System.Reflection.PropertyInfo[] Properties = typeof(T).GetProperties()
        .Where(p => p.GetCustomAttributes(typeof(JsonName), false).Length > 0).OrderBy(p => p.MetadataToken).ToArray();

    public static readonly string[] Names = Properties.Select(p => ((JsonName)p.GetCustomAttributes(typeof(JsonName), false)[0]).Name).ToArray();

    public static string[] Fields(T row) => Properties.Select(p => Format(p.GetValue(row))).ToArray();

    private static string Format(object? value) => value switch
    {
        null => "",
        string text => text,
        DateTime time => DatasetTables.Time(time),
        bool flag => flag ? "true" : "false",
        double number => number.ToString("R", CultureInfo.InvariantCulture),
        IFormattable number => number.ToString(null, CultureInfo.InvariantCulture),
        _ => System.Text.Json.JsonSerializer.Serialize(value),
    };
}

/// <summary>
/// Writes a campaign's comparisons or rankings as a CSV or Parquet table into a file: read from the database in
/// batches (constant memory; Parquet gets one row group per batch), the connection closed before anyone downloads
/// the file, so a slow client never holds one open. Raters appear by their pseudonym in the campaign.
/// </summary>
public sealed class DatasetTables(IDbContextFactory<StudioDbContext> dbFactory, Quality.QualityService quality)
{
    /// <summary>Rows per database batch and Parquet row group.</summary>
    public const int BatchSize = 20_000;

    /// <summary>Refuses a format or kind the export does not know, and a table kind asked for as JSONL.</summary>
    public static void Validate(string format, string? kind)
    {
        if (!ExportKinds.Formats.Contains(format))
            throw StudioProblemException.Invalid($"Unknown export format '{format}'. Use format={string.Join(", ", ExportKinds.Formats)} (jsonl is the lossless exchange file).");
        if (kind is not null && !ExportKinds.All.Contains(kind))
            throw StudioProblemException.Invalid($"Unknown export kind '{kind}'. Use kind={string.Join(" or ", ExportKinds.All)}.");
        if (format == "jsonl" && kind is ExportKinds.Segments or ExportKinds.Raters)
            throw StudioProblemException.Invalid($"kind={kind} is a table: use format=csv or parquet. JSONL holds comparisons and rankings.");
    }

    /// <summary>Writes the table to <paramref name="path"/>; returns the number of rows.</summary>
    public async Task<int> WriteAsync(Guid campaignId, string kind, string format, string path, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Millions of rows stream through in constant memory (a retrying read would buffer them all).
        db.StreamingReads = true;
        if (!await db.Campaigns.AnyAsync(c => c.Id == campaignId, ct)) throw StudioProblemException.NotFound($"No campaign {campaignId}.");
        var names = await RaterDirectory.PseudonymsAsync(db, campaignId, ct);
        return kind switch
        {
            ExportKinds.Comparisons => await WriteBatchesAsync(ComparisonBatchesAsync(db, campaignId, names, ct), format, path, ct),
            ExportKinds.Segments => await WriteBatchesAsync(SegmentBatchesAsync(db, campaignId, ct), format, path, ct),
            ExportKinds.Raters => await WriteBatchesAsync(RaterBatchesAsync(campaignId, ct), format, path, ct),
            _ => await WriteBatchesAsync(RankingBatchesAsync(db, campaignId, names, ct), format, path, ct),
        };
    }

    /// <summary>ISO-8601 UTC with milliseconds, as pandas and DuckDB parse it; empty for none.</summary>
    internal static string Time(DateTime? time) => time?.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture) ?? "";

    /// <summary>Writes rows (in batches: one Parquet row group each) as a CSV or Parquet file; returns the row count.</summary>
    public static async Task<int> WriteBatchesAsync<T>(IAsyncEnumerable<List<T>> batches, string format, string path, CancellationToken ct) where T : new()
    {
        int rows = 0;
        await using var file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        if (format == "parquet")
        {
            await foreach (var batch in batches.WithCancellation(ct))
            {
                // Each batch a row group: the first makes the file, the others append to it (an empty table is one empty group).
                if (batch.Count > 0 || rows == 0)
                    await ParquetSerializer.SerializeAsync(batch, file, new ParquetOptions { Append = rows > 0 }, cancellationToken: ct);
                rows += batch.Count;
            }
            return rows;
        }
        await using var text = new StreamWriter(file, new System.Text.UTF8Encoding(false), 1 << 16);
        await using var csv = CsvWriter.Create(text, null, leaveOpen: true);
        csv.WriteHeader(CsvColumns<T>.Names);
        await foreach (var batch in batches.WithCancellation(ct))
        {
            foreach (var row in batch) csv.WriteRecord(CsvColumns<T>.Fields(row));
            rows += batch.Count;
        }
        await csv.FlushAsync(ct);
        return rows;
    }

    private static async IAsyncEnumerable<List<ComparisonRow>> ComparisonBatchesAsync(StudioDbContext db, Guid campaignId, Dictionary<string, string> names,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var rows = db.Labels.AsNoTracking()
            .Where(l => l.CampaignId == campaignId)
            .OrderBy(l => l.Comparison!.RoundIndex).ThenBy(l => l.Comparison!.Ordinal).ThenBy(l => l.Comparison!.CreatedAt)
            .ThenBy(l => l.CreatedAt).ThenBy(l => l.Id)
            .Select(l => new
            {
                l.Id, l.RaterId, l.Choice, l.ShownAt, l.AnsweredAt, l.ResponseMilliseconds, l.ComparisonId,
                l.Comparison!.ExternalId, l.Comparison.Group, l.Comparison.RoundIndex, l.Comparison.LeftSegmentId, l.Comparison.RightSegmentId,
                l.Comparison.IsHeldOut, l.Comparison.Gold, l.Comparison.PolicyId,
                LeftSha = l.Comparison.LeftClip!.Sha256, RightSha = l.Comparison.RightClip!.Sha256,
            })
            .AsAsyncEnumerable();
        var batch = new List<ComparisonRow>(BatchSize);
        bool any = false;
        await foreach (var r in rows.WithCancellation(ct))
        {
            var left = r.LeftSegmentId.ToString();
            var right = r.RightSegmentId.ToString();
            batch.Add(new ComparisonRow
            {
                LabelId = r.Id.ToString(),
                ComparisonId = r.ComparisonId.ToString(),
                ExchangeId = r.ExternalId ?? $"{campaignId:N}/{r.ComparisonId:N}/{r.Id:N}",
                Round = r.RoundIndex,
                Rater = r.RaterId is null ? null : names.GetValueOrDefault(r.RaterId, r.RaterId),
                Group = r.Group,
                Label = r.Choice.ToString().ToLowerInvariant(),
                ChosenSegmentId = r.Choice switch { PreferenceChoice.Left => left, PreferenceChoice.Right => right, _ => null },
                RejectedSegmentId = r.Choice switch { PreferenceChoice.Left => right, PreferenceChoice.Right => left, _ => null },
                LeftSegmentId = left,
                RightSegmentId = right,
                ShownAt = r.ShownAt?.UtcDateTime,
                AnsweredAt = r.AnsweredAt?.UtcDateTime,
                ResponseMs = r.ResponseMilliseconds,
                HeldOut = r.IsHeldOut,
                Gold = r.Gold?.ToString().ToLowerInvariant(),
                LeftClipSha256 = r.LeftSha,
                RightClipSha256 = r.RightSha,
                PolicyId = r.PolicyId?.ToString(),
            });
            if (batch.Count == BatchSize)
            {
                any = true;
                yield return batch;
                batch = new List<ComparisonRow>(BatchSize);
            }
        }
        if (batch.Count > 0 || !any) yield return batch;
    }

    /// <summary>Segments that a comparison of the campaign shows, in batches of a thousand (each holds its steps).</summary>
    private static async IAsyncEnumerable<List<SegmentRow>> SegmentBatchesAsync(StudioDbContext db, Guid campaignId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var campaign = await db.Campaigns.AsNoTracking().Where(c => c.Id == campaignId).Select(c => new { c.Environment, c.EnvironmentParameters }).FirstAsync(ct);
        var parameters = System.Text.Json.JsonSerializer.Serialize(campaign.EnvironmentParameters);
        var shown = db.Comparisons.Where(c => c.CampaignId == campaignId).Select(c => c.LeftSegmentId)
            .Union(db.Comparisons.Where(c => c.CampaignId == campaignId).Select(c => c.RightSegmentId));
        var rows = db.Segments.AsNoTracking().Where(s => s.CampaignId == campaignId && shown.Contains(s.Id)).OrderBy(s => s.Id)
            .Select(s => new { s.Id, s.States, s.Actions, s.Features, s.TrueReturn, s.ContentHash, Round = db.Rounds.Where(r => r.Id == s.RoundId).Select(r => (int?)r.Index).FirstOrDefault() })
            .AsAsyncEnumerable();
        var batch = new List<SegmentRow>(SegmentBatch);
        bool any = false;
        await foreach (var s in rows.WithCancellation(ct))
        {
            batch.Add(new SegmentRow
            {
                SegmentId = s.Id.ToString(),
                Environment = campaign.Environment,
                EnvironmentParameters = parameters,
                Round = s.Round,
                Steps = s.Actions.Length,
                States = s.States.Select(x => x.ToList()).ToList(),
                Actions = s.Actions.Select(x => x.ToList()).ToList(),
                Features = s.Features?.Select(x => x.Select(v => (double)v).ToList()).ToList(),
                TrueReturn = s.TrueReturn,
                ContentHash = s.ContentHash,
            });
            if (batch.Count == SegmentBatch)
            {
                any = true;
                yield return batch;
                batch = new List<SegmentRow>(SegmentBatch);
            }
        }
        if (batch.Count > 0 || !any) yield return batch;
    }

    private const int SegmentBatch = 1000;

    /// <summary>The raters with their measures as the quality page computes them, counted by the database (one batch: a campaign's raters are few).</summary>
    private async IAsyncEnumerable<List<RaterRow>> RaterBatchesAsync(Guid campaignId,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var raters = await quality.RaterMeasuresAsync(campaignId, ct) ?? throw StudioProblemException.NotFound($"No campaign {campaignId}.");
        yield return raters.Select(m => new RaterRow
        {
            Rater = m.Pseudonym, Kind = m.Kind, JoinedAt = m.JoinedAt.UtcDateTime, CompletedAt = m.CompletedAt?.UtcDateTime,
            ParticipantPlatform = m.ParticipantPlatform, ParticipantId = m.ParticipantId, ParticipantStudy = m.ParticipantStudy, ParticipantSession = m.ParticipantSession,
            Labels = m.Labels, GoldAnswers = m.GoldAnswers, GoldAccuracy = m.GoldAccuracy, Reliability = m.Reliability,
            Flagged = m.Flagged, ExcludedFromTraining = m.Excluded,
        }).ToList();
    }

    private static async IAsyncEnumerable<List<RankingRow>> RankingBatchesAsync(StudioDbContext db, Guid campaignId, Dictionary<string, string> names,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        var campaign = await db.Campaigns.AsNoTracking().Where(c => c.Id == campaignId).Select(c => new { c.Environment, c.EnvironmentParameters }).FirstAsync(ct);
        var parameters = System.Text.Json.JsonSerializer.Serialize(campaign.EnvironmentParameters);
        var rows = db.FactorRankings.AsNoTracking().Where(r => r.CampaignId == campaignId)
            .OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).AsAsyncEnumerable();
        var batch = new List<RankingRow>();
        await foreach (var r in rows.WithCancellation(ct))
            batch.Add(new RankingRow
            {
                RankingId = r.Id.ToString(),
                Rater = names.GetValueOrDefault(r.RaterId, r.RaterId),
                Environment = campaign.Environment,
                EnvironmentParameters = parameters,
                Factors = [.. r.Factors],
                Margins = [.. r.Margins],
                CreatedAt = r.CreatedAt.UtcDateTime,
                Source = r.Source,
            });
        // Rankings are one per rater version: a campaign's are few enough for one row group.
        yield return batch;
    }
}
