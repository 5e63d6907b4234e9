using System.Globalization;
using System.IO.Compression;
using System.Text;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Media.Stores;
using PreferenceStudio.Web.Features.Rounds;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Dataset;

/// <summary>
/// A whole campaign as one zip: the four Parquet tables, the lossless JSONL, a README.md dataset card (Hugging Face
/// style: YAML front matter with the licence and one config per table, so <c>load_dataset</c> finds them) and, when
/// asked, the clips. Written to a file like the tables, so the database is released before the download.
/// </summary>
public sealed class DatasetBundle(IDbContextFactory<StudioDbContext> dbFactory, DatasetTables tables, DatasetExporter exporter, IMediaStore media,
    Microsoft.Extensions.Options.IOptions<StudioOptions> options)
{
    public const string DefaultLicence = "other";

    public async Task WriteAsync(Guid campaignId, string path, string licence, bool clips, CancellationToken ct)
    {
        // It goes into the card's YAML front matter as is.
        if (!System.Text.RegularExpressions.Regex.IsMatch(licence, "^[a-z0-9][a-z0-9.+-]{0,63}$"))
            throw StudioProblemException.Invalid($"license must be a licence identifier such as cc-by-4.0, mit or other; got '{licence}'.");
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            if (!await db.Campaigns.AnyAsync(c => c.Id == campaignId, ct)) throw StudioProblemException.NotFound($"No campaign {campaignId}.");
        var counts = new Dictionary<string, int>();
        await using var zipFile = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        using (var zip = new ZipArchive(zipFile, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var kind in ExportKinds.All)
            {
                var table = Path.Combine(Path.GetTempPath(), $"studio-bundle-{Guid.NewGuid():N}.parquet");
                try
                {
                    counts[kind] = await tables.WriteAsync(campaignId, kind, "parquet", table, ct);
                    // Parquet is compressed already; storing it again compressed costs time for nothing.
                    await zip.CreateEntryFromFileAsync(table, $"{kind}.parquet", CompressionLevel.NoCompression, ct);
                }
                finally
                {
                    File.Delete(table);
                }
            }
            await using (var jsonl = await zip.CreateEntry("preferences.jsonl", CompressionLevel.Optimal).OpenAsync(ct))
                await exporter.WriteJsonlAsync(campaignId, jsonl, ct);
            if (clips) counts["clips"] = await AddClipsAsync(zip, campaignId, ct);
            await using var card = new StreamWriter(await zip.CreateEntry("README.md", CompressionLevel.Optimal).OpenAsync(ct), new UTF8Encoding(false));
            await card.WriteAsync(await CardAsync(campaignId, licence, counts, clips, ct));
        }
    }

    private async Task<int> AddClipsAsync(ZipArchive zip, Guid campaignId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var files = await db.Clips.AsNoTracking().Where(c => c.Segment!.CampaignId == campaignId && c.Status == ClipStatus.Rendered && c.FileName != null)
            .Select(c => c.FileName!).Distinct().ToListAsync(ct);
        int added = 0;
        foreach (var name in files.Order(StringComparer.Ordinal))
        {
            if (await media.LocalCopyAsync(Path.Combine(options.Value.MediaPath, name), ct) is not { } local) continue;
            await zip.CreateEntryFromFileAsync(local, $"clips/{name}", CompressionLevel.NoCompression, ct);
            added++;
        }
        return added;
    }

    private async Task<string> CardAsync(Guid campaignId, string licence, Dictionary<string, int> counts, bool clips, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var c = await db.Campaigns.AsNoTracking().FirstAsync(x => x.Id == campaignId, ct);
        var env = CampaignEnvironment.Create(c);
        var times = await db.Labels.Where(l => l.CampaignId == campaignId)
            .GroupBy(_ => 1).Select(g => new { First = g.Min(l => l.AnsweredAt), Last = g.Max(l => l.AnsweredAt) }).FirstOrDefaultAsync(ct);
        var kinds = await db.CampaignRaters.Where(r => r.CampaignId == campaignId && r.ErasedAt == null)
            .GroupBy(r => r.Kind).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(ct);
        var rounds = await db.Rounds.CountAsync(r => r.CampaignId == campaignId, ct);
        string When(DateTimeOffset? t) => t?.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture) ?? "none yet";

        var s = new StringBuilder();
        s.AppendLine("---");
        s.AppendLine($"license: {licence}");
        s.AppendLine($"pretty_name: \"{c.Name.Replace("\"", "'")}\"");
        s.AppendLine("tags: [rlhf, preference-learning, human-feedback, reward-modeling]");
        s.AppendLine("configs:");
        foreach (var kind in ExportKinds.All)
            s.AppendLine($"  - config_name: {kind}\n    data_files: {kind}.parquet");
        s.AppendLine("---");
        s.AppendLine();
        s.AppendLine($"# {c.Name}");
        s.AppendLine();
        s.AppendLine($"Preference labels collected with PreferenceStudio: raters compared pairs of short clips of an agent in `{c.Environment}` " +
            "and said which they preferred. Exported " + DateTimeOffset.UtcNow.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) + ".");
        s.AppendLine();
        s.AppendLine("## Contents");
        s.AppendLine();
        s.AppendLine("| file | rows |");
        s.AppendLine("|---|---|");
        foreach (var kind in ExportKinds.All) s.AppendLine($"| `{kind}.parquet` | {counts[kind]} |");
        s.AppendLine($"| `preferences.jsonl` | every comparison and ranking in the lossless exchange format (`/api/v1/schemas/preference@1.json`) |");
        if (clips) s.AppendLine($"| `clips/` | {counts["clips"]} MP4 clips, named by their SHA-256 (`left_clip_sha256`, `right_clip_sha256`) |");
        s.AppendLine();
        s.AppendLine("## Environment and reward factors");
        s.AppendLine();
        s.AppendLine($"Environment `{c.Environment}`" + (c.EnvironmentParameters.Count > 0
            ? " with parameters " + string.Join(", ", c.EnvironmentParameters.Select(p => $"`{p.Key}` = {p.Value.ToString(CultureInfo.InvariantCulture)}"))
            : " with its default parameters") + ". The factors its true reward is made of (`segments.features` holds them per step, in this order):");
        s.AppendLine();
        foreach (var f in env.Factors)
            s.AppendLine($"- `{f.Name}` ({(f.Direction == PreferenceStudio.Environments.FactorDirection.HigherIsBetter ? "higher" : "lower")} is better): {f.Description}");
        s.AppendLine();
        s.AppendLine("## How it was collected");
        s.AppendLine();
        s.AppendLine($"- {rounds} round(s) of {c.PairsPerRound} pairs of {c.SegmentLength}-step segments, {c.LabelsPerRound} labels a round" +
            (c.LabelsPerPair is { } k ? $", at most {k} per pair" : "") + $"; pairs chosen by `{c.QueryStrategy}`; segments rolled out by the policy trained on the previous round's reward model (`{c.RewardModel}`), the first round by a uniform policy.");
        s.AppendLine($"- Raters: {(kinds.Count == 0 ? "none yet" : string.Join(", ", kinds.Select(k => $"{k.Count} {k.Key}")))}; " +
            (c.InviteOnly ? "by personal invitation" : "by a join link") + (c.Consent.Length > 0 ? ", after accepting a consent text" : "") +
            (c.Instructions.Length > 0 ? ", with written instructions" : "") + ".");
        s.AppendLine($"- Gold pairs: {(c.GoldRate > 0 || c.GoldFromTrueReward ? "yes (see `comparisons.gold`, `raters.gold_accuracy`)" : "none")}; labels answered from {When(times?.First)} to {When(times?.Last)}.");
        s.AppendLine($"- Every clip was rendered from the segment in `segments.parquet`; `held_out` marks the pairs kept out of training to measure the models.");
        s.AppendLine();
        s.AppendLine("## Columns");
        s.AppendLine();
        s.AppendLine("- `comparisons`: `label_id`, `comparison_id`, `exchange_id` (the JSONL id), `round`, `rater` (pseudonym), `group` (study condition, imports only), `label` (left, right, equal, incomparable), " +
            "`chosen_segment_id` / `rejected_segment_id` (null for equal and incomparable), `left_segment_id`, `right_segment_id`, `shown_at`, `answered_at` (UTC), " +
            "`response_ms`, `held_out`, `gold`, `left_clip_sha256`, `right_clip_sha256`, `policy_id`.");
        s.AppendLine("- `segments`: `segment_id`, `environment`, `environment_parameters` (JSON), `round`, `steps`, `states` and `actions` (lists of lists), " +
            "`features` (per-step reward factors), `true_return`, `content_hash`.");
        s.AppendLine("- `rankings`: `ranking_id`, `rater`, `environment`, `environment_parameters` (JSON), `factors` (most important first), `margins`, `created_at`, `source`.");
        s.AppendLine("- `raters`: `rater`, `kind`, `joined_at`, `completed_at`, `participant_*` (recruitment platform fields), `labels`, `gold_answers`, " +
            "`gold_accuracy`, `reliability`, `flagged`, `excluded_from_training`.");
        s.AppendLine();
        s.AppendLine("## Loading");
        s.AppendLine();
        s.AppendLine("```python");
        s.AppendLine("from datasets import load_dataset");
        s.AppendLine("comparisons = load_dataset(\"path/to/this/folder\", \"comparisons\")[\"train\"]");
        s.AppendLine("```");
        s.AppendLine();
        s.AppendLine("A chosen/rejected view joins `comparisons` with `segments` on `chosen_segment_id` and `rejected_segment_id`.");
        s.AppendLine();
        s.AppendLine($"Licence: `{licence}`" + (licence == DefaultLicence ? " (not stated by the researchers: ask them before publishing)." : "."));
        return s.ToString();
    }
}
