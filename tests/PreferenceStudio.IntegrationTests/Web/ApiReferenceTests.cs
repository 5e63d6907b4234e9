using System.Net;
using System.Text.Json;
using Microsoft.Playwright;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>The OpenAPI document rendered by Scalar at /api/reference, in Chromium, under the studio's Content-Security-Policy.</summary>
public sealed class ApiReferenceTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task The_api_reference_renders_every_operation_in_a_browser_without_breaking_the_content_security_policy()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("apiref"), StudioAppFactory.NewDataRoot("apiref"), runWorker: false, kestrel: true);
        app.StartServer();
        var http = app.CreateClient();
        var document = JsonDocument.Parse(await http.GetStringAsync("/openapi/v1.json")).RootElement;
        var operations = document.GetProperty("paths").EnumerateObject()
            .SelectMany(path => path.Value.EnumerateObject().Select(op => (Path: path.Name, Method: op.Name, Operation: op.Value))).ToList();
        Assert.True(operations.Count > 30, $"{operations.Count} operations");
        // Every operation says what it does and who may call it (anonymous ones are the health checks and schemas).
        foreach (var (path, method, operation) in operations)
        {
            Assert.True(operation.TryGetProperty("summary", out var summary) && summary.GetString()!.Length > 10, $"{method} {path} has no summary");
            bool open = path.StartsWith("/api/v1/schemas/", StringComparison.Ordinal) || path.StartsWith("/api/v1/join", StringComparison.Ordinal);
            Assert.True(open || (operation.TryGetProperty("description", out var needs) && needs.GetString()!.Contains("Needs:")), $"{method} {path} does not say who may call it");
            // Its error responses, as ProblemDetails; the ones needing an identity say how they refuse one.
            var responses = operation.GetProperty("responses").EnumerateObject().ToDictionary(r => r.Name, r => r.Value);
            Assert.True(responses.ContainsKey("503"), $"{method} {path} lists no 503");
            Assert.True(responses["503"].GetProperty("content").TryGetProperty("application/problem+json", out _), $"{method} {path}: 503 is not a ProblemDetails");
            if (!open) Assert.True(responses.ContainsKey("401") && responses.ContainsKey("403"), $"{method} {path} lists no 401/403");
            if (path.Contains('{')) Assert.True(responses.ContainsKey("404"), $"{method} {path} lists no 404");
        }

        var page = await http.GetAsync("/api/reference");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var csp = page.Headers.GetValues("Content-Security-Policy").Single();
        Assert.Matches("script-src 'self' 'nonce-[^']+';", csp);
        // The nonce is fresh for each response.
        Assert.NotEqual(csp, (await http.GetAsync("/api/reference")).Headers.GetValues("Content-Security-Policy").Single());

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var tab = await (await browser.NewContextAsync()).NewPageAsync();
        var violations = new List<string>();
        tab.Console += (_, m) => { if (m.Type == "error") violations.Add(m.Text); };
        await Screenshots.KeepOnFailureAsync(tab, "api-reference", async () =>
        {
            await tab.GotoAsync(new Uri(http.BaseAddress!, "/api/reference").ToString());
            // Scalar lists the operations by their summaries once its script has run (it renders the first tag's
            // operations at once and the rest as they are scrolled to).
            var summary = document.GetProperty("paths").GetProperty("/api/v1/campaigns").GetProperty("get").GetProperty("summary").GetString()!;
            await Assertions.Expect(tab.GetByText(summary).First).ToBeAttachedAsync(new() { Timeout = 60_000 });
            await Assertions.Expect(tab.GetByText("Dataset").First).ToBeAttachedAsync();
            Assert.DoesNotContain(violations, v => v.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase));
        });
    }
}
