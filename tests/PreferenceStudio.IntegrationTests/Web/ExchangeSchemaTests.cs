using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Exchange;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// The exchange format's published JSON Schemas: served to anyone, every line the studio exports valid by the schema
/// of its kind (checked by JsonSchema.Net, a validator that is not the studio's reader), and a line the schema refuses
/// refused by the importer too.
/// </summary>
public sealed class ExchangeSchemaTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    // Built once: JsonSchema.Net registers each schema by its $id.
    private static readonly Lazy<Dictionary<string, JsonSchema>> Schemas = new(() => ExchangeSchemas.FileBySchemaName.ToDictionary(
        kind => kind.Key, kind => JsonSchema.FromText(ExchangeSchemas.Read(kind.Value)!)));

    private static EvaluationResults Evaluate(string line)
    {
        using var doc = JsonDocument.Parse(line);
        var kind = doc.RootElement.GetProperty("schema").GetString()!;
        return Schemas.Value[kind].Evaluate(doc.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
    }

    private static string Errors(EvaluationResults results) =>
        string.Join("; ", (results.Details ?? []).Where(d => d.Errors is { Count: > 0 }).SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}")));

    [Fact]
    public async Task The_schemas_are_served_to_anyone_and_an_unknown_one_is_a_problem_naming_them()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("schemas"), StudioAppFactory.NewDataRoot("schemas"), runWorker: false);
        var anonymous = app.CreateDefaultClient();
        foreach (var file in ExchangeSchemas.Files)
        {
            var response = await anonymous.GetAsync($"/api/v1/schemas/{file}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("application/schema+json", response.Content.Headers.ContentType?.MediaType);
            var served = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Equal("https://json-schema.org/draft/2020-12/schema", served["$schema"]!.GetValue<string>());
            Assert.Equal(ExchangeSchemas.FileBySchemaName.Single(k => k.Value == file).Key, served["title"]!.GetValue<string>());
        }
        var missing = await anonymous.GetAsync("/api/v1/schemas/preference@2.json");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        var detail = (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString();
        Assert.Contains("preference@1.json", detail);
        Assert.Contains("factor-ranking@1.json", detail);
    }

    [Fact]
    public async Task Every_line_the_studio_exports_is_valid_by_the_published_schema_of_its_kind()
    {
        var cs = await postgres.CreateDatabaseAsync("schemaexport");
        await using var app = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("schemaexport"));
        var http = app.CreateClient();
        // Labels given in a round (round, clip hashes, policy, times) ...
        var played = await StudioTestApi.AnsweredCampaignAsync(http, cs, "schema-played", pairs: 4, "sim-schema", answers: 4, seed: 18);
        // ... and imported ones: raters and groups or none, times or none, a gold pair, factor rankings.
        var imported = await StudioTestApi.CreateCampaignAsync(http, "schema-imported", pairs: 10, labels: 10, rounds: 1, start: false);
        var lines = DatasetApiTests.SampleLines(8, seed: 21);
        var gold = JsonNode.Parse(lines[0])!.AsObject();
        gold["gold"] = "left";
        lines[0] = gold.ToJsonString();
        lines.Add(PreferenceJsonl.Write(new FactorRankingRecord("rank/1", "delivery-gridworld", "r-1",
            ["goal", "sheep", "coin", "gas", "mud", "roadblock"], [1, 0.5, 0, 0, 2, 1], new DateTimeOffset(2026, 11, 3, 8, 0, 0, TimeSpan.Zero))));
        var import = await http.PostAsync($"/api/v1/campaigns/{imported}/preferences/import",
            new StringContent(string.Join("\n", lines) + "\n", Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.OK, import.StatusCode);

        int checkedLines = 0;
        foreach (var campaign in new[] { played, imported })
        {
            var exported = (await http.GetStringAsync($"/api/v1/campaigns/{campaign}/export?format=jsonl")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            foreach (var line in exported)
            {
                var result = Evaluate(line);
                Assert.True(result.IsValid, $"{line}\n{Errors(result)}");
                checkedLines++;
            }
        }
        // 4 answered, 8 imported comparisons and 1 ranking.
        Assert.Equal(13, checkedLines);
    }

    // A known-good line (left moves right three times from [4,3]) to break in one place.
    private const string Good = """{"schema":"preferencestudio/preference@1","id":"good/1","environment":"delivery-gridworld","rater":null,"group":null,"left":{"states":[[4,3],[4,4],[4,5],[4,6]],"actions":[3,3,3]},"right":{"states":[[5,5],[4,5],[4,4],[4,3]],"actions":[0,2,2]},"label":"left","shown_at":null,"answered_at":null}""";
    private const string GoodRanking = """{"schema":"preferencestudio/factor-ranking@1","id":"k/1","environment":"delivery-gridworld","rater":"r-1","factors":["goal","sheep","coin","gas","mud","roadblock"],"margins":[1,1,0,0,2,1],"created_at":"2026-11-02T09:30:00Z"}""";

    private static string Break(string line, string from, string to)
    {
        Assert.Contains(from, line);
        return line.Replace(from, to);
    }

    public static TheoryData<string, string> ShapesBothRefuse() => new()
    {
        { "no id", Break(Good, "\"id\":\"good/1\",", "") },
        { "blank id", Break(Good, "\"id\":\"good/1\"", "\"id\":\"  \"") },
        { "unknown label", Break(Good, "\"label\":\"left\"", "\"label\":\"sideways\"") },
        { "no label", Break(Good, ",\"label\":\"left\"", "") },
        { "a state that is not an array", Break(Good, "\"states\":[[4,3],", "\"states\":[4,") },
        { "an action that is a string", Break(Good, "\"actions\":[3,3,3]", "\"actions\":[\"right\",3,3]") },
        { "no right segment", Break(Good, ",\"right\":{\"states\":[[5,5],[4,5],[4,4],[4,3]],\"actions\":[0,2,2]}", "") },
        { "a time that is not ISO-8601", Break(Good, "\"shown_at\":null", "\"shown_at\":\"1/2/2024\"") },
        { "a gold answer of can't tell", Break(Good, "\"label\":\"left\"", "\"label\":\"left\",\"gold\":\"incomparable\"") },
        { "parameters that are not numbers", Break(Good, "\"rater\":null", "\"environment_parameters\":{\"gravity\":\"high\"},\"rater\":null") },
        { "a rater that is a number", Break(Good, "\"rater\":null", "\"rater\":17") },
        { "a ranking with a negative margin", Break(GoodRanking, "[1,1,0,0,2,1]", "[1,-1,0,0,2,1]") },
        { "a ranking with a factor twice", Break(GoodRanking, "\"coin\"", "\"goal\"") },
        { "a ranking without its time", Break(GoodRanking, ",\"created_at\":\"2026-11-02T09:30:00Z\"", "") },
        { "a ranking without its rater", Break(GoodRanking, "\"rater\":\"r-1\",", "") },
    };

    [Theory]
    [MemberData(nameof(ShapesBothRefuse))]
    public void A_line_the_schema_refuses_the_reader_refuses_too(string why, string line)
    {
        Assert.False(Evaluate(line).IsValid, $"the schema accepted {why}: {line}");
        Assert.NotEmpty(PreferenceJsonl.ParseLine(line).Errors);
    }

    [Fact]
    public void The_good_lines_pass_both_and_what_only_the_environment_can_judge_passes_the_schema_but_not_the_reader()
    {
        foreach (var line in new[] { Good, GoodRanking })
        {
            Assert.True(Evaluate(line).IsValid, Errors(Evaluate(line)));
            Assert.Empty(PreferenceJsonl.ParseLine(line).Errors);
        }
        // The schema's description says so: the board, the moves and the environment's factors are the reader's to check.
        foreach (var line in new[]
                 {
                     Break(Good, "\"states\":[[4,3]", "\"states\":[[12,3]"),
                     Break(Good, "\"actions\":[3,3,3]", "\"actions\":[1,3,3]"),
                     Break(Good, "\"environment\":\"delivery-gridworld\"", "\"environment\":\"moon-lander\""),
                     Break(GoodRanking, "\"goal\",", "\"altitude\","),
                 })
        {
            Assert.True(Evaluate(line).IsValid, Errors(Evaluate(line)));
            Assert.NotEmpty(PreferenceJsonl.ParseLine(line).Errors);
        }
    }
}
