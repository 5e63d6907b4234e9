using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Teachers;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>Small helpers that drive the studio through its public HTTP API, as a script or a simulated rater would.</summary>
public static class StudioTestApi
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <param name="extra">More settings (snake_case JSON names), added to or replacing the defaults here.</param>
    public static async Task<Guid> CreateCampaignAsync(HttpClient http, string name, int pairs, int labels, int rounds, int seed = 1, bool start = true,
        IReadOnlyDictionary<string, object?>? extra = null)
    {
        var body = new Dictionary<string, object?>
        {
            ["name"] = name, ["environment"] = "delivery-gridworld", ["board"] = "standard", ["segment_length"] = 3,
            ["pairs_per_round"] = pairs, ["labels_per_round"] = labels, ["rounds"] = rounds, ["seed"] = seed,
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, object?>()) body[k] = v;
        var response = await http.PostAsJsonAsync("/api/v1/campaigns", body);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        if (start) Assert.Equal(HttpStatusCode.NoContent, (await http.PostAsync($"/api/v1/campaigns/{id}/start", null)).StatusCode);
        return id;
    }

    public static async Task<JsonElement> NextAsync(HttpClient http, Guid campaign, string rater)
    {
        var response = await http.GetAsync($"/api/v1/campaigns/{campaign}/next?rater={rater}");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static Task<HttpResponseMessage> AnswerAsync(HttpClient http, Guid campaign, Guid comparison, string rater, string choice, string? key = null) =>
        http.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/labels", new
        {
            comparison_id = comparison, rater_id = rater, choice, idempotency_key = key ?? $"{rater}:{comparison:N}",
        });

    /// <summary>Waits until the campaign's current round is open (or the campaign has ended), polling the database.</summary>
    public static async Task<Round> WaitForRoundAsync(string connectionString, Guid campaign, int index, RoundStatus status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            await using var db = StudioDbContext.Create(connectionString);
            var round = await db.Rounds.AsNoTracking().FirstOrDefaultAsync(r => r.CampaignId == campaign && r.Index == index);
            if (round is not null && round.Status == status) return round;
            var c = await db.Campaigns.AsNoTracking().FirstAsync(x => x.Id == campaign);
            if (c.Status == CampaignStatus.Failed) Assert.Fail($"Campaign failed: {c.StatusMessage}");
            if (round?.Status == RoundStatus.Failed) Assert.Fail($"Round {index + 1} failed: {round.Error}");
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"Round {index + 1} did not reach {status} within {timeout} (it is {round?.Status.ToString() ?? "not created"}).");
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// Answers pairs of the open round as a simulated oracle rater until the round has <paramref name="count"/> labels
    /// from this rater or nothing is left to answer. Returns how many were answered.
    /// </summary>
    public static async Task<int> AnswerAsOracleAsync(string connectionString, HttpClient http, Guid campaign, string rater, int count,
        string environment = "delivery-gridworld")
    {
        var env = EnvironmentRegistry.Get(environment);
        var teacher = SimulatedTeacher.Create("oracle", 1.0, seed: 7);
        int answered = 0;
        while (answered < count)
        {
            var state = await NextAsync(http, campaign, rater);
            if (state.GetProperty("status").GetString() != "ready") break;
            var comparisonId = state.GetProperty("pair").GetProperty("comparison_id").GetGuid();
            await using var db = StudioDbContext.Create(connectionString);
            var pair = await db.Comparisons.AsNoTracking().Where(c => c.Id == comparisonId)
                .Select(c => new { L = c.LeftSegment!, R = c.RightSegment! }).FirstAsync();
            var choice = teacher.Answer(env, pair.L.ToSegment(), pair.R.ToSegment()) ?? PreferenceChoice.Incomparable;
            var response = await AnswerAsync(http, campaign, comparisonId, rater, choice.ToString().ToLowerInvariant());
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            answered++;
        }
        return answered;
    }
}
