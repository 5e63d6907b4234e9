using System.Text;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Exchange;
using PreferenceStudio.Environments;
using PreferenceStudio.Web.Features.Raters;

namespace PreferenceStudio.Web.Features.Dataset;

/// <summary>
/// Streams a campaign's labelled comparisons as <c>preferencestudio/preference@1</c> JSONL, one line per label, with
/// both segments, the rater, the times, the round, the clip hashes and the policy. Rows are read as a stream, so
/// a large campaign is never held in memory. Then every version of every rater's factor ranking, oldest first, as
/// <c>preferencestudio/factor-ranking@1</c> lines.
/// </summary>
public sealed class DatasetExporter(IDbContextFactory<StudioDbContext> dbFactory)
{
    /// <param name="kind">null for both record kinds; <see cref="ExportKinds.Comparisons"/> or <see cref="ExportKinds.Rankings"/> for one.</param>
    public async Task WriteJsonlAsync(Guid campaignId, Stream output, CancellationToken ct, string? kind = null)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Millions of rows stream through in constant memory (a retrying read would buffer them all).
        db.StreamingReads = true;
        var campaign = await db.Campaigns.AsNoTracking().Where(c => c.Id == campaignId).Select(c => new { c.Environment, c.EnvironmentParameters }).FirstAsync(ct);
        var environment = campaign.Environment;
        // Raters leave the studio by their pseudonym in this campaign, never by the id their identity resolves to.
        var names = await RaterDirectory.PseudonymsAsync(db, campaignId, ct);
        string? Pseudonym(string? raterId) => raterId is null ? null : names.GetValueOrDefault(raterId, raterId);
        var rows = db.Labels.AsNoTracking()
            .Where(l => l.CampaignId == campaignId)
            .OrderBy(l => l.Comparison!.RoundIndex).ThenBy(l => l.Comparison!.Ordinal).ThenBy(l => l.Comparison!.CreatedAt)
            .ThenBy(l => l.CreatedAt).ThenBy(l => l.Id)
            .Select(l => new
            {
                LabelId = l.Id, l.RaterId, l.Choice, l.ShownAt, l.AnsweredAt,
                ComparisonId = l.ComparisonId, l.Comparison!.ExternalId, l.Comparison.Group, l.Comparison.RoundIndex, l.Comparison.PolicyId, l.Comparison.Gold,
                LeftStates = l.Comparison.LeftSegment!.States, LeftActions = l.Comparison.LeftSegment.Actions,
                RightStates = l.Comparison.RightSegment!.States, RightActions = l.Comparison.RightSegment.Actions,
                LeftSha = l.Comparison.LeftClip!.Sha256, RightSha = l.Comparison.RightClip!.Sha256,
            })
            .AsAsyncEnumerable();

        await using var writer = new StreamWriter(output, new UTF8Encoding(false), bufferSize: 64 * 1024, leaveOpen: true);
        if (kind is null or ExportKinds.Comparisons)
        await foreach (var r in rows.WithCancellation(ct))
        {
            var record = new PreferenceRecord(
                // Imported comparisons keep their own id, so export -> import -> export gives the same ids.
                r.ExternalId ?? $"{campaignId:N}/{r.ComparisonId:N}/{r.LabelId:N}",
                environment,
                new Segment(r.LeftStates, r.LeftActions),
                new Segment(r.RightStates, r.RightActions),
                r.Choice)
            {
                EnvironmentParameters = campaign.EnvironmentParameters.Count > 0 ? campaign.EnvironmentParameters : null,
                Rater = Pseudonym(r.RaterId),
                Group = r.Group,
                ShownAt = r.ShownAt,
                AnsweredAt = r.AnsweredAt,
                Round = r.RoundIndex,
                LeftClipSha256 = r.LeftSha,
                RightClipSha256 = r.RightSha,
                PolicyId = r.PolicyId?.ToString(),
                ComparisonId = r.ComparisonId.ToString(),
                Gold = r.Gold,
            };
            await writer.WriteAsync(PreferenceJsonl.Write(record));
            await writer.WriteAsync('\n');
        }
        var rankings = db.FactorRankings.AsNoTracking().Where(r => r.CampaignId == campaignId)
            .OrderBy(r => r.CreatedAt).ThenBy(r => r.Id).AsAsyncEnumerable();
        if (kind is null or ExportKinds.Rankings)
        await foreach (var r in rankings.WithCancellation(ct))
        {
            var record = new FactorRankingRecord($"{campaignId:N}/ranking/{r.Id:N}", environment, Pseudonym(r.RaterId)!, r.Factors, r.Margins, r.CreatedAt)
            {
                EnvironmentParameters = campaign.EnvironmentParameters.Count > 0 ? campaign.EnvironmentParameters : null,
            };
            await writer.WriteAsync(PreferenceJsonl.Write(record));
            await writer.WriteAsync('\n');
        }
        await writer.FlushAsync(ct);
    }
}
