using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Hierarchy;
using PreferenceStudio.IntegrationTests.Infrastructure;
using PreferenceStudio.Web.Features.Hierarchy;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// Campaigns that learn from raters' factor rankings (HERON) through the real host: a ranking stored, a round's clips
/// answered by an oracle over HTTP, the worker training on hierarchy labels, clip labels or both, and each run's
/// metrics saying which sources it used; the researcher's ranking statistics.
/// </summary>
public sealed class HierarchyCampaignTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private const int Pairs = 12;
    private const string Rater = "sim-oracle";

    // The delivery gridworld's factors, most important first as a rater might see them, and the opposite order.
    private static readonly string[] Ranking = ["goal", "sheep", "gas", "coin", "roadblock", "mud"];
    private static readonly string[] Reversed = Ranking.Reverse().ToArray();

    [Fact]
    public async Task A_hierarchy_campaign_trains_on_ranking_labels_alone_and_tests_on_held_out_clip_labels()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("hierarchy"), StudioAppFactory.NewDataRoot("hierarchy"));
        var http = app.CreateClient();
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "hierarchy", pairs: Pairs, labels: Pairs, rounds: 1, seed: 4,
            extra: new Dictionary<string, object?> { ["label_source"] = "hierarchy", ["hierarchy_pairs_per_round"] = 200 });
        var first = await SaveRankingAsync(http, campaign, Rater, Ranking, null);

        await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        Assert.Equal(Pairs, await StudioTestApi.AnswerAsOracleAsync(app.ConnectionString, http, campaign, Rater, Pairs));
        await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Completed, TimeSpan.FromSeconds(180));

        await using var db = app.CreateDb();
        var run = await db.RewardModelRuns.AsNoTracking().SingleAsync(r => r.CampaignId == campaign);
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        var metrics = JsonDocument.Parse(run.Metrics).RootElement;
        var sources = metrics.GetProperty("sources");
        Assert.Equal("hierarchy", sources.GetProperty("label_source").GetString());
        Assert.Equal(0, sources.GetProperty("clips").GetInt32());
        int hierarchy = sources.GetProperty("hierarchy").GetInt32();
        Assert.InRange(hierarchy, 1, 200);
        Assert.Equal(1, sources.GetProperty("rankings").GetInt32());
        Assert.Equal(1.0, sources.GetProperty("hierarchy_weight").GetDouble());
        Assert.True(sources.GetProperty("weighted").GetBoolean());
        // Only hierarchy labels trained; the held-out clip labels are still the test set.
        Assert.Equal(hierarchy, metrics.GetProperty("n_train").GetInt32());
        int heldOut = await db.Labels.CountAsync(l => l.CampaignId == campaign && l.Comparison!.IsHeldOut);
        Assert.True(heldOut > 0);
        Assert.Equal(heldOut, metrics.GetProperty("n_test").GetInt32());

        // The page's data: the runs listing carries the sources.
        var listed = await http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/runs");
        Assert.Equal(hierarchy, listed[0].GetProperty("metrics").GetProperty("sources").GetProperty("hierarchy").GetInt32());

        // The rater revises the ranking after answering: their answers are still judged by the version in force then.
        var revised = await SaveRankingAsync(http, campaign, Rater, Reversed, [0, 0, 0, 0, 0, 0]);
        Assert.True(revised.GetProperty("created_at").GetDateTimeOffset() > first.GetProperty("created_at").GetDateTimeOffset());
        var expected = await ExpectedConsistencyAsync(db, campaign, await StudioTestApi.RaterIdAsync(db, campaign, Rater), FactorHierarchy.Create(DeliveryEnv, Ranking, null));
        var stats = await http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/rankings/stats");
        Assert.Equal(1, stats.GetProperty("raters").GetInt32());
        Assert.Equal(JsonValueKind.Null, stats.GetProperty("kendall_w").ValueKind);
        var mud = stats.GetProperty("factors").EnumerateArray().Single(f => f.GetProperty("factor").GetString() == "mud");
        Assert.Equal(1, mud.GetProperty("ranked_first").GetInt32());
        var mine = stats.GetProperty("per_rater").EnumerateArray().Single();
        Assert.Equal(Rater, mine.GetProperty("rater").GetString());
        Assert.Equal(Reversed, mine.GetProperty("ranking").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(2, mine.GetProperty("versions").GetInt32());
        Assert.True(expected.Decided > 0, "the hierarchy decided none of the rater's choices");
        Assert.Equal(expected.Decided, mine.GetProperty("decided").GetInt32());
        Assert.Equal(expected.Disagreements, mine.GetProperty("disagreements").GetInt32());
        Assert.Equal(expected.Rate!.Value, mine.GetProperty("disagreement_rate").GetDouble(), 12);
    }

    [Fact]
    public async Task A_campaign_on_both_sources_trains_on_clip_and_hierarchy_labels_weighting_them_in_bradley_terry_only()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("both"), StudioAppFactory.NewDataRoot("both"));
        var http = app.CreateClient();
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "both", pairs: Pairs, labels: Pairs, rounds: 1, seed: 4,
            extra: new Dictionary<string, object?>
            {
                ["label_source"] = "both", ["hierarchy_weight"] = 0.5, ["hierarchy_pairs_per_round"] = 100, ["comparison_models"] = new[] { "regret" },
            });
        var settings = (await http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}")).GetProperty("settings");
        Assert.Equal("both", settings.GetProperty("label_source").GetString());
        Assert.Equal(0.5, settings.GetProperty("hierarchy_weight").GetDouble());
        Assert.Equal(100, settings.GetProperty("hierarchy_pairs_per_round").GetInt32());
        await SaveRankingAsync(http, campaign, Rater, Ranking, null);

        await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        Assert.Equal(Pairs, await StudioTestApi.AnswerAsOracleAsync(app.ConnectionString, http, campaign, Rater, Pairs));
        await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Completed, TimeSpan.FromSeconds(240));

        await using var db = app.CreateDb();
        int clipTrain = await db.Labels.CountAsync(l => l.CampaignId == campaign && !l.Comparison!.IsHeldOut && l.Choice != PreferenceChoice.Incomparable);
        var runs = await db.RewardModelRuns.AsNoTracking().Where(r => r.CampaignId == campaign).OrderBy(r => r.ModelType).ToListAsync();
        Assert.Equal(["bt", "regret"], runs.Select(r => r.ModelType));
        var hierarchyCounts = new List<int>();
        foreach (var run in runs)
        {
            Assert.True(run.Status == RunStatus.Succeeded, run.Error);
            var metrics = JsonDocument.Parse(run.Metrics).RootElement;
            var sources = metrics.GetProperty("sources");
            Assert.Equal(clipTrain, sources.GetProperty("clips").GetInt32());
            int hierarchy = sources.GetProperty("hierarchy").GetInt32();
            Assert.InRange(hierarchy, 1, 100);
            hierarchyCounts.Add(hierarchy);
            Assert.Equal(0.5, sources.GetProperty("hierarchy_weight").GetDouble());
            Assert.Equal(clipTrain + hierarchy, metrics.GetProperty("n_train").GetInt32());
            // Every model type applies a label's weight.
            Assert.True(sources.GetProperty("weighted").GetBoolean());
        }
        Assert.Equal(hierarchyCounts[0], hierarchyCounts[1]);
    }

    [Fact]
    public async Task Without_a_ranking_a_hierarchy_campaign_fails_its_run_and_a_both_campaign_trains_on_clips_alone()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("noranking"), StudioAppFactory.NewDataRoot("noranking"));
        var http = app.CreateClient();
        var hierarchyOnly = await StudioTestApi.CreateCampaignAsync(http, "hierarchy only", pairs: Pairs, labels: Pairs, rounds: 1, seed: 6,
            extra: new Dictionary<string, object?> { ["label_source"] = "hierarchy" });
        var both = await StudioTestApi.CreateCampaignAsync(http, "both", pairs: Pairs, labels: Pairs, rounds: 1, seed: 6,
            extra: new Dictionary<string, object?> { ["label_source"] = "both" });

        foreach (var campaign in new[] { hierarchyOnly, both })
        {
            await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
            Assert.Equal(Pairs, await StudioTestApi.AnswerAsOracleAsync(app.ConnectionString, http, campaign, Rater, Pairs));
        }
        var round = await StudioTestApi.WaitForRoundAsync(app.ConnectionString, hierarchyOnly, 0, RoundStatus.Completed, TimeSpan.FromSeconds(180));
        await StudioTestApi.WaitForRoundAsync(app.ConnectionString, both, 0, RoundStatus.Completed, TimeSpan.FromSeconds(180));

        await using var db = app.CreateDb();
        var failed = await db.RewardModelRuns.AsNoTracking().SingleAsync(r => r.CampaignId == hierarchyOnly);
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.StartsWith("No rater has ranked the factors yet;", failed.Error);
        Assert.Contains("No rater has ranked the factors yet", round.Error);
        Assert.Equal(0, JsonDocument.Parse(failed.Metrics).RootElement.GetProperty("sources").GetProperty("hierarchy").GetInt32());

        var clipsOnly = await db.RewardModelRuns.AsNoTracking().SingleAsync(r => r.CampaignId == both);
        Assert.True(clipsOnly.Status == RunStatus.Succeeded, clipsOnly.Error);
        var sources = JsonDocument.Parse(clipsOnly.Metrics).RootElement.GetProperty("sources");
        Assert.True(sources.GetProperty("clips").GetInt32() > 0);
        Assert.Equal(0, sources.GetProperty("hierarchy").GetInt32());
        Assert.Equal(0, sources.GetProperty("rankings").GetInt32());
        Assert.Contains("clip labels alone", sources.GetProperty("note").GetString());
    }

    [Fact]
    public async Task Ranking_statistics_count_first_places_and_measure_agreement()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("rankstats"), StudioAppFactory.NewDataRoot("rankstats"), runWorker: false);
        var http = app.CreateClient();
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "stats", pairs: Pairs, labels: Pairs, rounds: 1, start: false,
            extra: new Dictionary<string, object?> { ["label_source"] = "hierarchy" });

        var empty = await http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/rankings/stats");
        Assert.Equal(0, empty.GetProperty("raters").GetInt32());
        Assert.Equal(JsonValueKind.Null, empty.GetProperty("kendall_w").ValueKind);

        await SaveRankingAsync(http, campaign, "rater-a", ["gas", "goal", "sheep", "coin", "roadblock", "mud"], null);
        await SaveRankingAsync(http, campaign, "rater-b", ["goal", "gas", "sheep", "coin", "roadblock", "mud"], null);

        var stats = await http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/rankings/stats");
        Assert.Equal(2, stats.GetProperty("raters").GetInt32());
        var factors = stats.GetProperty("factors").EnumerateArray().ToDictionary(f => f.GetProperty("factor").GetString()!);
        Assert.Equal(DeliveryEnv.Factors.Select(f => f.Name), stats.GetProperty("factors").EnumerateArray().Select(f => f.GetProperty("factor").GetString()));
        Assert.Equal(1, factors["gas"].GetProperty("ranked_first").GetInt32());
        Assert.Equal(1, factors["goal"].GetProperty("ranked_first").GetInt32());
        Assert.Equal(0, factors["sheep"].GetProperty("ranked_first").GetInt32());
        Assert.Equal(1.5, factors["gas"].GetProperty("mean_rank").GetDouble(), 12);
        Assert.Equal(6.0, factors["mud"].GetProperty("mean_rank").GetDouble(), 12);
        // Rank sums 3, 3, 6, 8, 10, 12 around a mean of 7: S = 68, W = 12 * 68 / (2² * (6³ - 6)) = 816 / 840.
        Assert.Equal(816.0 / 840.0, stats.GetProperty("kendall_w").GetDouble(), 12);
        Assert.All(stats.GetProperty("per_rater").EnumerateArray(), r => Assert.Equal(0, r.GetProperty("decided").GetInt32()));

        var unknown = await http.GetAsync($"/api/v1/campaigns/{Guid.NewGuid()}/rankings/stats");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
    }

    private static readonly IPreferenceEnvironment DeliveryEnv = EnvironmentRegistry.Get("delivery-gridworld");

    /// <summary>Stores a ranking as the campaign's rater (through the API, with its rater token) and returns the stored version.</summary>
    private static async Task<JsonElement> SaveRankingAsync(HttpClient http, Guid campaign, string rater, IReadOnlyList<string> factors, IReadOnlyList<double>? margins)
    {
        var response = await StudioTestApi.RankAsync(http, campaign, rater, factors, margins);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    /// <summary>The rater's decided Left/Right choices and disagreements under <paramref name="hierarchy"/>, straight from the stored rows.</summary>
    private static async Task<HierarchyConsistency> ExpectedConsistencyAsync(StudioDbContext db, Guid campaign, string raterId, FactorHierarchy hierarchy)
    {
        var labels = await db.Labels.AsNoTracking()
            .Where(l => l.CampaignId == campaign && l.RaterId == raterId && (l.Choice == PreferenceChoice.Left || l.Choice == PreferenceChoice.Right))
            .Select(l => new { l.Choice, RoundId = l.Comparison!.RoundId!.Value, l.Comparison.LeftSegmentId, l.Comparison.RightSegmentId })
            .ToListAsync();
        int decided = 0, disagreements = 0;
        foreach (var group in labels.GroupBy(l => l.RoundId))
        {
            var segments = await db.Segments.AsNoTracking().Where(s => s.RoundId == group.Key).ToListAsync();
            var factors = segments.ToDictionary(s => s.Id, s => DeliveryEnv.SegmentFactors(s.ToSegment()));
            var spreads = HeronRule.Spreads(factors.Values.ToList());
            foreach (var l in group)
            {
                if (HeronRule.Decide(DeliveryEnv, hierarchy, factors[l.LeftSegmentId], factors[l.RightSegmentId], spreads) is not { } verdict) continue;
                decided++;
                if (verdict.Choice != l.Choice) disagreements++;
            }
        }
        return new HierarchyConsistency(decided, disagreements);
    }
}
