using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.IntegrationTests.Infrastructure;
using PreferenceStudio.Web.Features.Live;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// The rating path at crowd scale, as behaviour (speed is measured by `studio bench ingest`): answers racing a round's
/// close are stored in the round or refused, never lost after acknowledgement, and the round closes once; serving
/// stays least-labelled first in a round of thousands of pairs, reading the per-pair counters the database keeps.
/// </summary>
public sealed class RatingScaleTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private StudioAppFactory _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _app = new StudioAppFactory(await postgres.CreateDatabaseAsync("scale"), StudioAppFactory.NewDataRoot("scale"));
        _http = _app.CreateClient();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Fifty_answers_racing_the_close_close_the_round_once_and_every_acknowledged_label_is_stored()
    {
        const int wanted = 60, before = 30, racing = 50;
        var campaign = await StudioTestApi.CreateCampaignAsync(_http, "edge", pairs: before + racing, labels: wanted, rounds: 2,
            extra: new Dictionary<string, object?> { ["segment_length"] = 3 });
        var closes = new ConcurrentBag<CampaignChanged>();
        void OnChanged(CampaignChanged c)
        {
            if (c.CampaignId == campaign && c.Kind == CampaignChangeKind.RoundClosed) closes.Add(c);
        }
        _app.Service<CampaignEvents>().Changed += OnChanged;
        try
        {
            await StudioTestApi.WaitForRoundAsync(_app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
            var raters = Enumerable.Range(1, before + racing).Select(i => $"edge-{i}").ToList();
            // Every rater holds a pair of their own (least-served first, so all different).
            var served = new Dictionary<string, Guid>();
            foreach (var rater in raters)
                served[rater] = (await StudioTestApi.NextAsync(_http, campaign, rater)).GetProperty("pair").GetProperty("comparison_id").GetGuid();
            Assert.Equal(raters.Count, served.Values.Distinct().Count());
            foreach (var rater in raters.Take(before))
                Assert.Equal(HttpStatusCode.OK, (await StudioTestApi.AnswerAsync(_http, campaign, served[rater], rater, "left")).StatusCode);

            // Fifty answers at once across the edge: ten of them are enough to close the round.
            var outcomes = await Task.WhenAll(raters.Skip(before).Select(async rater =>
            {
                var response = await StudioTestApi.AnswerAsync(_http, campaign, served[rater], rater, "right");
                return (Rater: rater, response.StatusCode, Body: await response.Content.ReadAsStringAsync());
            }));
            Assert.All(outcomes, o => Assert.True(o.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, $"{o.StatusCode}: {o.Body}"));
            Assert.All(outcomes.Where(o => o.StatusCode == HttpStatusCode.Conflict), o => Assert.Contains("closed", o.Body));
            var acknowledged = raters.Take(before).Concat(outcomes.Where(o => o.StatusCode == HttpStatusCode.OK).Select(o => o.Rater)).ToHashSet();

            await using var db = _app.CreateDb();
            var round = await db.Rounds.AsNoTracking().SingleAsync(r => r.CampaignId == campaign && r.Index == 0);
            Assert.NotEqual(RoundStatus.Open, round.Status);
            Assert.NotNull(round.ClosedAt);
            // Exactly the acknowledged answers are stored: none lost, none refused and kept.
            var stored = await db.Labels.AsNoTracking().Where(l => l.CampaignId == campaign)
                .Select(l => db.CampaignRaters.Where(r => r.CampaignId == campaign && r.RaterId == l.RaterId).Select(r => r.Pseudonym).First()).ToListAsync();
            Assert.Equal(acknowledged.Order(), stored.Order());
            Assert.True(stored.Count >= wanted, $"{stored.Count} labels stored, fewer than the {wanted} that close the round");
            // Closed once: one training job for the round, one close announced, and the counters agree with the rows.
            Assert.Equal(1, await db.Jobs.CountAsync(j => j.CampaignId == campaign && j.Kind == JobKind.TrainRound && j.RoundIndex == 0));
            await Task.Delay(500);
            Assert.Single(closes, c => c.RoundIndex == 0);
            Assert.Equal(stored.Count, await db.Comparisons.Where(c => c.RoundId == round.Id).SumAsync(c => c.LabelCount));
            Assert.Equal(stored.Count, (await db.Database.SqlQuery<int>($"SELECT coalesce(sum(total), 0)::int AS \"Value\" FROM round_label_counts WHERE round_id = {round.Id}").ToListAsync()).Single());
        }
        finally
        {
            _app.Service<CampaignEvents>().Changed -= OnChanged;
        }
    }

    [Fact]
    public async Task In_a_round_of_five_thousand_pairs_the_least_labelled_pairs_are_served_first()
    {
        var campaign = await StudioTestApi.CreateCampaignAsync(_http, "fair", pairs: 4, labels: 20, rounds: 1,
            extra: new Dictionary<string, object?> { ["segment_length"] = 3 });
        await StudioTestApi.WaitForRoundAsync(_app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        var unlabelled = new HashSet<Guid>();
        await using (var db = _app.CreateDb())
        {
            var round = await db.Rounds.AsNoTracking().SingleAsync(r => r.CampaignId == campaign && r.Index == 0);
            // 5,000 more pairs in the round (copies of a rendered one), each labelled once except every 500th; the four
            // made by the round are unlabelled too. The round wants far more labels than it gets here
            // (set first: the round is checked every few seconds, and would close on the seeded labels).
            await db.Database.ExecuteSqlAsync($"UPDATE campaigns SET labels_per_round = 1000000 WHERE id = {campaign}");
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO comparisons (id, campaign_id, round_id, round_index, ordinal, left_segment_id, right_segment_id,
                    left_clip_id, right_clip_id, policy_id, created_at, is_held_out)
                SELECT gen_random_uuid(), c.campaign_id, c.round_id, c.round_index, 1000 + g, c.left_segment_id, c.right_segment_id,
                    c.left_clip_id, c.right_clip_id, c.policy_id, now(), false
                FROM (SELECT * FROM comparisons WHERE round_id = {round.Id} AND NOT is_held_out ORDER BY ordinal LIMIT 1) c, generate_series(1, 5000) g
                """);
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO labels (id, comparison_id, campaign_id, choice, idempotency_key, source, created_at)
                SELECT gen_random_uuid(), id, campaign_id, 'Left', 'seed:' || id, 'import', now()
                FROM comparisons WHERE round_id = {round.Id} AND ordinal >= 1000 AND (ordinal - 1000) % 500 <> 0
                """);
            await db.Database.ExecuteSqlAsync($"ANALYZE comparisons");
            unlabelled = (await db.Comparisons.AsNoTracking().Where(c => c.RoundId == round.Id && c.Gold == null && c.LabelCount == 0)
                .Select(c => c.Id).ToListAsync()).ToHashSet();
            Assert.Equal(5000 / 500 + 4, unlabelled.Count);
            Assert.Equal(5000 - 5000 / 500, await db.Comparisons.Where(c => c.RoundId == round.Id).SumAsync(c => c.LabelCount));
        }

        // Two raters take turns: every pair served is one nobody has answered until those run out, and neither is
        // served a pair the other holds while unanswered ones remain (least-served next).
        var servedPairs = new List<Guid>();
        for (int i = 0; i < unlabelled.Count; i++)
        {
            var rater = i % 2 == 0 ? "fair-a" : "fair-b";
            var pair = (await StudioTestApi.NextAsync(_http, campaign, rater)).GetProperty("pair").GetProperty("comparison_id").GetGuid();
            servedPairs.Add(pair);
            Assert.Equal(HttpStatusCode.OK, (await StudioTestApi.AnswerAsync(_http, campaign, pair, rater, "left")).StatusCode);
        }
        Assert.All(servedPairs, p => Assert.Contains(p, unlabelled));
        Assert.Equal(unlabelled.Count, servedPairs.Distinct().Count());
        // Then the once-labelled ones.
        var after = (await StudioTestApi.NextAsync(_http, campaign, "fair-a")).GetProperty("pair").GetProperty("comparison_id").GetGuid();
        Assert.DoesNotContain(after, unlabelled);
    }
}
