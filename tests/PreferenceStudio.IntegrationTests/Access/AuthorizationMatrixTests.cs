using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.IntegrationTests.Infrastructure;
using PreferenceStudio.IntegrationTests.Web;
using PreferenceStudio.Web.Features.Live;

namespace PreferenceStudio.IntegrationTests.Access;

/// <summary>
/// Every endpoint of the app, read from its own endpoint data source, and every method of the hub, tried by eight
/// identities: nobody, a rater of this campaign, a rater of another campaign, a researcher who is not a member, a
/// viewer, an editor, the owner and an admin. The expected access of each endpoint is written here, independently of
/// the app's metadata, so an endpoint added without an entry fails the test, and one guarded differently from its
/// entry fails it too.
/// </summary>
public sealed class AuthorizationMatrixTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    /// <summary>Who may use an endpoint.</summary>
    public enum Need
    {
        Anyone,
        /// <summary>A rater of the route's campaign (nobody else: an admin is not a rater).</summary>
        Rater,
        /// <summary>Any account, member or not.</summary>
        Account,
        Viewer,
        Editor,
        Owner,
        Admin,
        /// <summary>A rater or a member (viewer and up) of a campaign the clip belongs to.</summary>
        RaterOrViewer,
    }

    public enum Who { Anonymous, OtherRater, Outsider, Rater, Viewer, Editor, Owner, Admin }

    private static readonly Dictionary<string, Need> Expected = new()
    {
        ["GET /api/v1/campaigns/"] = Need.Account,
        ["POST /api/v1/campaigns/"] = Need.Account,
        ["GET /api/v1/campaigns/{id:guid}"] = Need.Viewer,
        ["GET /api/v1/campaigns/{id:guid}/runs"] = Need.Viewer,
        ["GET /api/v1/campaigns/{id:guid}/runs/{runId:guid}/checkpoint"] = Need.Viewer,
        ["GET /api/v1/campaigns/{id:guid}/rankings/stats"] = Need.Viewer,
        ["POST /api/v1/campaigns/{id:guid}/start"] = Need.Editor,
        ["POST /api/v1/campaigns/{id:guid}/pause"] = Need.Editor,
        ["POST /api/v1/campaigns/{id:guid}/retry"] = Need.Editor,
        ["GET /api/v1/campaigns/{id:guid}/next"] = Need.Rater,
        ["POST /api/v1/campaigns/{id:guid}/labels"] = Need.Rater,
        ["POST /api/v1/campaigns/{id:guid}/labels/undo"] = Need.Rater,
        ["POST /api/v1/campaigns/{id:guid}/consent"] = Need.Rater,
        ["GET /api/v1/campaigns/{id:guid}/rater-settings"] = Need.Viewer,
        ["PUT /api/v1/campaigns/{id:guid}/rater-settings"] = Need.Editor,
        ["GET /api/v1/campaigns/{id:guid}/participants"] = Need.Editor,
        ["GET /api/v1/campaigns/{id:guid}/quality"] = Need.Viewer,
        ["GET /api/v1/campaigns/{id:guid}/gold"] = Need.Viewer,
        ["PUT /api/v1/campaigns/{id:guid}/comparisons/{comparisonId:guid}/gold"] = Need.Editor,
        ["PUT /api/v1/campaigns/{id:guid}/raters/{pseudonym}/training"] = Need.Editor,
        ["POST /api/v1/campaigns/{id:guid}/rankings/"] = Need.Rater,
        ["GET /api/v1/campaigns/{id:guid}/rankings/mine"] = Need.Rater,
        ["GET /api/v1/campaigns/{id:guid}/rankings/"] = Need.Viewer,
        ["GET /api/v1/campaigns/{id:guid}/rankings/current"] = Need.Viewer,
        ["GET /api/v1/campaigns/{id:guid}/export"] = Need.Viewer,
        ["POST /api/v1/campaigns/{id:guid}/preferences/import"] = Need.Editor,
        ["GET /api/v1/campaigns/{id:guid}/members/"] = Need.Viewer,
        ["PUT /api/v1/campaigns/{id:guid}/members/"] = Need.Owner,
        ["DELETE /api/v1/campaigns/{id:guid}/members/{userId}"] = Need.Owner,
        ["GET /api/v1/campaigns/{id:guid}/raters"] = Need.Viewer,
        ["POST /api/v1/campaigns/{id:guid}/raters"] = Need.Editor,
        ["DELETE /api/v1/campaigns/{id:guid}/raters/{pseudonym}"] = Need.Editor,
        ["GET /api/v1/campaigns/{id:guid}/erasures"] = Need.Viewer,
        ["GET /api/v1/campaigns/{id:guid}/invites"] = Need.Viewer,
        ["POST /api/v1/campaigns/{id:guid}/invites"] = Need.Editor,
        ["GET /media/{fileName}"] = Need.RaterOrViewer,
        ["POST /hubs/studio/negotiate"] = Need.Account,
        ["GET /hubs/studio"] = Need.Account,
        ["GET /health"] = Need.Anyone,
        ["GET /health/ready"] = Need.Anyone,
        ["GET /openapi/{documentName}.json"] = Need.Anyone,
        ["GET /api/v1/schemas/{name}"] = Need.Anyone,
        // Scalar's rendering of the OpenAPI document, served where the document is.
        ["GET /api/reference/{documentName?}"] = Need.Anyone,
        ["GET /api/reference/scalar.js"] = Need.Anyone,
        ["GET /api/reference/scalar.aspnetcore.js"] = Need.Anyone,
        ["GET /api/reference/favicon.svg"] = Need.Anyone,
        // Pages.
        ["GET /"] = Need.Anyone,
        ["GET /not-found"] = Need.Anyone,
        ["GET /rate/{JoinCode}"] = Need.Anyone,
        ["GET /account/login"] = Need.Anyone,
        ["GET /account/denied"] = Need.Anyone,
        ["GET /setup"] = Need.Anyone,
        ["GET /admin"] = Need.Account,
        ["GET /account/tokens"] = Need.Account,
        ["GET /account/password"] = Need.Account,
        ["GET /admin/users"] = Need.Admin,
        ["GET /admin/campaigns/{Id:guid}"] = Need.Viewer,
        // Blazor's own endpoints serve the rating page's circuit, which raters without an account use.
        ["POST /_blazor/negotiate"] = Need.Anyone,
        ["GET /_blazor"] = Need.Anyone,
        ["POST /_blazor/disconnect/"] = Need.Anyone,
        ["GET /_blazor/initializers/"] = Need.Anyone,
        ["GET /_framework/opaque-redirect"] = Need.Anyone,
        // Development's fallback for static files added after the build (the only endpoint that states nothing).
        ["GET {**path:file}"] = Need.Anyone,
        // Opening a join link changes nothing; joining (a form post) and signing out change the caller's cookies.
        ["GET /join/{code}"] = Need.Anyone,
        ["POST /join/{code}"] = Need.Anyone,
        ["POST /account/logout"] = Need.Anyone,
    };

    private static bool Allows(Need need, Who who) => need switch
    {
        Need.Anyone => true,
        Need.Rater => who == Who.Rater,
        Need.Account => who >= Who.Outsider && who != Who.Rater,
        Need.Viewer => who is Who.Viewer or Who.Editor or Who.Owner or Who.Admin,
        Need.Editor => who is Who.Editor or Who.Owner or Who.Admin,
        Need.Owner => who is Who.Owner or Who.Admin,
        Need.Admin => who == Who.Admin,
        Need.RaterOrViewer => who is Who.Rater or Who.Viewer or Who.Editor or Who.Owner or Who.Admin,
        _ => false,
    };

    private sealed record Principal(Who Who, Func<HttpClient> Browser, Func<HttpClient> Api, string? Token);

    [Fact]
    public async Task Every_endpoint_and_hub_method_admits_exactly_the_identities_it_should()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("matrix"), StudioAppFactory.NewDataRoot("matrix"));
        var admin = await StudioIdentities.AccountAsync(app, "admin@matrix.test", StudioRoles.Admin);
        var owner = await StudioIdentities.AccountAsync(app, "owner@matrix.test");
        var editor = await StudioIdentities.AccountAsync(app, "editor@matrix.test");
        var viewer = await StudioIdentities.AccountAsync(app, "viewer@matrix.test");
        var outsider = await StudioIdentities.AccountAsync(app, "outsider@matrix.test");

        // The owner creates the campaign; the other campaign is someone else's.
        var campaign = await StudioTestApi.CreateCampaignAsync(owner.Api, "matrix", pairs: 4, labels: 20, rounds: 1);
        var other = await StudioTestApi.CreateCampaignAsync(outsider.Api, "elsewhere", pairs: 4, labels: 20, rounds: 1, start: false);
        await StudioIdentities.AddMemberAsync(app, campaign, editor.Email, CampaignRole.Editor);
        await StudioIdentities.AddMemberAsync(app, campaign, viewer.Email, CampaignRole.Viewer);
        await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        var code = await StudioIdentities.JoinCodeAsync(app, campaign);
        var rater = await StudioIdentities.JoinAsync(app, code);
        var otherRater = await StudioIdentities.JoinAsync(app, await StudioIdentities.JoinCodeAsync(app, other));
        // A scripted rater for the erase endpoint to erase (the first identity allowed to does; later ones find it erased).
        await StudioTestApi.RaterTokenAsync(owner.Api, campaign, "victim");
        string clip;
        await using (var db = app.CreateDb())
            clip = await db.Clips.Where(c => c.Segment!.CampaignId == campaign && c.Status == ClipStatus.Rendered).Select(c => c.FileName!).FirstAsync();

        var principals = new[]
        {
            new Principal(Who.Anonymous, () => StudioIdentities.NewClient(app), () => StudioIdentities.NewClient(app), null),
            new Principal(Who.OtherRater, () => otherRater, () => otherRater, null),
            new Principal(Who.Outsider, () => outsider.Browser, () => outsider.Api, outsider.Token),
            new Principal(Who.Rater, () => rater, () => rater, null),
            new Principal(Who.Viewer, () => viewer.Browser, () => viewer.Api, viewer.Token),
            new Principal(Who.Editor, () => editor.Browser, () => editor.Api, editor.Token),
            new Principal(Who.Owner, () => owner.Browser, () => owner.Api, owner.Token),
            new Principal(Who.Admin, () => admin.Browser, () => admin.Api, admin.Token),
        };

        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        // Every endpoint says who may use it, but for Development's static-file fallback that MapStaticAssets adds.
        var unstated = endpoints.Where(e => e.Metadata.GetMetadata<IAllowAnonymous>() is null && e.Metadata.GetMetadata<IAuthorizeData>() is null)
            .Select(Key).Where(k => k != "GET {**path:file}").ToList();
        Assert.True(unstated.Count == 0, "endpoints with no [Authorize] or [AllowAnonymous]: " + string.Join(", ", unstated));

        var statics = endpoints.Where(e => e.Metadata.Any(m => m.GetType().Name == "StaticAssetDescriptor")).ToList();
        var routed = endpoints.Except(statics).ToList();
        var keys = routed.Select(Key).Distinct().ToList();
        var unknown = keys.Except(Expected.Keys).ToList();
        Assert.True(unknown.Count == 0, "endpoints the matrix does not cover (add them to Expected): " + string.Join(", ", unknown));
        var gone = Expected.Keys.Except(keys).ToList();
        Assert.True(gone.Count == 0, "entries for endpoints the app no longer has: " + string.Join(", ", gone));
        Assert.NotEmpty(statics);

        var failures = new List<string>();
        var ordered = routed.OrderBy(e => Key(e) is "POST /join/{code}" or "POST /account/logout" ? 1 : 0).ToList();
        foreach (var endpoint in ordered)
        {
            var key = Key(endpoint);
            var need = Expected[key];
            bool page = endpoint.Metadata.GetMetadata<ComponentTypeMetadata>() is not null;
            foreach (var p in principals)
            {
                var client = page ? p.Browser() : p.Api();
                var response = await client.SendAsync(Request(key, campaign, code, clip));
                var outcome = Outcome(response);
                bool allowed = Allows(need, p.Who);
                if ((int)response.StatusCode >= 500)
                    failures.Add($"{key} as {p.Who}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                else if (allowed && outcome != null)
                    failures.Add($"{key} as {p.Who}: should be allowed ({need}) but was {outcome}");
                else if (!allowed && outcome is null)
                    failures.Add($"{key} as {p.Who}: should be refused ({need}) but answered {(int)response.StatusCode}");
            }
        }
        // Static assets (the app's CSS, JavaScript, MudBlazor's files) are for everyone, the sign-in page included.
        foreach (var endpoint in statics.Where((_, i) => i % 4 == 0))
            foreach (var p in principals)
            {
                var response = await p.Api().GetAsync("/" + endpoint.RoutePattern.RawText!.TrimStart('/'));
                if (Outcome(response) is { } o || (int)response.StatusCode >= 400) failures.Add($"static {endpoint.RoutePattern.RawText} as {p.Who}: {(int)response.StatusCode}");
            }
        Assert.True(failures.Count == 0, $"{failures.Count} access failure(s):\n" + string.Join("\n", failures));

        await HubMethodsAdmitMembersOnlyAsync(app, campaign, principals);
    }

    /// <summary>Each public hub method: anonymous and rater connections are refused; a non-member's call fails; members' calls succeed.</summary>
    private static async Task HubMethodsAdmitMembersOnlyAsync(StudioAppFactory app, Guid campaign, IReadOnlyList<Principal> principals)
    {
        var methods = typeof(StudioHub).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).Select(m => m.Name).ToList();
        Assert.Equal(["UnwatchCampaign", "WatchCampaign"], methods.Order());
        foreach (var p in principals)
        {
            var hub = new HubConnectionBuilder()
                .WithUrl(new Uri(app.Server.BaseAddress, StudioHub.Path), o =>
                {
                    o.HttpMessageHandlerFactory = _ => app.Server.CreateHandler();
                    o.Transports = HttpTransportType.LongPolling;
                    if (p.Token is not null) o.AccessTokenProvider = () => Task.FromResult<string?>(p.Token);
                })
                .Build();
            await using var _ = hub;
            if (p.Token is null)
            {
                // Nobody and raters (whose rater cookie is not an account) cannot even connect.
                var refused = await Assert.ThrowsAsync<HttpRequestException>(() => hub.StartAsync());
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
                continue;
            }
            await hub.StartAsync();
            foreach (var method in methods)
            {
                bool allowed = Allows(Need.Viewer, p.Who);
                var call = hub.InvokeAsync(method, campaign);
                if (allowed) await call;
                else Assert.Contains("not a member", (await Assert.ThrowsAsync<HubException>(() => call)).Message);
            }
        }
    }

    private static string Key(RouteEndpoint e)
    {
        var methods = e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods;
        var pattern = e.RoutePattern.RawText ?? "";
        var method = methods is { Count: > 0 } ? methods[0]
            : pattern.EndsWith("negotiate", StringComparison.Ordinal) || pattern.EndsWith("disconnect/", StringComparison.Ordinal) ? "POST" : "GET";
        return $"{method} {pattern}";
    }

    private static HttpRequestMessage Request(string key, Guid campaign, string code, string clip)
    {
        var (method, pattern) = (key[..key.IndexOf(' ')], key[(key.IndexOf(' ') + 1)..]);
        var path = pattern
            .Replace("{id:guid}", campaign.ToString()).Replace("{Id:guid}", campaign.ToString())
            .Replace("{runId:guid}", Guid.NewGuid().ToString()).Replace("{comparisonId:guid}", Guid.NewGuid().ToString()).Replace("{userId}", "no-such-user")
            .Replace("{pseudonym}", "victim").Replace("{fileName}", clip).Replace("{code}", code).Replace("{JoinCode}", code)
            .Replace("{documentName}", "v1").Replace("{documentName?}", "v1").Replace("{name}", "preference@1.json").Replace("{**path:file}", "no-such-file.txt");
        if (!path.StartsWith('/')) path = "/" + path;
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method is "POST" or "PUT")
            request.Content = key.EndsWith("/import", StringComparison.Ordinal) ? new StringContent("\n", Encoding.UTF8, "application/x-ndjson")
                // A form post (without its antiforgery token, so it is refused as a bad request, never run).
                : key.EndsWith("/logout", StringComparison.Ordinal) || key.StartsWith("POST /join", StringComparison.Ordinal) ? new FormUrlEncodedContent([])
                : JsonContent.Create(new { });
        return request;
    }

    /// <summary>Why the response is a refusal, or null when it is not one (it may still be a 400 or 404 for the empty request).</summary>
    private static string? Outcome(HttpResponseMessage response)
    {
        if (response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden) return ((int)response.StatusCode).ToString();
        var location = response.Headers.Location?.ToString() ?? "";
        if ((int)response.StatusCode is >= 300 and < 400 && (location.Contains("/account/login") || location.Contains("/account/denied")))
            return $"{(int)response.StatusCode} to {location}";
        return null;
    }
}
