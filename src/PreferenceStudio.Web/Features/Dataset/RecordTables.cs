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
                LabelId = r.Id, ComparisonId = r.ComparisonId ?? r.Id, ExchangeId = r.Id, Round = r.Round, Rater = r.Rater, Group = r.Group,
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
            RankingId = r.Id, Rater = r.Rater, Environment = r.Environment,
            EnvironmentParameters = System.Text.Json.JsonSerializer.Serialize(r.EnvironmentParameters ?? new Dictionary<string, double>()), Factors = [.. r.Factors], Margins = [.. r.Margins], CreatedAt = r.CreatedAt.UtcDateTime, Source = "import",
        }).ToList();
        return (comparisons, [.. segments.Values], rankings);
    }

    /// <summary>
    /// The exchange records back from the tables <see cref="From"/> wrote (or an export wrote): each comparison row
    /// joined with its two segment rows, each ranking row as a ranking. Times come back as UTC instants. A row that
    /// names a segment the segments table lacks, or a label or gold answer the format does not know, is refused
    /// with what is wrong; nothing is returned then.
    /// </summary>
    public static (List<PreferenceRecord> Records, List<FactorRankingRecord> Rankings) ToRecords(
        IReadOnlyList<ComparisonRow> comparisons, IReadOnlyList<SegmentRow> segments, IReadOnlyList<RankingRow> rankings)
    {
        var byId = new Dictionary<string, SegmentRow>(StringComparer.Ordinal);
        foreach (var segment in segments) byId.TryAdd(segment.SegmentId, segment);
        var records = new List<PreferenceRecord>(comparisons.Count);
        for (int i = 0; i < comparisons.Count; i++)
        {
            var c = comparisons[i];
            SegmentRow Find(string id) => byId.GetValueOrDefault(id)
                ?? throw new InvalidDataException($"comparisons row {i + 1} ({c.ExchangeId}): no segment '{id}' in the segments table.");
            var (left, right) = (Find(c.LeftSegmentId), Find(c.RightSegmentId));
            records.Add(new PreferenceRecord(c.ExchangeId, left.Environment, ToSegment(left), ToSegment(right), Choice(c.Label, $"comparisons row {i + 1}: label"))
            {
                EnvironmentParameters = Parameters(left.EnvironmentParameters),
                Rater = c.Rater,
                Group = c.Group,
                ShownAt = Utc(c.ShownAt),
                AnsweredAt = Utc(c.AnsweredAt),
                Round = c.Round,
                LeftClipSha256 = c.LeftClipSha256,
                RightClipSha256 = c.RightClipSha256,
                PolicyId = c.PolicyId,
                // A file without comparison ids got its record ids in their place (see From).
                ComparisonId = c.ComparisonId == c.ExchangeId ? null : c.ComparisonId,
                Gold = c.Gold is null ? null : Choice(c.Gold, $"comparisons row {i + 1}: gold"),
            });
        }
        var rankingRecords = rankings.Select(r => new FactorRankingRecord(r.RankingId, r.Environment, r.Rater, r.Factors, r.Margins,
            Utc(r.CreatedAt)!.Value) { EnvironmentParameters = Parameters(r.EnvironmentParameters) }).ToList();
        return (records, rankingRecords);
    }

    private static Segment ToSegment(SegmentRow row) =>
        new(row.States.Select(x => x.ToArray()).ToArray(), row.Actions.Select(x => x.ToArray()).ToArray());

    private static PreferenceChoice Choice(string text, string where) =>
        Enum.TryParse<PreferenceChoice>(text, ignoreCase: true, out var choice) && Enum.IsDefined(choice)
            ? choice
            : throw new InvalidDataException($"{where} '{text}' is not left, right, equal or incomparable.");

    private static IReadOnlyDictionary<string, double>? Parameters(string json) =>
        System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, double>>(string.IsNullOrWhiteSpace(json) ? "{}" : json) is { Count: > 0 } p ? p : null;

    private static DateTimeOffset? Utc(DateTime? time) =>
        time is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;
}
