using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>Answers are stored once, only for pairs served to that rater, only while the round is open.
/// The shared campaign wants 3 labels a round and the tests that use it give at most 1, so its round stays open.</summary>
public sealed class RatingApiTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private StudioAppFactory _app = null!;
    private HttpClient _http = null!;
    private Guid _campaign;

    public async Task InitializeAsync()
    {
        _app = new StudioAppFactory(await postgres.CreateDatabaseAsync("rating"), StudioAppFactory.NewDataRoot("rating"));
        _http = _app.CreateClient();
        _campaign = await StudioTestApi.CreateCampaignAsync(_http, "rating", pairs: 4, labels: 3, rounds: 2);
        await StudioTestApi.WaitForRoundAsync(_app.ConnectionString, _campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(90));
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task A_resent_answer_is_stored_once()
    {
        var next = await StudioTestApi.NextAsync(_http, _campaign, "r-resend");
        var comparison = next.GetProperty("pair").GetProperty("comparison_id").GetGuid();
        var first = await StudioTestApi.AnswerAsync(_http, _campaign, comparison, "r-resend", "left", "key-1");
        var again = await StudioTestApi.AnswerAsync(_http, _campaign, comparison, "r-resend", "left", "key-1");
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.False((await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
        Assert.True((await again.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());

        // A second answer to the same pair under a new key is refused too: one answer per rater and pair.
        var other = await StudioTestApi.AnswerAsync(_http, _campaign, comparison, "r-resend", "right", "key-2");
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);
        Assert.Contains("already answered", (await ProblemAsync(other)).GetProperty("detail").GetString());

        await using var db = _app.CreateDb();
        var labels = await db.Labels.Where(l => l.ComparisonId == comparison).ToListAsync();
        var label = Assert.Single(labels);
        Assert.Equal(await StudioTestApi.RaterIdAsync(db, _campaign, "r-resend"), label.RaterId);
        Assert.NotNull(label.ShownAt);
        Assert.True(label.AnsweredAt >= label.ShownAt);
        Assert.NotNull(label.ResponseMilliseconds);
    }

    [Fact]
    public async Task A_pair_never_served_to_the_rater_is_refused()
    {
        var next = await StudioTestApi.NextAsync(_http, _campaign, "r-served");
        var comparison = next.GetProperty("pair").GetProperty("comparison_id").GetGuid();
        var response = await StudioTestApi.AnswerAsync(_http, _campaign, comparison, "r-never-served", "left");
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("never served", (await ProblemAsync(response)).GetProperty("detail").GetString());
        await using var db = _app.CreateDb();
        var neverServed = await StudioTestApi.RaterIdAsync(db, _campaign, "r-never-served");
        Assert.False(await db.Labels.AnyAsync(l => l.RaterId == neverServed));
    }

    [Fact]
    public async Task Bad_requests_get_problem_details_that_say_what_to_fix()
    {
        var unknown = await StudioTestApi.AnswerAsync(_http, _campaign, Guid.NewGuid(), "r-x1", "left");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("has no comparison", (await ProblemAsync(unknown)).GetProperty("detail").GetString());

        var badChoice = await StudioTestApi.AsRaterAsync(_http, _campaign, "r-x1", new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{_campaign}/labels")
        {
            Content = JsonContent.Create(new { comparison_id = Guid.NewGuid(), choice = "sideways", idempotency_key = "k" }),
        });
        Assert.Equal(HttpStatusCode.BadRequest, badChoice.StatusCode);
        await ProblemAsync(badChoice);

        var missingCampaign = await _http.GetAsync($"/api/v1/campaigns/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, missingCampaign.StatusCode);
        await ProblemAsync(missingCampaign);
    }

    [Fact]
    public async Task Labels_for_a_closed_round_are_refused()
    {
        // A campaign of its own, so closing its round cannot disturb the other tests: 2 labels close round 1.
        var campaign = await StudioTestApi.CreateCampaignAsync(_http, "closing", pairs: 4, labels: 2, rounds: 1);
        await StudioTestApi.WaitForRoundAsync(_app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(90));
        var late = await StudioTestApi.NextAsync(_http, campaign, "r-late");
        var lateComparison = late.GetProperty("pair").GetProperty("comparison_id").GetGuid();
        for (int i = 0; i < 2; i++)
        {
            var state = await StudioTestApi.NextAsync(_http, campaign, $"r-closer{i}");
            var id = state.GetProperty("pair").GetProperty("comparison_id").GetGuid();
            Assert.Equal(HttpStatusCode.OK, (await StudioTestApi.AnswerAsync(_http, campaign, id, $"r-closer{i}", "equal")).StatusCode);
        }
        await using (var db = _app.CreateDb())
            Assert.NotEqual(RoundStatus.Open, (await db.Rounds.FirstAsync(r => r.CampaignId == campaign && r.Index == 0)).Status);

        var refused = await StudioTestApi.AnswerAsync(_http, campaign, lateComparison, "r-late", "right");
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Contains("closed", (await ProblemAsync(refused)).GetProperty("detail").GetString());
        await using var check = _app.CreateDb();
        var lateId = await StudioTestApi.RaterIdAsync(check, campaign, "r-late");
        Assert.False(await check.Labels.AnyAsync(l => l.RaterId == lateId));
        Assert.Equal(2, await check.Labels.CountAsync(l => l.CampaignId == campaign));
    }
}
