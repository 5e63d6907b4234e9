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
/// A rater acts only as themselves; forged, tampered, revoked and expired identities are refused, and nothing they
/// send is stored. The shared campaign wants more labels than these tests give, so its round stays open.
/// </summary>
public sealed class ImpersonationTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private StudioAppFactory _app = null!;
    private HttpClient _http = null!;
    private Guid _campaign, _other;

    public async Task InitializeAsync()
    {
        _app = new StudioAppFactory(await postgres.CreateDatabaseAsync("impersonation"), StudioAppFactory.NewDataRoot("impersonation"));
        _http = _app.CreateClient();
        _campaign = await StudioTestApi.CreateCampaignAsync(_http, "impersonation", pairs: 6, labels: 30, rounds: 1);
        _other = await StudioTestApi.CreateCampaignAsync(_http, "other", pairs: 4, labels: 20, rounds: 1, seed: 3);
        await StudioTestApi.WaitForRoundAsync(_app.ConnectionString, _campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        await StudioTestApi.WaitForRoundAsync(_app.ConnectionString, _other, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    private async Task<int> LabelCountAsync()
    {
        await using var db = _app.CreateDb();
        return await db.Labels.CountAsync();
    }

    private static async Task<string> DetailAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
    }

    private Task<HttpResponseMessage> LabelAsync(string asRater, Guid campaign, object body) =>
        StudioTestApi.AsRaterAsync(_http, _campaign, asRater, new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{campaign}/labels") { Content = JsonContent.Create(body) });

    [Fact]
    public async Task Rater_a_cannot_label_rank_or_read_as_rater_b()
    {
        var bPair = (await StudioTestApi.NextAsync(_http, _campaign, "r-b")).GetProperty("pair").GetProperty("comparison_id").GetGuid();
        await StudioTestApi.NextAsync(_http, _campaign, "r-a");
        int before = await LabelCountAsync();

        // B's pair was never served to A: A cannot answer it.
        var steal = await LabelAsync("r-a", _campaign, new { comparison_id = bPair, choice = "left", idempotency_key = "k1" });
        Assert.Equal(HttpStatusCode.Conflict, steal.StatusCode);
        Assert.Contains("never served", await DetailAsync(steal));
        // Naming B in the body changes nothing but the refusal.
        var named = await LabelAsync("r-a", _campaign, new { comparison_id = bPair, rater_id = "r-b", choice = "left", idempotency_key = "k2" });
        Assert.Equal(HttpStatusCode.Forbidden, named.StatusCode);
        Assert.Contains("authenticated as 'r-a'", await DetailAsync(named));
        var rankAsB = await StudioTestApi.AsRaterAsync(_http, _campaign, "r-a", new HttpRequestMessage(HttpMethod.Post, $"/api/v1/campaigns/{_campaign}/rankings")
        {
            Content = JsonContent.Create(new { rater_id = "r-b", factors = new[] { "gas", "goal", "sheep", "coin", "roadblock", "mud" } }),
        });
        Assert.Equal(HttpStatusCode.Forbidden, rankAsB.StatusCode);
        // The address cannot choose the rater either.
        var query = await StudioTestApi.AsRaterAsync(_http, _campaign, "r-a", new HttpRequestMessage(HttpMethod.Get, $"/api/v1/campaigns/{_campaign}/next?rater=r-b"));
        Assert.Equal(HttpStatusCode.BadRequest, query.StatusCode);
        Assert.Contains("remove ?rater=", await DetailAsync(query));
        // A rater reads no other rater's data.
        foreach (var path in new[] { "rankings", "rankings/current?rater=r-b", "raters", "export?format=jsonl", "runs" })
        {
            var read = await StudioTestApi.AsRaterAsync(_http, _campaign, "r-a", new HttpRequestMessage(HttpMethod.Get, $"/api/v1/campaigns/{_campaign}/{path}"));
            Assert.True(read.StatusCode == HttpStatusCode.Forbidden, $"{path}: {read.StatusCode}");
        }
        Assert.Equal(before, await LabelCountAsync());

        // B answers their own pair; A reusing B's idempotency key neither collides with nor reads B's label.
        var own = await StudioTestApi.AnswerAsync(_http, _campaign, bPair, "r-b", "right", "shared-key");
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        var aPair = (await StudioTestApi.NextAsync(_http, _campaign, "r-a")).GetProperty("pair").GetProperty("comparison_id").GetGuid();
        var sameKey = await StudioTestApi.AnswerAsync(_http, _campaign, aPair, "r-a", "left", "shared-key");
        Assert.Equal(HttpStatusCode.OK, sameKey.StatusCode);
        Assert.False((await sameKey.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("duplicate").GetBoolean());
        Assert.Equal(before + 2, await LabelCountAsync());
    }

    [Fact]
    public async Task A_comparison_of_another_campaign_and_a_rater_of_another_campaign_are_refused()
    {
        var foreign = (await StudioTestApi.NextAsync(_http, _other, "r-foreign")).GetProperty("pair").GetProperty("comparison_id").GetGuid();
        await StudioTestApi.NextAsync(_http, _campaign, "r-home");
        int before = await LabelCountAsync();

        // The route's campaign must be the comparison's.
        var wrongRoute = await LabelAsync("r-home", _campaign, new { comparison_id = foreign, choice = "left", idempotency_key = "x" });
        Assert.Equal(HttpStatusCode.NotFound, wrongRoute.StatusCode);
        Assert.Contains("has no comparison", await DetailAsync(wrongRoute));
        // A rater of this campaign has no say in another.
        var otherCampaign = await LabelAsync("r-home", _other, new { comparison_id = foreign, choice = "left", idempotency_key = "y" });
        Assert.Equal(HttpStatusCode.Forbidden, otherCampaign.StatusCode);
        Assert.Contains("belongs to another campaign", await DetailAsync(otherCampaign));
        Assert.Equal(before, await LabelCountAsync());
    }

    [Fact]
    public async Task A_tampered_rater_cookie_is_refused()
    {
        var code = await StudioIdentities.JoinCodeAsync(_app, _campaign);
        var browser = await StudioIdentities.JoinAsync(_app, code);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync($"/api/v1/campaigns/{_campaign}/next")).StatusCode);

        var cookie = (await browser.GetAsync($"/rate/{code}")).RequestMessage!.Headers.GetValues("Cookie").Single();
        var value = cookie.Split("ps_rater=")[1].Split(';')[0];
        // One character changed in the middle of the protected payload.
        int at = value.Length / 2;
        var tampered = value[..at] + (value[at] == 'A' ? 'B' : 'A') + value[(at + 1)..];
        var forger = StudioIdentities.NewClient(_app);
        var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/campaigns/{_campaign}/next");
        request.Headers.Add("Cookie", $"ps_rater={tampered}");
        var refused = await forger.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        // A cookie that merely names a rater id, as this studio's cookie once did, is no identity either.
        await using var db = _app.CreateDb();
        var someone = await db.CampaignRaters.Where(r => r.CampaignId == _campaign).Select(r => r.RaterId).FirstAsync();
        var plain = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/campaigns/{_campaign}/next");
        plain.Headers.Add("Cookie", $"ps_rater={someone}");
        Assert.Equal(HttpStatusCode.Unauthorized, (await forger.SendAsync(plain)).StatusCode);
    }

    [Fact]
    public async Task Revoked_expired_and_unknown_tokens_are_refused_with_the_reason()
    {
        var account = await StudioIdentities.AccountAsync(_app, "tokens@impersonation.test");
        Assert.Equal(HttpStatusCode.OK, (await account.Api.GetAsync("/api/v1/campaigns")).StatusCode);

        var tokens = _app.Service<PreferenceStudio.Web.Features.Access.ApiTokenService>();
        var id = (await tokens.ListAsync(account.UserId)).Single().Id;
        Assert.True(await tokens.RevokeAsync(account.UserId, id));
        var revoked = await account.Api.GetAsync("/api/v1/campaigns");
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);
        Assert.Contains("was revoked", await DetailAsync(revoked));

        var expiring = await tokens.CreateAsync(account.UserId, "short", ApiScopes.All, 1);
        await using (var db = _app.CreateDb())
            await db.ApiTokens.Where(t => t.Id == expiring.Token.Id).ExecuteUpdateAsync(u => u.SetProperty(t => t.ExpiresAt, DateTimeOffset.UtcNow.AddMinutes(-1)));
        var expired = await Send(expiring.Secret, "/api/v1/campaigns");
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Contains("expired", await DetailAsync(expired));

        var made = await Send("pst_" + new string('x', 43), "/api/v1/campaigns");
        Assert.Equal(HttpStatusCode.Unauthorized, made.StatusCode);
        Assert.Contains("not known", await DetailAsync(made));
        Assert.Equal(HttpStatusCode.Unauthorized, (await Send("Basic something", "/api/v1/campaigns")).StatusCode);
    }

    [Fact]
    public async Task A_token_does_only_what_its_scopes_allow()
    {
        var reader = await StudioIdentities.AccountAsync(_app, "reader@impersonation.test", scopes: [ApiScopes.CampaignsRead]);
        await StudioIdentities.AddMemberAsync(_app, _campaign, reader.Email, CampaignRole.Owner);
        Assert.Equal(HttpStatusCode.OK, (await reader.Api.GetAsync($"/api/v1/campaigns/{_campaign}")).StatusCode);
        var pause = await reader.Api.PostAsync($"/api/v1/campaigns/{_campaign}/pause", null);
        Assert.Equal(HttpStatusCode.Forbidden, pause.StatusCode);
        Assert.Contains("scope 'campaigns:write'", await DetailAsync(pause));
        Assert.Equal(HttpStatusCode.Forbidden, (await reader.Api.GetAsync($"/api/v1/campaigns/{_campaign}/export")).StatusCode);
        // The same account signed in with its password is not limited by the token's scopes.
        Assert.Equal(HttpStatusCode.OK, (await reader.Browser.GetAsync($"/api/v1/campaigns/{_campaign}/export")).StatusCode);
        await using var db = _app.CreateDb();
        Assert.Equal(CampaignStatus.Running, (await db.Campaigns.SingleAsync(c => c.Id == _campaign)).Status);
    }

    private Task<HttpResponseMessage> Send(string authorization, string path)
    {
        var client = StudioIdentities.NewClient(_app);
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("Authorization", authorization.StartsWith("Basic", StringComparison.Ordinal) ? authorization : "Bearer " + authorization);
        return client.SendAsync(request);
    }
}
