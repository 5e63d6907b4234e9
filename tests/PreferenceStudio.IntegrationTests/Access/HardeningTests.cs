using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.IntegrationTests.Infrastructure;
using PreferenceStudio.IntegrationTests.Web;

namespace PreferenceStudio.IntegrationTests.Access;

/// <summary>
/// What a studio on the internet needs beyond identities: import limits, abuse limits, account lock-out, security
/// headers, and production defaults (no OpenAPI, no migrations, HTTPS).
/// </summary>
public sealed class HardeningTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static async Task<string> DetailAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
    }

    [Fact]
    public async Task Imports_over_the_size_limit_of_the_wrong_type_or_with_long_segments_are_refused_and_store_nothing()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("import_limits"), StudioAppFactory.NewDataRoot("import_limits"), runWorker: false,
            settings: new Dictionary<string, string> { ["Studio:Import:MaxBytes"] = "4096", ["Studio:Import:MaxSegmentSteps"] = "2" });
        var http = app.CreateClient();
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "limits", pairs: 4, labels: 4, rounds: 1, start: false);
        var url = $"/api/v1/campaigns/{campaign}/preferences/import";
        var big = Encoding.UTF8.GetBytes(string.Join("\n", DatasetApiTests.SampleLines(30, seed: 5)) + "\n");
        Assert.True(big.Length > 4096);

        var declared = new ByteArrayContent(big);
        declared.Headers.ContentType = new("application/x-ndjson");
        var tooLarge = await http.PostAsync(url, declared);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("4,096 bytes", await DetailAsync(tooLarge));

        // Without a Content-Length the body is read as it streams in, and refused once it passes the limit.
        var streamed = new StreamContent(new UnseekableStream(big));
        streamed.Headers.ContentType = new("application/x-ndjson");
        Assert.Null(streamed.Headers.ContentLength);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, (await http.PostAsync(url, streamed)).StatusCode);

        var small = string.Join("\n", DatasetApiTests.SampleLines(2, seed: 6)) + "\n";
        foreach (var type in new[] { "application/json", "text/plain", "multipart/form-data; boundary=x", "application/x-www-form-urlencoded" })
        {
            var wrong = new StringContent(small, Encoding.UTF8);
            wrong.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(type);
            var refused = await http.PostAsync(url, wrong);
            Assert.True(refused.StatusCode == HttpStatusCode.UnsupportedMediaType, $"{type}: {refused.StatusCode}");
            Assert.Contains("application/x-ndjson", await DetailAsync(refused));
        }

        // Segments of 3 steps against a cap of 2: every line is refused by number.
        var longSegments = await http.PostAsync(url, new StringContent(small, Encoding.UTF8, "application/x-ndjson"));
        Assert.True(longSegments.StatusCode == HttpStatusCode.BadRequest, await longSegments.Content.ReadAsStringAsync());
        var errors = (await longSegments.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").EnumerateArray().ToList();
        Assert.Equal([1, 2], errors.Select(e => e.GetProperty("line").GetInt32()));
        Assert.All(errors, e => Assert.Contains("at most 2", e.GetProperty("message").GetString()));

        await using var db = app.CreateDb();
        Assert.Equal(0, await db.Comparisons.CountAsync(c => c.CampaignId == campaign));
        Assert.Equal(0, await db.Segments.CountAsync(s => s.CampaignId == campaign));
        Assert.Equal(0, await db.CampaignRaters.CountAsync(r => r.CampaignId == campaign));
    }

    [Fact]
    public async Task Sign_in_is_rate_limited_and_repeated_failures_lock_the_account()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("abuse"), StudioAppFactory.NewDataRoot("abuse"), runWorker: false,
            settings: new Dictionary<string, string> { ["Studio:Security:RateLimits:SignInPerClient"] = "5", ["Studio:Security:MaxFailedSignIns"] = "3" });
        var account = await StudioIdentities.AccountAsync(app, "careful@abuse.test");
        var client = StudioIdentities.NewClient(app);

        // The third wrong password in a row locks the account: the right one is refused too, with a message that says so.
        for (int i = 0; i < 2; i++)
        {
            var wrong = await StudioIdentities.PostSignInAsync(client, account.Email, "not the password");
            var page = await wrong.Content.ReadAsStringAsync();
            Assert.True(page.Contains("Wrong email or password"), $"{(int)wrong.StatusCode}: {page}");
        }
        Assert.Contains("locked until", await (await StudioIdentities.PostSignInAsync(client, account.Email, "not the password")).Content.ReadAsStringAsync());
        var locked = await StudioIdentities.PostSignInAsync(client, account.Email, StudioIdentities.Password);
        Assert.Equal(HttpStatusCode.OK, locked.StatusCode);
        Assert.Contains("locked until", await locked.Content.ReadAsStringAsync());

        // Five posted forms a minute from one client; the sixth is answered 429 with when to try again.
        var limited = await StudioIdentities.PostSignInAsync(client, account.Email, StudioIdentities.Password);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter is not null);
        Assert.Contains("Too many requests", await DetailAsync(limited));
        // Looking at the page is not limited.
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/account/login")).StatusCode);
    }

    [Fact]
    public async Task Labels_are_limited_per_rater_and_joins_per_client()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("label_limit"), StudioAppFactory.NewDataRoot("label_limit"),
            settings: new Dictionary<string, string> { ["Studio:Security:RateLimits:LabelsPerRater"] = "2", ["Studio:Security:RateLimits:JoinPerClient"] = "3" });
        var http = app.CreateClient();
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "limited", pairs: 6, labels: 12, rounds: 1);
        await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        Assert.Equal(2, await StudioTestApi.AnswerAsOracleAsync(app.ConnectionString, http, campaign, "r-fast", 2));
        var third = (await StudioTestApi.NextAsync(http, campaign, "r-fast")).GetProperty("pair").GetProperty("comparison_id").GetGuid();
        var refused = await StudioTestApi.AnswerAsync(http, campaign, third, "r-fast", "left");
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.Contains("at most 2 pairs a minute", await DetailAsync(refused));
        // Another rater is not held up by this one.
        Assert.Equal(1, await StudioTestApi.AnswerAsOracleAsync(app.ConnectionString, http, campaign, "r-calm", 1));
        await using (var db = app.CreateDb())
            Assert.Equal(3, await db.Labels.CountAsync(l => l.CampaignId == campaign));

        var code = await StudioIdentities.JoinCodeAsync(app, campaign);
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 4; i++) statuses.Add((await StudioIdentities.JoinResponseAsync(StudioIdentities.NewClient(app), code)).StatusCode);
        Assert.Equal([HttpStatusCode.Redirect, HttpStatusCode.Redirect, HttpStatusCode.Redirect, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task Pages_and_the_api_send_security_headers_and_development_describes_the_api_with_its_security()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("headers"), StudioAppFactory.NewDataRoot("headers"), runWorker: false);
        var anonymous = StudioIdentities.NewClient(app);
        foreach (var path in new[] { "/", "/account/login", "/api/v1/campaigns", "/health" })
        {
            var response = await anonymous.GetAsync(path);
            var csp = string.Join(" ", response.Headers.GetValues("Content-Security-Policy"));
            Assert.Contains("frame-ancestors 'none'", csp);
            Assert.Contains("script-src 'self'", csp);
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
            Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        }

        var document = await anonymous.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer");
        Assert.Equal("http", scheme.GetProperty("type").GetString());
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        var start = document.GetProperty("paths").GetProperty("/api/v1/campaigns/{id}/start").GetProperty("post");
        Assert.Equal("campaigns:write", start.GetProperty("security")[0].GetProperty("bearer")[0].GetString());
        Assert.Contains("an editor or owner of the campaign", start.GetProperty("description").GetString());
        var next = document.GetProperty("paths").GetProperty("/api/v1/campaigns/{id}/next").GetProperty("get");
        Assert.Contains("a rater of the campaign", next.GetProperty("description").GetString());
    }

    [Fact]
    public async Task Outside_development_the_api_description_is_not_served_http_is_redirected_and_migrations_wait_for_the_operator()
    {
        await using var production = new StudioAppFactory(await postgres.CreateDatabaseAsync("production"), StudioAppFactory.NewDataRoot("production"), runWorker: false,
            settings: new Dictionary<string, string> { ["https_port"] = "8443" }, environment: "Production");
        var client = StudioIdentities.NewClient(production);
        var redirected = await client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.TemporaryRedirect, redirected.StatusCode);
        Assert.StartsWith("https://localhost:8443/health", redirected.Headers.Location?.ToString());
        // HSTS is never sent to localhost (a developer's other sites would inherit it): ask as the public host would be.
        var https = StudioIdentities.NewClient(production);
        https.BaseAddress = new Uri("https://studio.example.org");
        Assert.Equal(HttpStatusCode.NotFound, (await https.GetAsync("/openapi/v1.json")).StatusCode);
        var health = await https.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains("max-age=31536000", health.Headers.GetValues("Strict-Transport-Security").Single());

        // A database without the schema: the studio refuses to start rather than change it unasked.
        await using var unmigrated = new StudioAppFactory(await postgres.CreateEmptyDatabaseAsync("unmigrated"), StudioAppFactory.NewDataRoot("unmigrated"), runWorker: false,
            environment: "Production");
        var error = Assert.ThrowsAny<Exception>(() => unmigrated.CreateClient());
        Assert.Contains("studio migrate", error.ToString());
    }

    /// <summary>A stream whose length is unknown, so HTTP sends it without a Content-Length.</summary>
    private sealed class UnseekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
