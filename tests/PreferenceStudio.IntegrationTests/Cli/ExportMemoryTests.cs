using System.Text.Json;
using Npgsql;
using PreferenceStudio.IntegrationTests.Infrastructure;
using PreferenceStudio.IntegrationTests.Web;

namespace PreferenceStudio.IntegrationTests.Cli;

/// <summary>
/// Exports stream: `studio export` of a campaign with 100,000 labels runs with its managed heap capped far below what
/// holding the labels would take. A heap limit makes the runtime throw OutOfMemoryException instead of growing, so an
/// export that buffered its rows (as one did when a retrying execution strategy made EF Core buffer every query) exits
/// with an error here.
/// </summary>
public sealed class ExportMemoryTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const int Labels = 100_000;

    /// <summary>
    /// 56 MiB of managed heap. Measured with this test's campaign (STUDIO_TEST_EXPORT_HEAP_LIMIT sets another limit):
    /// the streaming exports pass at 48 MiB and fail at 40 MiB (a Parquet row group holds 20,000 rows); with buffered
    /// reads (StreamingReads off) they fail at 56 and 64 MiB, and at 72 MiB the JSONL export still fails.
    /// </summary>
    private const string HeapLimit = "0x3800000";

    [Fact]
    public async Task A_100000_label_campaign_exports_as_parquet_csv_and_jsonl_within_a_small_heap()
    {
        var cs = await postgres.CreateDatabaseAsync("exportmem");
        Guid campaign;
        await using (var app = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("exportmem"), runWorker: false))
        {
            var http = app.CreateClient();
            campaign = await StudioTestApi.CreateCampaignAsync(http, "export-memory", pairs: 10, labels: 10, rounds: 1, start: false);
            var import = await http.PostAsync($"/api/v1/campaigns/{campaign}/preferences/import",
                new StringContent(string.Join("\n", DatasetApiTests.SampleLines(10, seed: 41)) + "\n", System.Text.Encoding.UTF8, "application/x-ndjson"));
            Assert.Equal(System.Net.HttpStatusCode.OK, import.StatusCode);
        }
        // Many more answers to the imported comparisons, made in the database (an HTTP client would take minutes). The
        // label-count triggers are off for it: 100,000 updates of ten comparison rows in one transaction take minutes,
        // and the export does not read the counts.
        await using (var connection = new NpgsqlConnection(cs))
        {
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var replica = new NpgsqlCommand("SET LOCAL session_replication_role = replica", connection, transaction))
                await replica.ExecuteNonQueryAsync();
            await using var insert = new NpgsqlCommand("""
                WITH source AS (SELECT *, row_number() OVER (ORDER BY id) - 1 AS k FROM labels WHERE campaign_id = @campaign)
                INSERT INTO labels (id, comparison_id, campaign_id, rater_id, choice, shown_at, answered_at, response_milliseconds, idempotency_key, source, created_at)
                SELECT gen_random_uuid(), s.comparison_id, s.campaign_id, NULL, s.choice, s.shown_at, s.answered_at, 1000 + g % 500,
                       'memory-' || g, s.source, s.created_at + g * interval '1 millisecond'
                FROM generate_series(1, @extra) AS g JOIN source AS s ON s.k = g % 10
                """, connection, transaction);
            insert.Parameters.AddWithValue("extra", Labels - 10);
            insert.Parameters.AddWithValue("campaign", campaign);
            insert.CommandTimeout = 300;
            Assert.Equal(Labels - 10, await insert.ExecuteNonQueryAsync());
            await transaction.CommitAsync();
        }

        var outDir = StudioAppFactory.NewDataRoot("exportmem-out");
        foreach (var format in new[] { "parquet", "csv", "jsonl" })
        {
            var (exit, stdout, stderr) = await StudioWithHeapLimitAsync("export", "--campaign", campaign.ToString(), "--format", format, "--kind", "comparisons",
                "--out", outDir, "--connection", cs);
            Assert.True(exit == 0, $"{format}: exit {exit}: {stderr}");
            var file = JsonDocument.Parse(stdout[^1]).RootElement.GetProperty("files")[0];
            var path = file.GetProperty("path").GetString()!;
            long rows = format == "jsonl" ? File.ReadLines(path).LongCount() : StudioProcess.DuckCount(path);
            Assert.Equal(Labels, rows);
            File.Delete(path);
        }
    }

    private static Task<(int Exit, string[] Stdout, string Stderr)> StudioWithHeapLimitAsync(params string[] args) =>
        StudioProcess.RunAsync(args, environment: new Dictionary<string, string>
        {
            ["DOTNET_GCHeapHardLimit"] = Environment.GetEnvironmentVariable("STUDIO_TEST_EXPORT_HEAP_LIMIT") ?? HeapLimit,
        }, limit: TimeSpan.FromMinutes(5));
}
