using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Exchange;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>Factor rankings travel with the dataset: exported as their own record kind, imported once, bad ones refused whole.</summary>
public sealed class RankingExchangeTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private StudioAppFactory _app = null!;
    private HttpClient _http = null!;
    private static readonly DateTimeOffset T0 = new(2026, 11, 2, 9, 30, 0, TimeSpan.Zero);

    public async Task InitializeAsync()
    {
        _app = new StudioAppFactory(await postgres.CreateDatabaseAsync("rankings"), StudioAppFactory.NewDataRoot("rankings"), runWorker: false);
        _http = _app.CreateClient();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static string Ranking(string id, string rater, string[] factors, double[] margins, DateTimeOffset at) =>
        PreferenceJsonl.Write(new FactorRankingRecord(id, "delivery-gridworld", rater, factors, margins, at));

    private static readonly string[] Order1 = ["goal", "sheep", "coin", "gas", "mud", "roadblock"];
    private static readonly string[] Order2 = ["sheep", "goal", "gas", "coin", "roadblock", "mud"];

    private Task<HttpResponseMessage> ImportAsync(Guid campaign, IEnumerable<string> lines) =>
        _http.PostAsync($"/api/v1/campaigns/{campaign}/preferences/import",
            new StringContent(string.Join("\n", lines) + "\n", Encoding.UTF8, "application/x-ndjson"));

    private async Task<int> RankingCountAsync(Guid campaign)
    {
        await using var db = _app.CreateDb();
        return await db.FactorRankings.CountAsync(r => r.CampaignId == campaign);
    }

    [Fact]
    public async Task Rankings_round_trip_through_export_and_import_and_are_stored_once()
    {
        var a = await StudioTestApi.CreateCampaignAsync(_http, "rankings-source", pairs: 10, labels: 10, rounds: 1, start: false);
        var lines = DatasetApiTests.SampleLines(6, seed: 5)
            .Append(Ranking("k/1", "r-anna", Order1, [1, 1, 0.5, 0, 2, 1], T0))
            .Append(Ranking("k/2", "r-anna", Order2, [1, 1, 1, 1, 1, 1], T0.AddMinutes(5)))
            .Append(Ranking("k/3", "r-ben", Order1, [0, 0, 0, 0, 0, 0], T0.AddMinutes(1)))
            .ToList();
        var first = await (await ImportAsync(a, lines)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(6, first.GetProperty("imported").GetInt32());
        Assert.Equal(3, first.GetProperty("rankings_imported").GetInt32());

        // Sending the same file again stores no ranking twice.
        var again = await (await ImportAsync(a, lines)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, again.GetProperty("rankings_imported").GetInt32());
        Assert.Equal(3, again.GetProperty("rankings_already_present").GetInt32());
        Assert.Equal(3, await RankingCountAsync(a));

        var exported = (await _http.GetStringAsync($"/api/v1/campaigns/{a}/export?format=jsonl"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
        var rankingLines = exported.Where(l => l.Contains(FactorRankingRecord.SchemaName, StringComparison.Ordinal)).ToList();
        Assert.Equal(3, rankingLines.Count);
        Assert.Equal(6, exported.Count - rankingLines.Count);
        var read = PreferenceJsonl.ReadAll(new StringReader(string.Join("\n", exported)));
        Assert.True(read.IsValid, string.Join("; ", read.Errors));
        // Oldest first: anna's first version, ben's, anna's revision, each with its own order and margins.
        Assert.Equal(["r-anna", "r-ben", "r-anna"], read.Rankings.Select(r => r.Rater));
        Assert.Equal(Order2, read.Rankings[2].Factors);
        Assert.Equal([1, 1, 0.5, 0, 2, 1], read.Rankings[0].Margins);
        Assert.Equal(T0.AddMinutes(5), read.Rankings[2].CreatedAt);

        var b = await StudioTestApi.CreateCampaignAsync(_http, "rankings-copy", pairs: 10, labels: 10, rounds: 1, start: false);
        var copied = await (await ImportAsync(b, exported)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(3, copied.GetProperty("rankings_imported").GetInt32());
        await using var db = _app.CreateDb();
        var annaId = await StudioTestApi.RaterIdAsync(db, b, "r-anna");
        var anna = await db.FactorRankings.Where(r => r.CampaignId == b && r.RaterId == annaId).OrderByDescending(r => r.CreatedAt).FirstAsync();
        Assert.Equal(Order2, anna.Factors);
        Assert.Equal("import", anna.Source);
    }

    [Theory]
    [InlineData("a factor left out", "[\"goal\",\"sheep\",\"coin\",\"gas\",\"mud\"]", "[1,1,1,1,1]", "'roadblock' is missing")]
    [InlineData("a factor named twice", "[\"goal\",\"goal\",\"sheep\",\"coin\",\"gas\",\"mud\"]", "[1,1,1,1,1,1]", "'goal' appears 2 times")]
    [InlineData("a negative margin", "[\"goal\",\"sheep\",\"coin\",\"gas\",\"mud\",\"roadblock\"]", "[1,1,-0.5,1,1,1]", "margins[2]")]
    [InlineData("an unknown factor", "[\"goal\",\"sheep\",\"coin\",\"gas\",\"mud\",\"speed\"]", "[1,1,1,1,1,1]", "'speed' is not a factor")]
    public async Task A_bad_ranking_line_refuses_the_whole_file(string why, string factors, string margins, string expected)
    {
        var c = await StudioTestApi.CreateCampaignAsync(_http, $"bad-ranking-{why}", pairs: 10, labels: 10, rounds: 1, start: false);
        var bad = $"{{\"schema\":\"{FactorRankingRecord.SchemaName}\",\"id\":\"bad\",\"environment\":\"delivery-gridworld\",\"rater\":\"r-x\"," +
                  $"\"factors\":{factors},\"margins\":{margins},\"created_at\":\"2026-11-02T09:30:00Z\"}}";
        var lines = DatasetApiTests.SampleLines(3, seed: 9).Append(Ranking("good", "r-y", Order1, [1, 1, 1, 1, 1, 1], T0)).Append(bad).ToList();

        var response = await ImportAsync(c, lines);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var errors = problem.GetProperty("errors").EnumerateArray().ToList();
        Assert.NotEmpty(errors);
        Assert.All(errors, e => Assert.Equal(5, e.GetProperty("line").GetInt32()));
        Assert.Contains(errors, e => e.GetProperty("message").GetString()!.Contains(expected, StringComparison.Ordinal));
        Assert.Equal(0, await RankingCountAsync(c));
        await using var db = _app.CreateDb();
        Assert.Equal(0, await db.Labels.CountAsync(l => l.CampaignId == c));
    }
}
