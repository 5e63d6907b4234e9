using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Exchange;
using PreferenceStudio.Environments;

namespace PreferenceStudio.Web.Features.Dataset;

/// <summary>
/// The tables of an exchange file that never was in a campaign (<c>studio convert</c>): rows made from its records
/// instead of the database. Segments are identified by their content hash, so a segment two comparisons share is one row.
/// </summary>
public static class RecordTables
{
    public static (List<ComparisonRow> Comparisons, List<SegmentRow> Segments, List<RankingRow> Rankings) From(PreferenceJsonlReadResult file)
    {
        var segments = new Dictionary<string, SegmentRow>(StringComparer.Ordinal);
        string Segment(PreferenceRecord r, PreferenceStudio.Environments.Segment segment)
        {
            var hash = SegmentRecord.ComputeContentHash(segment.States, segment.Actions);
            if (!segments.ContainsKey(hash))
            {
                var env = EnvironmentRegistry.Create(r.Environment, r.EnvironmentParameters);
                segments[hash] = new SegmentRow
                {
                    SegmentId = hash, Environment = r.Environment,
                    EnvironmentParameters = System.Text.Json.JsonSerializer.Serialize(r.EnvironmentParameters ?? new Dictionary<string, double>()),
                    Round = r.Round, Steps = segment.Actions.Length,
                    States = segment.States.Select(x => x.ToList()).ToList(), Actions = segment.Actions.Select(x => x.ToList()).ToList(),
                    Features = Enumerable.Range(0, segment.Actions.Length)
                        .Select(t => env.StepFactors(segment.States[t], segment.Actions[t], segment.States[t + 1]).ToList()).ToList(),
                    TrueReturn = env.TrueReturn(segment), ContentHash = hash,
                };
            }
            return hash;
        }
        var comparisons = file.Records.Select(r =>
        {
            string left = Segment(r, r.Left), right = Segment(r, r.Right);
            return new ComparisonRow
            {
                LabelId = r.Id, ComparisonId = r.ComparisonId ?? r.Id, ExchangeId = r.Id, Round = r.Round, Rater = r.Rater,
                Label = r.Label.ToString().ToLowerInvariant(),
                ChosenSegmentId = r.Label switch { PreferenceChoice.Left => left, PreferenceChoice.Right => right, _ => null },
                RejectedSegmentId = r.Label switch { PreferenceChoice.Left => right, PreferenceChoice.Right => left, _ => null },
                LeftSegmentId = left, RightSegmentId = right,
                ShownAt = r.ShownAt?.UtcDateTime, AnsweredAt = r.AnsweredAt?.UtcDateTime,
                ResponseMs = r.ShownAt is { } shown && r.AnsweredAt is { } answered ? (int)Math.Max(0, (answered - shown).TotalMilliseconds) : null,
                Gold = r.Gold?.ToString().ToLowerInvariant(),
                LeftClipSha256 = r.LeftClipSha256, RightClipSha256 = r.RightClipSha256, PolicyId = r.PolicyId,
            };
        }).ToList();
        var rankings = file.Rankings.Select(r => new RankingRow
        {
            RankingId = r.Id, Rater = r.Rater, Factors = [.. r.Factors], Margins = [.. r.Margins], CreatedAt = r.CreatedAt.UtcDateTime, Source = "import",
        }).ToList();
        return (comparisons, [.. segments.Values], rankings);
    }
}
