using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DuckDB.NET.Data;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Exchange;
using PreferenceStudio.Environments;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// The campaign's labels and rankings as CSV and Parquet tables, read back by a reader that is not the writer
/// (DuckDB, through DuckDB.NET.Data.Full, which bundles its engine) and checked against the database.
/// </summary>
public sealed class DatasetTablesTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static async Task<string> DownloadAsync(HttpClient http, string url, string extension)
    {
        var response = await http.GetAsync(url);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var path = Path.Combine(StudioAppFactory.NewDataRoot("tables"), "table" + extension);
        await File.WriteAllBytesAsync(path, await response.Content.ReadAsByteArrayAsync());
        return path;
    }

    private static List<Dictionary<string, object?>> Query(string sql, out Dictionary<string, string> types)
    {
        using var duck = new DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        types = Enumerable.Range(0, reader.FieldCount).ToDictionary(reader.GetName, reader.GetDataTypeName);
        var rows = new List<Dictionary<string, object?>>();
        while (reader.Read())
            rows.Add(Enumerable.Range(0, reader.FieldCount).ToDictionary(reader.GetName, i => reader.IsDBNull(i) ? null : reader.GetValue(i)));
        return rows;
    }

    [Fact]
    public async Task Comparisons_as_parquet_and_csv_read_by_duckdb_equal_the_database()
    {
        var cs = await postgres.CreateDatabaseAsync("tables");
        await using var app = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("tables"));
        var http = app.CreateClient();
        var campaign = await StudioTestApi.AnsweredCampaignAsync(http, cs, "tables", pairs: 6, "sim-tables", answers: 6, seed: 19);

        List<Label> labels;
        Dictionary<Guid, Comparison> comparisons;
        await using (var db = StudioDbContext.Create(cs))
        {
            labels = await db.Labels.AsNoTracking().Where(l => l.CampaignId == campaign).ToListAsync();
            comparisons = await db.Comparisons.AsNoTracking().Include(c => c.LeftClip).Include(c => c.RightClip)
                .Where(c => c.CampaignId == campaign).ToDictionaryAsync(c => c.Id);
        }
        Assert.Equal(6, labels.Count);

        var parquet = await DownloadAsync(http, $"/api/v1/campaigns/{campaign}/export?format=parquet&kind=comparisons", ".parquet");
        var csv = await DownloadAsync(http, $"/api/v1/campaigns/{campaign}/export?format=csv", ".csv");
        var fromParquet = Query($"SELECT * FROM read_parquet('{parquet}')", out var parquetTypes);
        var fromCsv = Query($"SELECT * FROM read_csv('{csv}', header = true, timestampformat = '%Y-%m-%dT%H:%M:%S.%gZ')", out var csvTypes);
        // Proper column types: timestamps as timestamps, numbers and flags typed.
        Assert.StartsWith("Timestamp", parquetTypes["shown_at"], StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("Int", parquetTypes["round"], StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("Bool", parquetTypes["held_out"], StringComparison.OrdinalIgnoreCase);
        Assert.Equal(ComparisonRowColumns, parquetTypes.Keys.ToArray());
        Assert.Equal(ComparisonRowColumns, csvTypes.Keys.ToArray());

        foreach (var rows in new[] { fromParquet, fromCsv })
        {
            Assert.Equal(labels.Count, rows.Count);
            foreach (var label in labels)
            {
                var row = rows.Single(r => r["label_id"]!.ToString() == label.Id.ToString());
                var c = comparisons[label.ComparisonId];
                Assert.Equal(label.ComparisonId.ToString(), row["comparison_id"]!.ToString());
                Assert.Equal("sim-tables", row["rater"]);
                Assert.Equal(label.Choice.ToString().ToLowerInvariant(), row["label"]);
                string? chosen = label.Choice switch { PreferenceChoice.Left => c.LeftSegmentId.ToString(), PreferenceChoice.Right => c.RightSegmentId.ToString(), _ => null };
                Assert.Equal(chosen, row["chosen_segment_id"]?.ToString());
                Assert.Equal(c.RoundIndex, Convert.ToInt32(row["round"]));
                Assert.Equal(c.IsHeldOut, Convert.ToBoolean(row["held_out"]));
                Assert.Equal(c.LeftClip!.Sha256, row["left_clip_sha256"]);
                Assert.Equal(label.ResponseMilliseconds, Convert.ToInt32(row["response_ms"]));
                // To the millisecond, in UTC.
                var shown = (DateTime)row["shown_at"]!;
                Assert.Equal(label.ShownAt!.Value.UtcDateTime, shown, TimeSpan.FromMilliseconds(1));
            }
        }
    }

    [Fact]
    public async Task Segments_keep_their_steps_as_nested_lists_and_join_into_a_chosen_rejected_view()
    {
        var cs = await postgres.CreateDatabaseAsync("tablesseg");
        await using var app = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("tablesseg"));
        var http = app.CreateClient();
        var campaign = await StudioTestApi.AnsweredCampaignAsync(http, cs, "tables-segments", pairs: 6, "sim-seg", answers: 6, seed: 20);
        List<SegmentRecord> segments;
        int decisive;
        await using (var db = StudioDbContext.Create(cs))
        {
            var pairs = await db.Comparisons.Where(c => c.CampaignId == campaign).Select(c => new { c.LeftSegmentId, c.RightSegmentId }).ToListAsync();
            var shown = pairs.SelectMany(c => new[] { c.LeftSegmentId, c.RightSegmentId }).Distinct().ToList();
            segments = await db.Segments.AsNoTracking().Where(x => shown.Contains(x.Id)).ToListAsync();
            decisive = await db.Labels.CountAsync(l => l.CampaignId == campaign && (l.Choice == PreferenceChoice.Left || l.Choice == PreferenceChoice.Right));
        }

        var comparisons = await DownloadAsync(http, $"/api/v1/campaigns/{campaign}/export?format=parquet&kind=comparisons", ".parquet");
        var parquet = await DownloadAsync(http, $"/api/v1/campaigns/{campaign}/export?format=parquet&kind=segments", ".parquet");
        var csv = await DownloadAsync(http, $"/api/v1/campaigns/{campaign}/export?format=csv&kind=segments", ".csv");
        var rows = Query($"SELECT segment_id, states, actions, features, true_return, environment FROM read_parquet('{parquet}')", out var types);
        Assert.Equal("List", types["states"]);
        Assert.Equal(segments.Count, rows.Count);
        foreach (var segment in segments)
        {
            var row = rows.Single(r => (string)r["segment_id"]! == segment.Id.ToString());
            Assert.Equal(segment.States.Select(x => x.ToList()), Nested(row["states"]));
            Assert.Equal(segment.Actions.Select(x => x.ToList()), Nested(row["actions"]));
            Assert.Equal(segment.Features!.Select(x => x.Select(v => (double)v).ToList()), Nested(row["features"]));
            Assert.Equal(segment.TrueReturn, (double?)row["true_return"]);
            Assert.Equal("delivery-gridworld", row["environment"]);
        }
        // The CSV holds the same steps as JSON arrays.
        var fromCsv = Query($"SELECT segment_id, states FROM read_csv('{csv}', header = true)", out _);
        var first = segments[0];
        Assert.Equal(JsonSerializer.Serialize(first.States), (string)fromCsv.Single(r => (string)r["segment_id"]! == first.Id.ToString())["states"]!);

        // The chosen/rejected view preference-learning code wants, by a join of the two tables.
        var view = Query($"""
            SELECT c.label_id, chosen.states AS chosen_states, rejected.states AS rejected_states
            FROM read_parquet('{comparisons}') c
            JOIN read_parquet('{parquet}') chosen ON chosen.segment_id = c.chosen_segment_id
            JOIN read_parquet('{parquet}') rejected ON rejected.segment_id = c.rejected_segment_id
            """, out _);
        Assert.Equal(decisive, view.Count);
    }

    private static List<List<double>> Nested(object? list) =>
        ((System.Collections.IEnumerable)list!).Cast<object>().Select(inner => ((System.Collections.IEnumerable)inner).Cast<object>().Select(Convert.ToDouble).ToList()).ToList();

    [Fact]
    public async Task Raters_are_listed_by_pseudonym_with_their_label_counts_and_measures()
    {
        var cs = await postgres.CreateDatabaseAsync("tablesraters");
        await using var app = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("tablesraters"));
        var http = app.CreateClient();
        var campaign = await StudioTestApi.AnsweredCampaignAsync(http, cs, "tables-raters", pairs: 6, "sim-one", answers: 4, seed: 22);
        Assert.Equal(2, await StudioTestApi.AnswerAsOracleAsync(cs, http, campaign, "sim-two", 2));
        var parquet = await DownloadAsync(http, $"/api/v1/campaigns/{campaign}/export?format=parquet&kind=raters", ".parquet");
        var csv = await DownloadAsync(http, $"/api/v1/campaigns/{campaign}/export?format=csv&kind=raters", ".csv");
        foreach (var source in new[] { $"read_parquet('{parquet}')", $"read_csv('{csv}', header = true)" })
        {
            var rows = Query($"SELECT rater, kind, labels, gold_accuracy, excluded_from_training FROM {source} ORDER BY rater", out _);
            Assert.Equal(["sim-one", "sim-two"], rows.Select(r => (string)r["rater"]!));
            Assert.Equal([4, 2], rows.Select(r => Convert.ToInt32(r["labels"])));
            Assert.All(rows, r => Assert.Equal("simulated", r["kind"]));
            // No gold pairs in this campaign: no gold accuracy, nobody left out.
            Assert.All(rows, r => Assert.Null(r["gold_accuracy"]));
            Assert.All(rows, r => Assert.False(Convert.ToBoolean(r["excluded_from_training"])));
        }
        // Raters leave by pseudonym only: the internal ids do not appear.
        string[] ids;
        await using (var db = StudioDbContext.Create(cs))
            ids = await db.CampaignRaters.Where(r => r.CampaignId == campaign).Select(r => r.RaterId).ToArrayAsync();
        var text = await File.ReadAllTextAsync(csv);
        Assert.All(ids, id => Assert.DoesNotContain(id, text));
    }

    [Fact]
    public async Task A_bundle_holds_the_four_tables_the_jsonl_the_clips_and_a_dataset_card()
    {
        var cs = await postgres.CreateDatabaseAsync("bundle");
        await using var app = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("bundle"));
        var http = app.CreateClient();
        var campaign = await StudioTestApi.AnsweredCampaignAsync(http, cs, "bundle", pairs: 4, "sim-bundle", answers: 4, seed: 23);
        int clips;
        await using (var db = StudioDbContext.Create(cs))
            clips = await db.Clips.Where(c => c.Segment!.CampaignId == campaign && c.Status == ClipStatus.Rendered).Select(c => c.FileName).Distinct().CountAsync();

        var zipPath = await DownloadAsync(http, $"/api/v1/campaigns/{campaign}/export?format=bundle&license=cc-by-4.0&clips=true", ".zip");
        var folder = Path.Combine(Path.GetDirectoryName(zipPath)!, "unzipped");
        System.IO.Compression.ZipFile.ExtractToDirectory(zipPath, folder);
        foreach (var table in new[] { "comparisons", "segments", "rankings", "raters" })
            Assert.True(File.Exists(Path.Combine(folder, table + ".parquet")), table);
        Assert.Equal(4, Convert.ToInt32(Query($"SELECT count(*) AS n FROM read_parquet('{Path.Combine(folder, "comparisons.parquet")}')", out _)[0]["n"]));
        Assert.Equal(8, Convert.ToInt32(Query($"SELECT count(*) AS n FROM read_parquet('{Path.Combine(folder, "segments.parquet")}')", out _)[0]["n"]));
        Assert.Equal(4, File.ReadAllLines(Path.Combine(folder, "preferences.jsonl")).Length);
        Assert.Equal(clips, Directory.GetFiles(Path.Combine(folder, "clips"), "*.mp4").Length);
        var card = await File.ReadAllTextAsync(Path.Combine(folder, "README.md"));
        Assert.StartsWith("---\nlicense: cc-by-4.0\n", card.Replace("\r\n", "\n"));
        Assert.Contains("config_name: comparisons", card);
        Assert.Contains("data_files: segments.parquet", card);
        Assert.Contains("`goal` (higher is better)", card);
        Assert.Contains("| `comparisons.parquet` | 4 |", card);
        Assert.Contains("1 simulated", card);

        var bad = await http.GetAsync($"/api/v1/campaigns/{campaign}/export?format=bundle&license=Not%20A%20Licence");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("cc-by-4.0", (await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync($"/api/v1/campaigns/{campaign}/export?format=jsonl&kind=segments")).StatusCode);
    }

    private static readonly string[] ComparisonRowColumns =
    [
        "label_id", "comparison_id", "exchange_id", "round", "rater", "group", "label", "chosen_segment_id", "rejected_segment_id",
        "left_segment_id", "right_segment_id", "shown_at", "answered_at", "response_ms", "held_out", "gold",
        "left_clip_sha256", "right_clip_sha256", "policy_id",
    ];

    [Fact]
    public async Task Rankings_keep_their_lists_and_bad_formats_or_kinds_are_problems_naming_the_accepted_values()
    {
        var cs = await postgres.CreateDatabaseAsync("tablesrank");
        await using var app = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("tablesrank"), runWorker: false);
        var http = app.CreateClient();
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "tables-rankings", pairs: 10, labels: 10, rounds: 1, start: false);
        var at = new DateTimeOffset(2026, 11, 3, 8, 0, 0, TimeSpan.Zero);
        var lines = new[]
        {
            PreferenceJsonl.Write(new FactorRankingRecord("rank/1", "delivery-gridworld", "r-ann", ["goal", "sheep", "coin", "gas", "mud", "roadblock"], [1, 0.5, 0, 0, 2, 1], at)),
            PreferenceJsonl.Write(new FactorRankingRecord("rank/2", "delivery-gridworld", "r-ben", ["sheep", "goal", "coin", "gas", "mud", "roadblock"], [0, 0, 0, 0, 0, 0], at.AddMinutes(1))),
        };
        var import = await http.PostAsync($"/api/v1/campaigns/{campaign}/preferences/import", new StringContent(string.Join("\n", lines) + "\n", Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.OK, import.StatusCode);

        var parquet = await DownloadAsync(http, $"/api/v1/campaigns/{campaign}/export?format=parquet&kind=rankings", ".parquet");
        var rows = Query($"SELECT rater, factors, margins, created_at FROM read_parquet('{parquet}') ORDER BY created_at", out var types);
        Assert.Equal("List", types["factors"]);
        Assert.Equal("List", types["margins"]);
        Assert.Equal(["r-ann", "r-ben"], rows.Select(r => (string)r["rater"]!));
        Assert.Equal(["sheep", "goal", "coin", "gas", "mud", "roadblock"], ((System.Collections.IEnumerable)rows[1]["factors"]!).Cast<object>().Select(o => o.ToString()));
        Assert.Equal([1, 0.5, 0, 0, 2, 1], ((System.Collections.IEnumerable)rows[0]["margins"]!).Cast<object>().Select(Convert.ToDouble));
        Assert.Equal(at.UtcDateTime, (DateTime)rows[0]["created_at"]!);
        // JSONL of one kind holds only that kind's lines.
        var jsonl = (await http.GetStringAsync($"/api/v1/campaigns/{campaign}/export?format=jsonl&kind=rankings")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, jsonl.Length);
        Assert.Empty((await http.GetStringAsync($"/api/v1/campaigns/{campaign}/export?format=jsonl&kind=comparisons")).Trim());

        foreach (var (query, names) in new[] { ("format=xlsx", new[] { "jsonl", "csv", "parquet" }), ("format=csv&kind=everything", new[] { "comparisons", "rankings" }) })
        {
            var response = await http.GetAsync($"/api/v1/campaigns/{campaign}/export?{query}");
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
            Assert.All(names, n => Assert.Contains(n, detail));
        }
    }
}
