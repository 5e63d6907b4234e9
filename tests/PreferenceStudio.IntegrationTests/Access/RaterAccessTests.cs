using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.IntegrationTests.Infrastructure;
using PreferenceStudio.IntegrationTests.Web;

namespace PreferenceStudio.IntegrationTests.Access;

/// <summary>
/// Who may join a campaign (invite links, a maximum of raters), how raters are named outside the studio
/// (pseudonyms), erasing a rater's data, and researchers working together (members, roles, visibility).
/// </summary>
public sealed class RaterAccessTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private StudioAppFactory _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _app = new StudioAppFactory(await postgres.CreateDatabaseAsync("rater_access"), StudioAppFactory.NewDataRoot("rater_access"));
        _http = _app.CreateClient();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private static string? Refusal(HttpResponseMessage join) =>
        join.Headers.Location?.ToString() is { } l && l.Contains("refused=") ? l[(l.IndexOf("refused=", StringComparison.Ordinal) + 8)..] : null;

    private async Task<int> RaterCountAsync(Guid campaign)
    {
        await using var db = _app.CreateDb();
        return await db.CampaignRaters.CountAsync(r => r.CampaignId == campaign && r.Kind == RaterKinds.Human);
    }

    [Fact]
    public async Task An_invite_only_campaign_admits_one_person_per_personal_link()
    {
        var campaign = await StudioTestApi.CreateCampaignAsync(_http, "invite-only", pairs: 4, labels: 4, rounds: 1, start: false,
            extra: new Dictionary<string, object?> { ["invite_only"] = true });
        var code = await StudioIdentities.JoinCodeAsync(_app, campaign);

        // Without an invite the page offers no way to join; a post without one is refused.
        var page = await StudioIdentities.NewClient(_app).GetStringAsync($"/rate/{code}");
        Assert.Contains("by invitation only", page);
        Assert.DoesNotContain("join-form", page);
        var plainClient = StudioIdentities.NewClient(_app);
        var token = StudioIdentities.HiddenFields(await plainClient.GetStringAsync("/account/login"))["__RequestVerificationToken"];
        var plain = await plainClient.PostAsync($"/join/{code}", new FormUrlEncodedContent([new("__RequestVerificationToken", token)]));
        Assert.Equal("inviterequired", Refusal(plain));
        var forged = await StudioIdentities.JoinResponseAsync(StudioIdentities.NewClient(_app), code, $"psi_{new string('a', 43)}");
        Assert.Equal("inviteinvalid", Refusal(forged));
        Assert.Equal(0, await RaterCountAsync(campaign));

        // A batch of links as CSV, one per line after the header.
        var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{campaign}/invites") { Content = JsonContent.Create(new { count = 3 }) };
        request.Headers.Accept.ParseAdd("text/csv");
        var csv = await _http.SendAsync(request);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var rows = (await csv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("invite_id,url", rows[0]);
        Assert.Equal(3, rows.Length - 1);
        var links = rows.Skip(1).Select(r => new Uri(r.Split(',')[1])).ToList();
        Assert.All(links, l => Assert.Equal($"/join/{code}", l.AbsolutePath));

        var invite = System.Web.HttpUtility.ParseQueryString(links[0].Query)["invite"]!;
        // Opening the link (as a mail scanner or a link preview would) does not use it up.
        Assert.Equal(HttpStatusCode.Redirect, (await StudioIdentities.NewClient(_app).GetAsync(links[0].PathAndQuery)).StatusCode);
        Assert.Equal(0, await RaterCountAsync(campaign));
        var first = StudioIdentities.NewClient(_app);
        var joined = await StudioIdentities.JoinResponseAsync(first, code, invite);
        Assert.Null(Refusal(joined));
        Assert.Equal($"/rate/{code}", joined.Headers.Location?.ToString());
        // The same link again, from another browser: used up.
        var reused = await StudioIdentities.JoinResponseAsync(StudioIdentities.NewClient(_app), code, invite);
        Assert.Equal("inviteinvalid", Refusal(reused));
        // The browser that used it keeps its identity, even by the plain link.
        var back = await first.PostAsync($"/join/{code}", new FormUrlEncodedContent(StudioIdentities.HiddenFields(await first.GetStringAsync("/account/login")).Where(f => f.Key == "__RequestVerificationToken")));
        Assert.Null(Refusal(back));
        Assert.Equal(1, await RaterCountAsync(campaign));

        var listed = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/invites");
        Assert.Equal(3, listed.GetArrayLength());
        var used = listed.EnumerateArray().Single(i => i.GetProperty("used_at").ValueKind != JsonValueKind.Null);
        Assert.StartsWith("p-", used.GetProperty("rater").GetString());
        Assert.DoesNotContain("psi_", listed.ToString());
    }

    [Fact]
    public async Task A_full_campaign_takes_nobody_new_but_keeps_those_who_joined()
    {
        var campaign = await StudioTestApi.CreateCampaignAsync(_http, "small", pairs: 4, labels: 4, rounds: 1, start: false,
            extra: new Dictionary<string, object?> { ["max_raters"] = 2 });
        var code = await StudioIdentities.JoinCodeAsync(_app, campaign);
        var a = await StudioIdentities.JoinAsync(_app, code);
        await StudioIdentities.JoinAsync(_app, code);
        var late = await StudioIdentities.JoinResponseAsync(StudioIdentities.NewClient(_app), code);
        Assert.Equal("campaignfull", Refusal(late));
        // One who joined before keeps their place.
        Assert.Equal(HttpStatusCode.OK, (await a.GetAsync($"/api/v1/campaigns/{campaign}/next")).StatusCode);
        Assert.Equal(2, await RaterCountAsync(campaign));

        // Two requests naming the same new scripted rater at once: one makes it, the other is told the name is taken.
        var racing = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => _http.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/raters", new { pseudonyms = new[] { "twin" } })));
        Assert.Equal(1, racing.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.All(racing.Where(r => r.StatusCode != HttpStatusCode.Created), r => Assert.True(r.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.Conflict, r.StatusCode.ToString()));
        // Scripted raters a researcher makes are not counted against people's places.
        Assert.NotNull(await StudioTestApi.RaterTokenAsync(_http, campaign, "pilot"));
        var bad = await _http.PostAsJsonAsync("/api/v1/campaigns", new { name = "x", environment = "delivery-gridworld", segment_length = 3, pairs_per_round = 4, labels_per_round = 4, rounds = 1, max_raters = 0 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await bad.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("max_raters", out _));
    }

    [Fact]
    public async Task Exports_and_runs_name_raters_by_pseudonym_and_an_erased_rater_leaves_nothing_behind()
    {
        var campaign = await StudioTestApi.CreateCampaignAsync(_http, "privacy", pairs: 4, labels: 4, rounds: 1,
            extra: new Dictionary<string, object?> { ["label_source"] = "both" });
        await StudioTestApi.WaitForRoundAsync(_app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        var code = await StudioIdentities.JoinCodeAsync(_app, campaign);
        var person = await StudioIdentities.JoinAsync(_app, code);
        var ranking = await person.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/rankings", new { factors = new[] { "goal", "sheep", "gas", "coin", "roadblock", "mud" } });
        Assert.Equal(HttpStatusCode.Created, ranking.StatusCode);
        var next = await person.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/next");
        var pair = next.GetProperty("pair").GetProperty("comparison_id").GetGuid();
        Assert.Equal(HttpStatusCode.OK, (await person.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/labels", new { comparison_id = pair, choice = "left", idempotency_key = "1" })).StatusCode);
        Assert.Equal(1, await StudioTestApi.AnswerAsOracleAsync(_app.ConnectionString, _http, campaign, "sim-keep", 1));

        CampaignRater rater;
        await using (var db = _app.CreateDb())
            rater = await db.CampaignRaters.AsNoTracking().SingleAsync(r => r.CampaignId == campaign && r.Kind == RaterKinds.Human);
        Assert.NotEqual(rater.RaterId, rater.Pseudonym);
        var export = await _http.GetStringAsync($"/api/v1/campaigns/{campaign}/export?format=jsonl");
        Assert.Contains($"\"rater\":\"{rater.Pseudonym}\"", export);
        Assert.DoesNotContain(rater.RaterId, export);
        var raters = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/raters");
        Assert.DoesNotContain(rater.RaterId, raters.ToString());
        var mine = raters.EnumerateArray().Single(r => r.GetProperty("pseudonym").GetString() == rater.Pseudonym);
        Assert.Equal(1, mine.GetProperty("labels").GetInt32());
        Assert.Equal(1, mine.GetProperty("rankings").GetInt32());

        var erased = await _http.DeleteAsync($"/api/v1/campaigns/{campaign}/raters/{rater.Pseudonym}");
        Assert.Equal(HttpStatusCode.OK, erased.StatusCode);
        var record = await erased.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(1, record.GetProperty("labels").GetInt32());
        Assert.Equal(1, record.GetProperty("rankings").GetInt32());
        Assert.Equal(1, record.GetProperty("assignments").GetInt32());
        Assert.Equal(StudioAppFactory.AdminEmail, record.GetProperty("erased_by").GetString());

        await using (var db = _app.CreateDb())
        {
            Assert.False(await db.Labels.AnyAsync(l => l.RaterId == rater.RaterId));
            Assert.False(await db.FactorRankings.AnyAsync(f => f.RaterId == rater.RaterId));
            Assert.False(await db.Assignments.AnyAsync(a => a.RaterId == rater.RaterId));
            Assert.Equal(1, await db.Labels.CountAsync(l => l.CampaignId == campaign));
            var erasure = await db.RaterErasures.SingleAsync(e => e.CampaignId == campaign);
            Assert.Equal(rater.Pseudonym, erasure.Pseudonym);
        }
        Assert.DoesNotContain(rater.Pseudonym, await _http.GetStringAsync($"/api/v1/campaigns/{campaign}/export?format=jsonl"));
        // An export taken before the erasure cannot bring the rater's answers back.
        var reimport = await _http.PostAsync($"/api/v1/campaigns/{campaign}/preferences/import", new StringContent(export, System.Text.Encoding.UTF8, "application/x-ndjson"));
        Assert.Equal(HttpStatusCode.BadRequest, reimport.StatusCode);
        Assert.Contains($"rater '{rater.Pseudonym}' was erased", await reimport.Content.ReadAsStringAsync());
        await using (var db = _app.CreateDb())
        {
            Assert.False(await db.Labels.AnyAsync(l => l.RaterId == rater.RaterId));
            Assert.False(await db.FactorRankings.AnyAsync(f => f.RaterId == rater.RaterId));
        }
        var log = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/erasures");
        Assert.Equal(rater.Pseudonym, log[0].GetProperty("pseudonym").GetString());
        // Nor can the ranking editor of a page left open store a version for them.
        var stale = new PreferenceStudio.Web.Features.Raters.RaterRef(campaign, rater.RaterId, rater.Pseudonym, rater.Kind);
        var late = await Assert.ThrowsAsync<PreferenceStudio.Web.Hosting.StudioProblemException>(() => _app.Service<PreferenceStudio.Web.Features.Hierarchy.FactorRankingStore>()
            .SaveAsync(stale, new(["sheep", "goal", "gas", "coin", "roadblock", "mud"], null), "human"));
        Assert.Equal(403, late.StatusCode);
        // The erased rater's identity no longer works, and erasing twice is a conflict.
        var after = await person.GetAsync($"/api/v1/campaigns/{campaign}/next");
        Assert.Equal(HttpStatusCode.Forbidden, after.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await _http.DeleteAsync($"/api/v1/campaigns/{campaign}/raters/{rater.Pseudonym}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _http.DeleteAsync($"/api/v1/campaigns/{campaign}/raters/nobody")).StatusCode);
    }

    [Fact]
    public async Task Researchers_see_only_their_campaigns_and_owners_manage_members()
    {
        var ada = await StudioIdentities.AccountAsync(_app, "ada@members.test");
        var bo = await StudioIdentities.AccountAsync(_app, "bo@members.test");
        var mine = await StudioTestApi.CreateCampaignAsync(ada.Api, "ada's", pairs: 4, labels: 4, rounds: 1, start: false);

        // Bo sees nothing of it: not in the list (so not its join code), not by id.
        var bosList = await bo.Api.GetFromJsonAsync<JsonElement>("/api/v1/campaigns");
        Assert.DoesNotContain(bosList.EnumerateArray(), c => c.GetProperty("id").GetGuid() == mine);
        Assert.Equal(HttpStatusCode.Forbidden, (await bo.Api.GetAsync($"/api/v1/campaigns/{mine}")).StatusCode);
        var code = await StudioIdentities.JoinCodeAsync(_app, mine);
        Assert.DoesNotContain(code, await (await bo.Browser.GetAsync("/admin")).Content.ReadAsStringAsync());

        // Ada adds Bo as a viewer, then as an editor; Bo may then start it.
        var added = await ada.Api.PutAsJsonAsync($"/api/v1/campaigns/{mine}/members", new { email = bo.Email, role = "viewer" });
        Assert.Equal("viewer", (await added.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("role").GetString());
        var seen = await bo.Api.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{mine}");
        Assert.Equal(code, seen.GetProperty("campaign").GetProperty("join_code").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await bo.Api.PostAsync($"/api/v1/campaigns/{mine}/start", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await bo.Api.PutAsJsonAsync($"/api/v1/campaigns/{mine}/members", new { email = bo.Email, role = "owner" })).StatusCode);
        await ada.Api.PutAsJsonAsync($"/api/v1/campaigns/{mine}/members", new { email = bo.Email, role = "editor" });
        Assert.Equal(HttpStatusCode.NoContent, (await bo.Api.PostAsync($"/api/v1/campaigns/{mine}/start", null)).StatusCode);

        // Bad requests say what to fix; the last owner cannot leave.
        var nobody = await ada.Api.PutAsJsonAsync($"/api/v1/campaigns/{mine}/members", new { email = "nobody@members.test", role = "viewer" });
        Assert.Equal(HttpStatusCode.BadRequest, nobody.StatusCode);
        Assert.Contains("No account has the email", (await nobody.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty("email")[0].GetString());
        var badRole = await ada.Api.PutAsJsonAsync($"/api/v1/campaigns/{mine}/members", new { email = bo.Email, role = "boss" });
        Assert.Equal(HttpStatusCode.BadRequest, badRole.StatusCode);
        var lastOwner = await ada.Api.DeleteAsync($"/api/v1/campaigns/{mine}/members/{ada.UserId}");
        Assert.Equal(HttpStatusCode.Conflict, lastOwner.StatusCode);
        var members = await ada.Api.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{mine}/members");
        Assert.Equal(["ada@members.test:owner", "bo@members.test:editor"],
            members.EnumerateArray().Select(m => $"{m.GetProperty("email").GetString()}:{m.GetProperty("role").GetString()}").Order());
        Assert.Equal(HttpStatusCode.NoContent, (await ada.Api.DeleteAsync($"/api/v1/campaigns/{mine}/members/{bo.UserId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await bo.Api.GetAsync($"/api/v1/campaigns/{mine}")).StatusCode);
    }
}
