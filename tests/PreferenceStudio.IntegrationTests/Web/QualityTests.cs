using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Teachers;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// Rater quality on the real stack: k raters per pair under concurrent raters, serving leases, gold pairs (practice with
/// feedback, scored, never repeated, flagging and leaving a rater out of training), agreement statistics against values
/// worked by hand, and reliability estimated inside the round's reward model.
/// </summary>
public sealed class QualityTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private StudioAppFactory _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _app = new StudioAppFactory(await postgres.CreateDatabaseAsync("quality"), StudioAppFactory.NewDataRoot("quality"));
        _http = _app.CreateClient();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static Dictionary<string, object?> Settings(params (string Key, object? Value)[] values) => values.ToDictionary(v => v.Key, v => v.Value);

    private Task<HttpResponseMessage> Answer(Guid campaign, string rater, Guid comparison, string choice) =>
        StudioTestApi.AnswerAsync(_http, campaign, comparison, rater, choice, key: $"{rater}:{comparison:N}:{Guid.NewGuid():N}");

    private async Task<RoundStatus> RoundStatusAsync(Guid campaign)
    {
        await using var db = _app.CreateDb();
        return await db.Rounds.AsNoTracking().Where(r => r.CampaignId == campaign && r.Index == 0).Select(r => r.Status).FirstAsync();
    }

    /// <summary>What a simulated teacher of <paramref name="preset"/> answers to a served pair (from its segments in the database).</summary>
    private async Task<string> TeacherAnswerAsync(Guid comparison, SimulatedTeacher teacher)
    {
        await using var db = _app.CreateDb();
        var pair = await db.Comparisons.AsNoTracking().Where(c => c.Id == comparison).Select(c => new { L = c.LeftSegment!, R = c.RightSegment! }).FirstAsync();
        var env = EnvironmentRegistry.Get("delivery-gridworld");
        return (teacher.Answer(env, pair.L.ToSegment(), pair.R.ToSegment()) ?? PreferenceChoice.Incomparable).ToString().ToLowerInvariant();
    }

    [Fact]
    public async Task With_three_raters_per_pair_twenty_concurrent_raters_answer_no_pair_more_than_three_times_and_leave_none_unanswered()
    {
        var campaign = await StudioTestApi.CreateCampaignAsync(_http, "k3", pairs: 8, labels: 24, rounds: 2,
            extra: Settings(("labels_per_pair", 3)));
        await StudioTestApi.WaitForRoundAsync(_app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        var raters = Enumerable.Range(1, 20).Select(i => $"crowd-{i}").ToList();
        foreach (var r in raters) await StudioTestApi.RaterTokenAsync(_http, campaign, r);

        int refused = 0;
        var work = raters.Select(async rater =>
        {
            for (int i = 0; i < 10; i++)
            {
                var response = await StudioTestApi.AsRaterAsync(_http, campaign, rater, new HttpRequestMessage(HttpMethod.Get, $"/api/v1/campaigns/{campaign}/next"));
                var state = await response.Content.ReadFromJsonAsync<JsonElement>();
                if (state.GetProperty("status").GetString() != "ready" || state.GetProperty("round").GetInt32() != 0) return;
                var answer = await Answer(campaign, rater, state.GetProperty("pair").GetProperty("comparison_id").GetGuid(), i % 2 == 0 ? "left" : "right");
                if (answer.StatusCode == HttpStatusCode.Conflict) Interlocked.Increment(ref refused);
                else Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
            }
        });
        await Task.WhenAll(work);

        await using var db = _app.CreateDb();
        var round = await db.Rounds.AsNoTracking().SingleAsync(r => r.CampaignId == campaign && r.Index == 0);
        var perPair = await db.Comparisons.AsNoTracking().Where(x => x.RoundId == round.Id && x.Gold == null)
            .Select(x => x.Labels.Count).ToListAsync();
        Assert.Equal(8, perPair.Count);
        Assert.All(perPair, n => Assert.Equal(3, n));
        Assert.NotEqual(RoundStatus.Open, round.Status);
        // Servings were held for at most three raters at once, so answers were not refused for a full pair.
        Assert.Equal(0, refused);
    }

    [Fact]
    public async Task An_abandoned_serving_is_offered_again_after_its_lease_and_the_late_answer_is_refused()
    {
        var campaign = await StudioTestApi.CreateCampaignAsync(_http, "lease", pairs: 2, labels: 2, rounds: 1,
            extra: Settings(("labels_per_pair", 1), ("serving_lease_seconds", 10)));
        await StudioTestApi.WaitForRoundAsync(_app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        var a = await StudioTestApi.NextAsync(_http, campaign, "walks-away");
        var b = await StudioTestApi.NextAsync(_http, campaign, "second");
        var held = a.GetProperty("pair").GetProperty("comparison_id").GetGuid();
        Assert.NotEqual(held, b.GetProperty("pair").GetProperty("comparison_id").GetGuid());
        // Both pairs are held by someone: a third rater has to wait.
        Assert.Equal("round_done_for_rater", (await StudioTestApi.NextAsync(_http, campaign, "third")).GetProperty("status").GetString());

        await Task.Delay(TimeSpan.FromSeconds(11));
        var third = await StudioTestApi.NextAsync(_http, campaign, "third");
        Assert.Equal(held, third.GetProperty("pair").GetProperty("comparison_id").GetGuid());
        Assert.Equal(HttpStatusCode.OK, (await Answer(campaign, "third", held, "left")).StatusCode);
        var late = await Answer(campaign, "walks-away", held, "right");
        Assert.Equal(HttpStatusCode.Conflict, late.StatusCode);
        Assert.Contains("all the answers it needs (1)", await late.Content.ReadAsStringAsync());
        await using (var db = _app.CreateDb())
            Assert.Equal(1, await db.Labels.CountAsync(l => l.ComparisonId == held));

        // The other pair's serving ran out too: the rater who walked away is given it. Its first rater, back, is not
        // given it again while another holds it (a lapsed serving is renewed only while the pair has room).
        var other = b.GetProperty("pair").GetProperty("comparison_id").GetGuid();
        Assert.Equal(other, (await StudioTestApi.NextAsync(_http, campaign, "walks-away")).GetProperty("pair").GetProperty("comparison_id").GetGuid());
        Assert.Equal("round_done_for_rater", (await StudioTestApi.NextAsync(_http, campaign, "second")).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Gold_pairs_are_practised_with_feedback_scored_never_repeated_and_a_rater_below_the_bar_is_left_out_of_training()
    {
        var campaign = await StudioTestApi.CreateCampaignAsync(_http, "gold", pairs: 12, labels: 30, rounds: 1, extra: Settings(
            ("segment_length", 6), ("gold_from_true_reward", true), ("gold_pairs_per_round", 5), ("gold_rate", 0.5), ("practice_gold_pairs", 2),
            ("min_gold_accuracy", 0.8), ("exclude_flagged_raters", true), ("rater_weighting", "reliability")));
        await StudioTestApi.WaitForRoundAsync(_app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        await using (var db = _app.CreateDb())
        {
            var gold = await db.Comparisons.AsNoTracking().Where(x => x.CampaignId == campaign && x.Gold != null)
                .Select(x => new { x.Gold, x.GoldSource, L = x.LeftSegment!.TrueReturn, R = x.RightSegment!.TrueReturn }).ToListAsync();
            Assert.Equal(5, gold.Count);
            // Each answer is the true reward's, with the returns clearly apart.
            Assert.All(gold, g =>
            {
                Assert.Equal(GoldSources.TrueReward, g.GoldSource);
                Assert.Equal(g.R > g.L ? PreferenceChoice.Right : PreferenceChoice.Left, g.Gold);
            });
        }

        var oracle = SimulatedTeacher.Create("oracle", 1, 1);
        var adversary = SimulatedTeacher.Create("adversarial", 1, 1);
        // Answers as `teacher` (as `practiceTeacher` while the page says "practice") until the round has no pair for
        // the rater, `answers` answers are given, or `goldWanted` gold pairs beyond practice are answered (gold is
        // served at random, so a rater keeps asking until it comes).
        async Task<List<JsonElement>> RateAsync(string rater, SimulatedTeacher teacher, int answers, int goldWanted = 0, SimulatedTeacher? practiceTeacher = null)
        {
            var receipts = new List<JsonElement>();
            int gold = 0;
            for (int asked = 0; asked < 80 && receipts.Count < answers && (goldWanted == 0 || gold < goldWanted); asked++)
            {
                var state = await StudioTestApi.NextAsync(_http, campaign, rater);
                if (state.GetProperty("status").GetString() != "ready")
                {
                    if (goldWanted > 0) continue;
                    break;
                }
                var pair = state.GetProperty("pair");
                var id = pair.GetProperty("comparison_id").GetGuid();
                bool practice = pair.GetProperty("practice").GetBoolean();
                var response = await Answer(campaign, rater, id, await TeacherAnswerAsync(id, practice && practiceTeacher is not null ? practiceTeacher : teacher));
                Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
                var receipt = await response.Content.ReadFromJsonAsync<JsonElement>();
                receipts.Add(JsonDocument.Parse($"{{\"served_practice\": {practice.ToString().ToLowerInvariant()}, \"receipt\": {receipt}}}").RootElement);
                await using var db = _app.CreateDb();
                if (!practice && await db.Comparisons.AnyAsync(x => x.Id == id && x.Gold != null)) gold++;
            }
            Assert.True(goldWanted == 0 || gold == goldWanted, $"{rater} was served {gold} gold pairs beyond practice, not {goldWanted}");
            return receipts;
        }
        // A learner gets both practice pairs wrong, is told so, then answers carefully: practice does not count
        // against them. Three gold answers beyond practice are what a flag needs.
        var careful = await RateAsync("careful", oracle, 40, goldWanted: 3, practiceTeacher: adversary);
        var backwards = await RateAsync("backwards", adversary, 40, goldWanted: 3);

        // The first two servings are practice gold, answered with feedback; later gold is not announced.
        foreach (var (receipts, matched) in new[] { (careful, false), (backwards, false) })
        {
            Assert.True(receipts[0].GetProperty("served_practice").GetBoolean() && receipts[1].GetProperty("served_practice").GetBoolean());
            Assert.All(receipts.Take(2), r => Assert.Equal(matched, r.GetProperty("receipt").GetProperty("practice").GetProperty("matched").GetBoolean()));
            Assert.All(receipts.Skip(2), r =>
            {
                Assert.False(r.GetProperty("served_practice").GetBoolean());
                Assert.Equal(JsonValueKind.Null, r.GetProperty("receipt").GetProperty("practice").ValueKind);
            });
        }
        await using (var db = _app.CreateDb())
        {
            foreach (var name in new[] { "careful", "backwards" })
            {
                var id = await StudioTestApi.RaterIdAsync(db, campaign, name);
                var gold = await db.Assignments.AsNoTracking().Where(a => a.RaterId == id && a.Comparison!.Gold != null).Select(a => a.ComparisonId).ToListAsync();
                Assert.Equal(5, gold.Count);
                Assert.Equal(gold.Count, gold.Distinct().Count());
            }
        }

        var quality = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/quality");
        JsonElement Rater(string name) => quality.GetProperty("raters").EnumerateArray().Single(r => r.GetProperty("rater").GetString() == name);
        Assert.Equal(1.0, Rater("careful").GetProperty("gold_accuracy").GetDouble());
        Assert.Equal(3, Rater("careful").GetProperty("gold_answers").GetInt32());
        Assert.False(Rater("careful").GetProperty("flagged").GetBoolean());
        Assert.Equal(3, Rater("backwards").GetProperty("gold_answers").GetInt32());
        Assert.Equal(0.0, Rater("backwards").GetProperty("gold_accuracy").GetDouble());
        Assert.True(Rater("backwards").GetProperty("flagged").GetBoolean());
        Assert.True(Rater("backwards").GetProperty("excluded_from_training").GetBoolean());

        // The raters table counts in the database what the report counts in memory: the same numbers, rater by rater.
        var table = Path.Combine(Path.GetTempPath(), $"raters-{Guid.NewGuid():N}.parquet");
        await File.WriteAllBytesAsync(table, await _http.GetByteArrayAsync($"/api/v1/campaigns/{campaign}/export?format=parquet&kind=raters"));
        using (var duck = new DuckDB.NET.Data.DuckDBConnection("DataSource=:memory:"))
        {
            duck.Open();
            using var command = duck.CreateCommand();
            command.CommandText = $"SELECT rater, labels, gold_answers, gold_accuracy, flagged, excluded_from_training FROM read_parquet('{table}')";
            using var reader = command.ExecuteReader();
            int rows = 0;
            while (reader.Read())
            {
                var expected = Rater(reader.GetString(0));
                Assert.Equal(expected.GetProperty("labels").GetInt32(), Convert.ToInt32(reader.GetValue(1)));
                Assert.Equal(expected.GetProperty("gold_answers").GetInt32(), Convert.ToInt32(reader.GetValue(2)));
                Assert.Equal(expected.GetProperty("gold_accuracy").GetDouble(), reader.GetDouble(3));
                Assert.Equal(expected.GetProperty("flagged").GetBoolean(), reader.GetBoolean(4));
                Assert.Equal(expected.GetProperty("excluded_from_training").GetBoolean(), reader.GetBoolean(5));
                rows++;
            }
            Assert.Equal(quality.GetProperty("raters").GetArrayLength(), rows);
        }
        File.Delete(table);
        Assert.Equal(5, quality.GetProperty("gold_pairs").GetInt32());

        // A researcher keeps the flagged rater in after all, then changes their mind; an unknown rater is a 404.
        Assert.Equal(HttpStatusCode.NoContent, (await _http.PutAsJsonAsync($"/api/v1/campaigns/{campaign}/raters/backwards/training", new { include = true })).StatusCode);
        Assert.False((await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/quality")).GetProperty("raters").EnumerateArray()
            .Single(r => r.GetProperty("rater").GetString() == "backwards").GetProperty("excluded_from_training").GetBoolean());
        Assert.Equal(HttpStatusCode.NoContent, (await _http.PutAsJsonAsync($"/api/v1/campaigns/{campaign}/raters/backwards/training", new { include = (bool?)null })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.PutAsJsonAsync($"/api/v1/campaigns/{campaign}/raters/nobody/training", new { include = true })).StatusCode);

        // The rest of the round from careful raters; the round trains without the flagged rater and estimates reliability.
        for (int i = 0; i < 6 && await RoundStatusAsync(campaign) == RoundStatus.Open; i++) await RateAsync($"careful-{i}", oracle, 40);
        await StudioTestApi.WaitForRoundAsync(_app.ConnectionString, campaign, 0, RoundStatus.Completed, TimeSpan.FromSeconds(180));
        await using (var db = _app.CreateDb())
        {
            var run = await db.RewardModelRuns.AsNoTracking().SingleAsync(r => r.CampaignId == campaign && r.Status == RunStatus.Succeeded);
            using var metrics = JsonDocument.Parse(run.Metrics!);
            var reliability = metrics.RootElement.GetProperty("rater_reliability");
            Assert.False(reliability.TryGetProperty("backwards", out _), "the flagged rater's labels trained the model");
            Assert.True(reliability.GetProperty("careful").GetDouble() > 0.7, reliability.ToString());
            // Neither the flagged rater's labels nor anyone's practice answers (each rater's first two gold) trained it.
            var backwardsId = await StudioTestApi.RaterIdAsync(db, campaign, "backwards");
            int trainable = await db.Labels.CountAsync(l => l.CampaignId == campaign && l.RaterId != backwardsId && !l.Comparison!.IsHeldOut);
            int practice = (await db.Labels.Where(l => l.CampaignId == campaign && l.RaterId != backwardsId && l.Comparison!.Gold != null)
                .GroupBy(l => l.RaterId).Select(g => g.Count()).ToListAsync()).Sum(n => Math.Min(n, 2));
            Assert.True(practice >= 4, $"{practice} practice answers");
            Assert.Equal(trainable - practice, run.NTrain);
        }

        // Gold marked by hand: a researcher fixes the answer of an ordinary pair; a bad answer is refused by field.
        var candidates = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/gold");
        var ordinary = candidates.EnumerateArray().First(c => c.GetProperty("gold").ValueKind == JsonValueKind.Null && !c.GetProperty("held_out").GetBoolean())
            .GetProperty("comparison_id").GetGuid();
        // A held-out pair measures the models; it cannot be made gold.
        var heldOut = candidates.EnumerateArray().First(c => c.GetProperty("held_out").GetBoolean()).GetProperty("comparison_id").GetGuid();
        Assert.Equal(HttpStatusCode.Conflict, (await _http.PutAsJsonAsync($"/api/v1/campaigns/{campaign}/comparisons/{heldOut}/gold", new { answer = "left" })).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _http.PutAsJsonAsync($"/api/v1/campaigns/{campaign}/comparisons/{ordinary}/gold", new { answer = "equal" })).StatusCode);
        var bad = await _http.PutAsJsonAsync($"/api/v1/campaigns/{campaign}/comparisons/{ordinary}/gold", new { answer = "better" });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("answer", out _));
        await using (var db = _app.CreateDb())
        {
            var marked = await db.Comparisons.AsNoTracking().SingleAsync(x => x.Id == ordinary);
            Assert.Equal((PreferenceChoice?)PreferenceChoice.Equal, marked.Gold);
            Assert.Equal(GoldSources.Researcher, marked.GoldSource);
        }
        // Gold answers travel with the dataset.
        var export = await _http.GetStringAsync($"/api/v1/campaigns/{campaign}/export?format=jsonl");
        Assert.Contains("\"gold\":\"equal\"", export);
    }

    [Fact]
    public async Task Agreement_and_rater_statistics_match_values_worked_by_hand()
    {
        var campaign = await StudioTestApi.CreateCampaignAsync(_http, "agree", pairs: 3, labels: 12, rounds: 1);
        await StudioTestApi.WaitForRoundAsync(_app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        List<Guid> order;
        await using (var db = _app.CreateDb())
            order = await db.Comparisons.AsNoTracking().Where(x => x.CampaignId == campaign).OrderBy(x => x.Ordinal).Select(x => x.Id).ToListAsync();
        Assert.Equal(3, order.Count);
        // Three raters, each pair answered the same whatever order the studio serves them in:
        //        pair0  pair1  pair2
        //   x    left   left   right
        //   y    left   right  right
        //   z    left   left   left
        var table = new Dictionary<string, string[]>
        {
            ["x"] = ["left", "left", "right"],
            ["y"] = ["left", "right", "right"],
            ["z"] = ["left", "left", "left"],
        };
        foreach (var (rater, answers) in table)
            for (int i = 0; i < 3; i++)
            {
                var state = await StudioTestApi.NextAsync(_http, campaign, rater);
                var id = state.GetProperty("pair").GetProperty("comparison_id").GetGuid();
                Assert.Equal(HttpStatusCode.OK, (await Answer(campaign, rater, id, answers[order.IndexOf(id)])).StatusCode);
            }

        var quality = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/quality");
        // Units [L L L], [L R L], [R R L]: alpha and kappa worked out below the test.
        var campaignAgreement = quality.GetProperty("campaign");
        Assert.Equal(3, campaignAgreement.GetProperty("pairs_with_several_labels").GetInt32());
        Assert.Equal(ExpectedAlpha, campaignAgreement.GetProperty("krippendorff_alpha").GetDouble(), 9);
        Assert.Equal(ExpectedKappa, campaignAgreement.GetProperty("fleiss_kappa").GetDouble(), 9);

        JsonElement Rater(string name) => quality.GetProperty("raters").EnumerateArray().Single(r => r.GetProperty("rater").GetString() == name);
        // Left-choice rate over decisive answers: x 2/3, y 1/3, z 3/3.
        Assert.Equal(2.0 / 3, Rater("x").GetProperty("left_choice_rate").GetDouble(), 9);
        Assert.Equal(1.0 / 3, Rater("y").GetProperty("left_choice_rate").GetDouble(), 9);
        Assert.Equal(1.0, Rater("z").GetProperty("left_choice_rate").GetDouble(), 9);
        // Leave-one-out majority: pair0 all match; pair1 (x L, y R, z L): x's others y R, z L tie; y's others L L: miss;
        // z's others L R tie; pair2 (x R, y R, z L): x's others R L tie, y's others R L tie, z's others R R: miss.
        Assert.Equal(1.0, Rater("x").GetProperty("majority_agreement").GetDouble(), 9);
        Assert.Equal(1, Rater("x").GetProperty("majority_compared").GetInt32());
        Assert.Equal(0.5, Rater("y").GetProperty("majority_agreement").GetDouble(), 9);
        Assert.Equal(0.5, Rater("z").GetProperty("majority_agreement").GetDouble(), 9);
        // Scripted raters answer at once: every answer is faster than the 1 s threshold.
        Assert.Equal(1.0, Rater("x").GetProperty("fast_answer_share").GetDouble(), 9);
    }

    // Units [L L L], [L R L], [R R L] (m = 3, each ordered pair weighted 1/2):
    //   u0: o_LL += 6/2 = 3; u1: L-L pairs 2 -> o_LL += 1, L-R pairs 4 -> o_LR = o_RL += 1 each;
    //   u2: R-R pairs 2 -> o_RR += 1, R-L pairs 4 -> o_LR = o_RL += 1 each.
    //   o_LL = 4, o_RR = 1, o_LR = o_RL = 2; n_L = 6, n_R = 3, n = 9. D_o = 4/9, D_e = 2 * 6 * 3 / (9 * 8) = 1/2.
    private const double ExpectedAlpha = 1 - (4.0 / 9) / 0.5;
    // P_i = 1, 1/3, 1/3 -> P_bar = 5/9; shares 6/9 and 3/9 -> P_e = 5/9; kappa = 0.
    private const double ExpectedKappa = 0.0;
}
