using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Hierarchy;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// Raters' factor rankings over the API: each changed ranking is a stored version, a resend stores nothing, a bad
/// ranking is refused field by field and stores nothing; the served pair carries the factor values in the rater's order.
/// </summary>
public sealed class RankingApiTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    // The delivery gridworld's factors, in the environment's order.
    private static readonly string[] DeliveryFactors = ["gas", "goal", "sheep", "coin", "roadblock", "mud"];

    private StudioAppFactory _app = null!;
    private HttpClient _http = null!;
    private Guid _campaign;

    public async Task InitializeAsync()
    {
        _app = new StudioAppFactory(await postgres.CreateDatabaseAsync("rankings"), StudioAppFactory.NewDataRoot("rankings"), runWorker: false);
        _http = _app.CreateClient();
        _campaign = await StudioTestApi.CreateCampaignAsync(_http, "rankings", pairs: 4, labels: 2, rounds: 1, start: false,
            extra: new Dictionary<string, object?> { ["label_source"] = LabelSources.Hierarchy });
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    /// <summary>Posts a ranking to <paramref name="campaign"/> as the rater <paramref name="rater"/> of the shared campaign (its rater token).</summary>
    private Task<HttpResponseMessage> PostAsync(Guid campaign, string rater, object? factors, object? margins, string? namedRater = null) =>
        StudioTestApi.AsRaterAsync(_http, _campaign, rater, new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{campaign}/rankings")
        {
            Content = JsonContent.Create(namedRater is null ? new { factors, margins } : (object)new { rater_id = namedRater, factors, margins }),
        });

    private async Task<string> RaterIdAsync(string pseudonym)
    {
        await using var db = _app.CreateDb();
        return await StudioTestApi.RaterIdAsync(db, _campaign, pseudonym);
    }

    private async Task<int> RowCountAsync()
    {
        await using var db = _app.CreateDb();
        return await db.FactorRankings.CountAsync();
    }

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()), problem.ToString());
        return problem;
    }

    [Fact]
    public async Task A_valid_ranking_is_stored_and_read_back()
    {
        string[] order = ["goal", "sheep", "gas", "coin", "roadblock", "mud"];
        double[] margins = [0.5, 1, 1, 0, 2.5, 1];
        var response = await PostAsync(_campaign, "r-valid", order, margins);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var view = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("api", view.GetProperty("source").GetString());
        Assert.Equal(order, view.GetProperty("factors").EnumerateArray().Select(f => f.GetString()!));
        Assert.Equal(margins, view.GetProperty("margins").EnumerateArray().Select(m => m.GetDouble()));
        var id = view.GetProperty("id").GetGuid();

        await using (var db = _app.CreateDb())
        {
            var raterId = await StudioTestApi.RaterIdAsync(db, _campaign, "r-valid");
            var row = await db.FactorRankings.AsNoTracking().SingleAsync(r => r.RaterId == raterId);
            Assert.Equal(id, row.Id);
            Assert.Equal(_campaign, row.CampaignId);
            Assert.Equal(order, row.Factors);
            Assert.Equal(margins, row.Margins);
            Assert.Equal("api", row.Source);
        }

        var history = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{_campaign}/rankings");
        Assert.Contains(history.EnumerateArray(), r => r.GetProperty("id").GetGuid() == id);
        var current = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{_campaign}/rankings/current?rater=r-valid");
        Assert.Equal(id, current.GetProperty("id").GetGuid());
        Assert.Equal(order, current.GetProperty("factors").EnumerateArray().Select(f => f.GetString()!));

        // No margins at all: every level gets the default.
        var defaults = await PostAsync(_campaign, "r-defaults", DeliveryFactors, null);
        Assert.Equal(HttpStatusCode.Created, defaults.StatusCode);
        Assert.All((await defaults.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("margins").EnumerateArray(),
            m => Assert.Equal(FactorHierarchy.DefaultMargin, m.GetDouble()));
    }

    [Fact]
    public async Task A_changed_ranking_adds_a_version_and_a_resent_one_adds_nothing()
    {
        string[] first = ["gas", "goal", "sheep", "coin", "roadblock", "mud"];
        string[] second = ["sheep", "goal", "gas", "coin", "roadblock", "mud"];
        var a = await PostAsync(_campaign, "r-history", first, null);
        Assert.Equal(HttpStatusCode.Created, a.StatusCode);
        var b = await PostAsync(_campaign, "r-history", second, null);
        Assert.Equal(HttpStatusCode.Created, b.StatusCode);
        var secondId = (await b.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();

        var again = await PostAsync(_campaign, "r-history", second, null);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(secondId, (await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid());

        // Only the margin changes: that is a new version too.
        var margins = await PostAsync(_campaign, "r-history", second, new[] { 1, 1, 1, 1, 1, 0.25 });
        Assert.Equal(HttpStatusCode.Created, margins.StatusCode);

        var history = (await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{_campaign}/rankings?rater=r-history"))
            .EnumerateArray().ToList();
        Assert.Equal(3, history.Count);
        Assert.Equal(first, history[0].GetProperty("factors").EnumerateArray().Select(f => f.GetString()!));
        Assert.Equal(second, history[1].GetProperty("factors").EnumerateArray().Select(f => f.GetString()!));
        Assert.True(history[0].GetProperty("created_at").GetDateTimeOffset() <= history[1].GetProperty("created_at").GetDateTimeOffset());
        var current = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{_campaign}/rankings/current?rater=r-history");
        Assert.Equal(history[2].GetProperty("id").GetGuid(), current.GetProperty("id").GetGuid());
        Assert.Equal(0.25, current.GetProperty("margins")[5].GetDouble());

        var raterId = await RaterIdAsync("r-history");
        await using var db = _app.CreateDb();
        Assert.Equal(3, await db.FactorRankings.CountAsync(r => r.RaterId == raterId));
    }

    [Fact]
    public async Task A_bad_ranking_is_refused_field_by_field_and_nothing_is_stored()
    {
        // A valid ranking first, so a refused one cannot be mistaken for "nothing was ever there".
        Assert.Equal(HttpStatusCode.Created, (await PostAsync(_campaign, "r-bad", DeliveryFactors, null)).StatusCode);

        var cases = new (string Name, object? Factors, object? Margins, string Key, string Says)[]
        {
            ("missing factor", new[] { "gas", "goal", "sheep", "coin", "roadblock" }, null, "factors", "'mud' is missing"),
            ("named twice", new[] { "gas", "goal", "sheep", "coin", "roadblock", "gas" }, null, "factors", "'gas' appears 2 times"),
            ("unknown name", new[] { "gas", "goal", "sheep", "coin", "roadblock", "speed" }, null, "factors", "'speed' is not a factor"),
            ("negative margin", DeliveryFactors, new[] { 1, -0.5, 1, 1, 1, 1 }, "margins[1]", "0 or more"),
            ("margin count", DeliveryFactors, new[] { 1.0, 1.0 }, "margins", "one margin per ranked factor"),
            ("no factors", Array.Empty<string>(), null, "factors", "Rank every factor"),
        };
        foreach (var c in cases)
        {
            int before = await RowCountAsync();
            var response = await PostAsync(_campaign, "r-bad", c.Factors, c.Margins);
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{c.Name}: {response.StatusCode}");
            var problem = await ProblemAsync(response);
            var errors = problem.GetProperty("errors");
            Assert.True(errors.TryGetProperty(c.Key, out var messages), $"{c.Name}: no error under '{c.Key}': {errors}");
            Assert.Contains(messages.EnumerateArray(), m => m.GetString()!.Contains(c.Says, StringComparison.Ordinal));
            Assert.Contains(c.Says, problem.GetProperty("detail").GetString());
            Assert.Equal(before, await RowCountAsync());
        }

        // A ranking that names another rater is refused: the rater is the one the token identifies.
        string[] reversed = [.. DeliveryFactors.Reverse()];
        var forOther = await PostAsync(_campaign, "r-bad", reversed, null, namedRater: "r-valid");
        Assert.Equal(HttpStatusCode.Forbidden, forOther.StatusCode);
        Assert.Contains("authenticated as 'r-bad'", (await ProblemAsync(forOther)).GetProperty("detail").GetString());

        var current = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{_campaign}/rankings/current?rater=r-bad");
        Assert.Equal(DeliveryFactors, current.GetProperty("factors").EnumerateArray().Select(f => f.GetString()!));
        var raterId = await RaterIdAsync("r-bad");
        await using var db = _app.CreateDb();
        Assert.Equal(1, await db.FactorRankings.CountAsync(r => r.RaterId == raterId));
    }

    [Fact]
    public async Task Unknown_campaigns_and_raters_without_a_ranking_get_404_problems()
    {
        int before = await RowCountAsync();
        var unknown = Guid.NewGuid();
        var post = await PostAsync(unknown, "r-nobody", DeliveryFactors, null);
        Assert.Equal(HttpStatusCode.NotFound, post.StatusCode);
        Assert.Contains($"No campaign {unknown}", (await ProblemAsync(post)).GetProperty("detail").GetString());
        Assert.Equal(before, await RowCountAsync());

        var list = await _http.GetAsync($"/api/v1/campaigns/{unknown}/rankings");
        Assert.Equal(HttpStatusCode.NotFound, list.StatusCode);
        await ProblemAsync(list);

        var none = await _http.GetAsync($"/api/v1/campaigns/{_campaign}/rankings/current?rater=r-never-ranked");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        Assert.Contains("has not ranked", (await ProblemAsync(none)).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task The_served_pair_shows_factor_values_in_the_raters_order_and_what_the_ranking_decides()
    {
        // A studio with its worker, so a round is prepared and pairs are served.
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("rankings-next"), StudioAppFactory.NewDataRoot("rankings-next"));
        var http = app.CreateClient();
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "ranked", pairs: 6, labels: 6, rounds: 1,
            extra: new Dictionary<string, object?> { ["label_source"] = LabelSources.Both });
        var clipsOnly = await StudioTestApi.CreateCampaignAsync(http, "clips", pairs: 4, labels: 4, rounds: 1, seed: 2);
        var round = await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(90));
        await StudioTestApi.WaitForRoundAsync(app.ConnectionString, clipsOnly, 0, RoundStatus.Open, TimeSpan.FromSeconds(90));

        // Before ranking, and in a clips-only campaign, a pair comes without factor values.
        var unranked = (await StudioTestApi.NextAsync(http, campaign, "r-next")).GetProperty("pair");
        Assert.Equal(JsonValueKind.Null, unranked.GetProperty("factors").ValueKind);
        Assert.Equal(JsonValueKind.Null, (await StudioTestApi.NextAsync(http, clipsOnly, "r-next")).GetProperty("pair").GetProperty("factors").ValueKind);

        string[] order = ["gas", "mud", "goal", "sheep", "coin", "roadblock"];
        double[] margins = [0, 0, 0, 0, 0, 0];
        var saved = await StudioTestApi.RankAsync(http, campaign, "r-next", order, margins);
        Assert.Equal(HttpStatusCode.Created, saved.StatusCode);

        var pair = (await StudioTestApi.NextAsync(http, campaign, "r-next")).GetProperty("pair");
        // The same pair (served, not yet answered) now carries the factors.
        Assert.Equal(unranked.GetProperty("comparison_id").GetGuid(), pair.GetProperty("comparison_id").GetGuid());
        var factors = pair.GetProperty("factors").EnumerateArray().ToList();
        Assert.Equal(order, factors.Select(f => f.GetProperty("name").GetString()!));

        // The values, better sides and verdict, computed here from the stored segments as the HERON rule defines them.
        var env = EnvironmentRegistry.Get("delivery-gridworld");
        await using var db = app.CreateDb();
        var comparison = await db.Comparisons.AsNoTracking().FirstAsync(c => c.Id == pair.GetProperty("comparison_id").GetGuid());
        var segments = await db.Segments.AsNoTracking().Where(s => s.RoundId == round.Id).ToListAsync();
        var values = segments.ToDictionary(s => s.Id, s => env.SegmentFactors(s.ToSegment()));
        var left = values[comparison.LeftSegmentId];
        var right = values[comparison.RightSegmentId];
        var names = env.Factors.Select(f => f.Name).ToList();
        foreach (var f in factors)
        {
            int k = names.IndexOf(f.GetProperty("name").GetString()!);
            Assert.Equal(left[k], f.GetProperty("left").GetDouble(), 9);
            Assert.Equal(right[k], f.GetProperty("right").GetDouble(), 9);
            bool higher = env.Factors[k].Direction == FactorDirection.HigherIsBetter;
            string better = left[k] == right[k] ? "equal" : (higher ? right[k] > left[k] : right[k] < left[k]) ? "right" : "left";
            Assert.Equal(better, f.GetProperty("better").GetString());
        }
        // With zero margins the first level whose values differ decides.
        var hierarchy = FactorHierarchy.Create(env, order, margins);
        var verdict = HeronRule.Decide(env, hierarchy, left, right, HeronRule.Spreads(values.Values.ToList()));
        var firstDiffering = factors.FirstOrDefault(f => f.GetProperty("better").GetString() != "equal");
        if (verdict is { } v)
        {
            Assert.Equal(v.Choice.ToString().ToLowerInvariant(), pair.GetProperty("hierarchy_choice").GetString());
            Assert.Equal(order[v.Level], pair.GetProperty("decided_by").GetString());
            Assert.Equal(firstDiffering.GetProperty("name").GetString(), order[v.Level]);
            Assert.Equal(firstDiffering.GetProperty("better").GetString(), pair.GetProperty("hierarchy_choice").GetString());
        }
        else
        {
            Assert.Equal(JsonValueKind.Null, pair.GetProperty("hierarchy_choice").ValueKind);
            Assert.Equal(JsonValueKind.Null, pair.GetProperty("decided_by").ValueKind);
            Assert.Equal(JsonValueKind.Undefined, firstDiffering.ValueKind);
        }
    }
}
