using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Exchange;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>Import and export in the exchange format: all or nothing, each error naming its line, round trips exact.</summary>
public sealed class DatasetApiTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private StudioAppFactory _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _app = new StudioAppFactory(await postgres.CreateDatabaseAsync("dataset"), StudioAppFactory.NewDataRoot("dataset"), runWorker: false);
        _http = _app.CreateClient();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    /// <summary>Random delivery segments of 3 moves, labelled at random, in the exchange format.</summary>
    internal static List<string> SampleLines(int count, int seed)
    {
        var env = EnvironmentRegistry.Get("delivery-gridworld");
        var rng = new Random(seed);
        var segments = Rollouts.CollectRandom(env, count * 2, rng).SelectMany(t => SegmentCutter.Cut(env, t, 3)).ToList();
        var labels = Enum.GetValues<PreferenceChoice>();
        var start = new DateTimeOffset(2026, 11, 1, 12, 0, 0, TimeSpan.Zero);
        return Enumerable.Range(0, count).Select(i => PreferenceJsonl.Write(
            new PreferenceRecord($"sample/{seed}/{i}", env.Name, segments[2 * i], segments[2 * i + 1], labels[rng.Next(labels.Length)])
            {
                Rater = i % 3 == 0 ? null : $"r-{i % 5}",
                Group = i % 2 == 0 ? "group-a" : null,
                ShownAt = i % 4 == 0 ? null : start.AddSeconds(10 * i),
                AnsweredAt = i % 4 == 0 ? null : start.AddSeconds(10 * i + 3.25),
            })).ToList();
    }

    private async Task<Guid> NewCampaignAsync(string name) =>
        await StudioTestApi.CreateCampaignAsync(_http, name, pairs: 10, labels: 10, rounds: 1, start: false);

    private async Task<HttpResponseMessage> ImportAsync(Guid campaign, IEnumerable<string> lines) =>
        await _http.PostAsync($"/api/v1/campaigns/{campaign}/preferences/import",
            new StringContent(string.Join("\n", lines) + "\n", Encoding.UTF8, "application/x-ndjson"));

    private async Task<List<string>> ExportAsync(Guid campaign)
    {
        var response = await _http.GetAsync($"/api/v1/campaigns/{campaign}/export?format=jsonl");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();
    }

    /// <summary>The exchange fields of a line, without the studio's own export extras.</summary>
    internal static string Core(string line)
    {
        var node = JsonNode.Parse(line)!.AsObject();
        foreach (var extra in new[] { "round", "left_clip_sha256", "right_clip_sha256", "policy_id", "comparison_id" }) node.Remove(extra);
        return node.ToJsonString();
    }

    [Fact]
    public async Task Export_import_export_gives_the_same_comparisons()
    {
        var lines = SampleLines(40, seed: 11);
        var a = await NewCampaignAsync("source");
        var imported = await ImportAsync(a, lines);
        Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
        Assert.Equal(40, (await imported.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("imported").GetInt32());

        var first = await ExportAsync(a);
        Assert.Equal(lines.Select(Core).Order(), first.Select(Core).Order());

        var b = await NewCampaignAsync("copy");
        Assert.Equal(HttpStatusCode.OK, (await ImportAsync(b, first)).StatusCode);
        var second = await ExportAsync(b);
        Assert.Equal(first.Select(Core), second.Select(Core));
    }

    [Fact]
    public async Task Sending_the_same_file_twice_stores_each_comparison_once()
    {
        var lines = SampleLines(10, seed: 12);
        var c = await NewCampaignAsync("twice");
        Assert.Equal(HttpStatusCode.OK, (await ImportAsync(c, lines)).StatusCode);
        var again = await ImportAsync(c, lines);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var result = await again.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(0, result.GetProperty("imported").GetInt32());
        Assert.Equal(10, result.GetProperty("already_present").GetInt32());
        await using var db = _app.CreateDb();
        Assert.Equal(10, await db.Labels.CountAsync(l => l.CampaignId == c));
    }

    public static TheoryData<string, string, string> MalformedLines() => new()
    {
        { "bad JSON", """{"schema": "preferencestudio/preference@1", "id": "x", """, "JSON" },
        { "unknown environment", Replace("\"environment\":\"delivery-gridworld\"", "\"environment\":\"moon-lander\""), "moon-lander" },
        { "state off the board", Replace("\"states\":[[4,3]", "\"states\":[[12,3]"), "off the" },
        { "action not leading to the next state", ReplaceFirstAction(), "leads to" },
        { "unknown label", Replace("\"label\":\"left\"", "\"label\":\"sideways\""), "label" },
    };

    // A known-good line to break in one place: left is [[4,3],[4,4],[4,5],[4,6]] moving right three times.
    private const string GoodLine = """{"schema":"preferencestudio/preference@1","id":"good/1","environment":"delivery-gridworld","rater":null,"group":null,"left":{"states":[[4,3],[4,4],[4,5],[4,6]],"actions":[3,3,3]},"right":{"states":[[5,5],[4,5],[4,4],[4,3]],"actions":[0,2,2]},"label":"left","shown_at":null,"answered_at":null}""";

    private static string Replace(string from, string to)
    {
        Assert.Contains(from, GoodLine);
        return GoodLine.Replace(from, to).Replace("good/1", "bad/1");
    }

    private static string ReplaceFirstAction() => Replace("\"actions\":[3,3,3]", "\"actions\":[1,3,3]");

    [Theory]
    [MemberData(nameof(MalformedLines))]
    public async Task A_file_with_one_malformed_line_stores_nothing_and_names_the_line(string why, string badLine, string expected)
    {
        var lines = SampleLines(3, seed: 13);
        lines.Insert(1, badLine);
        var c = await NewCampaignAsync("malformed " + why);
        var response = await ImportAsync(c, lines);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        var error = Assert.Single(problem.GetProperty("errors").EnumerateArray());
        Assert.Equal(2, error.GetProperty("line").GetInt32());
        Assert.Contains(expected, error.GetProperty("message").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("line 2", problem.GetProperty("detail").GetString());

        await using var db = _app.CreateDb();
        Assert.Equal(0, await db.Labels.CountAsync(l => l.CampaignId == c));
        Assert.Equal(0, await db.Comparisons.CountAsync(x => x.CampaignId == c));
        Assert.Equal(0, await db.Segments.CountAsync(x => x.CampaignId == c));
    }

    [Fact]
    public async Task The_good_line_used_by_the_malformed_cases_is_itself_accepted()
    {
        var c = await NewCampaignAsync("good line");
        Assert.Equal(HttpStatusCode.OK, (await ImportAsync(c, [GoodLine])).StatusCode);
    }

    [Fact]
    public async Task An_unknown_export_format_is_a_problem_details()
    {
        var c = await NewCampaignAsync("format");
        var response = await _http.GetAsync($"/api/v1/campaigns/{c}/export?format=xml");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("format=jsonl", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }
}
