using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Teachers;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// Small helpers that drive the studio through its public HTTP API, as a script or a simulated rater would. A rater
/// is named by the pseudonym a test chooses; the first use asks the campaign (with the researcher's client) for a
/// scripted rater of that name and keeps its rater token, which every later request of that rater sends.
/// </summary>
public static class StudioTestApi
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(Guid Campaign, string Rater), string> RaterTokens = new();

    /// <summary>The rater token of the campaign's scripted rater <paramref name="rater"/>, made with <paramref name="http"/> (a researcher's client) on first use.</summary>
    public static async Task<string> RaterTokenAsync(HttpClient http, Guid campaign, string rater)
    {
        if (RaterTokens.TryGetValue((campaign, rater), out var token)) return token;
        var response = await http.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/raters",
            new { pseudonyms = new[] { rater }, kind = rater.StartsWith("sim-", StringComparison.Ordinal) ? "simulated" : "scripted" });
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("raters")[0].GetProperty("token").GetString()!;
        return RaterTokens.GetOrAdd((campaign, rater), token);
    }

    /// <summary>Sends <paramref name="request"/> as the campaign's rater <paramref name="rater"/> (with its rater token).</summary>
    public static async Task<HttpResponseMessage> AsRaterAsync(HttpClient http, Guid campaign, string rater, HttpRequestMessage request)
    {
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", await RaterTokenAsync(http, campaign, rater));
        return await http.SendAsync(request);
    }

    /// <summary>The internal id behind a rater's pseudonym in a campaign (what labels and rankings rows hold).</summary>
    public static async Task<string> RaterIdAsync(StudioDbContext db, Guid campaign, string pseudonym) =>
        await db.CampaignRaters.Where(r => r.CampaignId == campaign && r.Pseudonym == pseudonym).Select(r => r.RaterId).SingleAsync();

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
        var response = await AsRaterAsync(http, campaign, rater, new HttpRequestMessage(HttpMethod.Get, $"/api/v1/campaigns/{campaign}/next"));
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static Task<HttpResponseMessage> AnswerAsync(HttpClient http, Guid campaign, Guid comparison, string rater, string choice, string? key = null) =>
        AsRaterAsync(http, campaign, rater, new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{campaign}/labels")
        {
            Content = JsonContent.Create(new { comparison_id = comparison, choice, idempotency_key = key ?? $"{rater}:{comparison:N}" }),
        });

    /// <summary>Stores a factor ranking as the campaign's rater <paramref name="rater"/>.</summary>
    public static Task<HttpResponseMessage> RankAsync(HttpClient http, Guid campaign, string rater, IReadOnlyList<string>? factors, IReadOnlyList<double>? margins) =>
        AsRaterAsync(http, campaign, rater, new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{campaign}/rankings")
        {
            Content = JsonContent.Create(new { factors, margins }),
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
    /// A started one-round campaign of <paramref name="pairs"/> delivery pairs (as many labels), its round open, and
    /// <paramref name="answers"/> of them answered by the oracle rater <paramref name="rater"/>.
    /// </summary>
    public static async Task<Guid> AnsweredCampaignAsync(HttpClient http, string connectionString, string name, int pairs, string rater, int answers, int seed)
    {
        var campaign = await CreateCampaignAsync(http, name, pairs: pairs, labels: pairs, rounds: 1, seed: seed);
        await WaitForRoundAsync(connectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(90));
        Assert.Equal(answers, await AnswerAsOracleAsync(connectionString, http, campaign, rater, answers));
        return campaign;
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
