using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR.Client;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

public sealed class CampaignApiTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>, IAsyncLifetime
{
    private StudioAppFactory _app = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _app = new StudioAppFactory(await postgres.CreateDatabaseAsync("campaigns"), StudioAppFactory.NewDataRoot("campaigns"), runWorker: false);
        _http = _app.CreateClient();
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Impossible_settings_are_refused_with_field_errors()
    {
        var response = await _http.PostAsJsonAsync("/api/v1/campaigns", new
        {
            name = "", environment = "chess", board = "standard", segment_length = 0,
            pairs_per_round = 1, labels_per_round = 0, rounds = 0, seed = 1,
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        foreach (var field in new[] { "name", "environment", "segment_length", "pairs_per_round", "labels_per_round", "rounds" })
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {errors}");
        Assert.Contains("delivery-gridworld", errors.GetProperty("environment")[0].GetString());

        var tooManyLabels = await _http.PostAsJsonAsync("/api/v1/campaigns", new
        {
            name = "x", environment = "delivery-gridworld", board = "standard", segment_length = 3,
            pairs_per_round = 2, labels_per_round = 11, rounds = 1, seed = 1,
        });
        Assert.Equal(HttpStatusCode.BadRequest, tooManyLabels.StatusCode);
        Assert.True((await tooManyLabels.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").TryGetProperty("labels_per_round", out _));

        Assert.Empty(await _http.GetFromJsonAsync<JsonElement[]>("/api/v1/campaigns") ?? []);
    }

    [Fact]
    public async Task Models_strategies_and_environment_parameters_are_checked_field_by_field()
    {
        var response = await _http.PostAsJsonAsync("/api/v1/campaigns", new Dictionary<string, object?>
        {
            ["name"] = "x", ["environment"] = "delivery-gridworld", ["segment_length"] = 3, ["pairs_per_round"] = 10, ["labels_per_round"] = 10,
            ["rounds"] = 1, ["seed"] = 1, ["environment_parameters"] = new Dictionary<string, double> { ["gravity"] = 9.8 },
            ["reward_model"] = "linear-regression", ["comparison_models"] = new[] { "bt", "magic" }, ["query_strategy"] = "info-gain",
            ["personalised_policies"] = true, ["policy_steps"] = 10,
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Contains("takes no parameters", errors.GetProperty("environment_parameters.gravity")[0].GetString());
        Assert.Contains("bt", errors.GetProperty("reward_model")[0].GetString());
        Assert.Contains("'magic'", errors.GetProperty("comparison_models")[0].GetString());
        Assert.Contains("vpl", errors.GetProperty("query_strategy")[0].GetString());
        Assert.Contains("vpl", errors.GetProperty("personalised_policies")[0].GetString());
        Assert.True(errors.TryGetProperty("policy_steps", out _), errors.ToString());
        Assert.Empty(await _http.GetFromJsonAsync<JsonElement[]>("/api/v1/campaigns") ?? []);

        // The policy learner and exploration are for continuous-action tasks, and are named.
        var learner = await _http.PostAsJsonAsync("/api/v1/campaigns", new Dictionary<string, object?>
        {
            ["name"] = "x", ["environment"] = "delivery-gridworld", ["segment_length"] = 3, ["pairs_per_round"] = 10, ["labels_per_round"] = 10,
            ["rounds"] = 1, ["policy_learner"] = "sac", ["exploration_steps"] = 5_000,
        });
        Assert.Equal(HttpStatusCode.BadRequest, learner.StatusCode);
        var learnerErrors = (await learner.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Contains("continuous-action", learnerErrors.GetProperty("policy_learner")[0].GetString());
        Assert.Contains("continuous-action", learnerErrors.GetProperty("exploration_steps")[0].GetString());
        var unknown = await _http.PostAsJsonAsync("/api/v1/campaigns", new Dictionary<string, object?>
        {
            ["name"] = "x", ["environment"] = "pendulum", ["segment_length"] = 3, ["pairs_per_round"] = 10, ["labels_per_round"] = 10,
            ["rounds"] = 1, ["policy_learner"] = "dqn", ["exploration_steps"] = -1,
        });
        var unknownErrors = (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Contains("ppo, sac", unknownErrors.GetProperty("policy_learner")[0].GetString());
        Assert.True(unknownErrors.TryGetProperty("exploration_steps", out _), unknownErrors.ToString());
        Assert.Empty(await _http.GetFromJsonAsync<JsonElement[]>("/api/v1/campaigns") ?? []);

        // A parameter out of its range names the parameter and the range; a good one is stored with the campaign.
        var definition = PreferenceStudio.Environments.EnvironmentRegistry.Definitions.FirstOrDefault(d => d.Parameters.Count > 0);
        Assert.NotNull(definition);
        var parameter = definition.Parameters[0];
        var outOfRange = await _http.PostAsJsonAsync("/api/v1/campaigns", new Dictionary<string, object?>
        {
            ["name"] = "x", ["environment"] = definition.Name, ["segment_length"] = 3, ["pairs_per_round"] = 10, ["labels_per_round"] = 10,
            ["rounds"] = 1, ["environment_parameters"] = new Dictionary<string, double> { [parameter.Name] = parameter.Max + 1 },
        });
        Assert.Equal(HttpStatusCode.BadRequest, outOfRange.StatusCode);
        var message = (await outOfRange.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors").GetProperty($"environment_parameters.{parameter.Name}")[0].GetString();
        Assert.Contains(parameter.Name, message);
        var id = await StudioTestApi.CreateCampaignAsync(_http, "with parameters", pairs: 10, labels: 10, rounds: 1, start: false, extra: new Dictionary<string, object?>
        {
            ["environment"] = definition.Name, ["environment_parameters"] = new Dictionary<string, double> { [parameter.Name] = parameter.Min },
            ["reward_model"] = "vpl", ["comparison_models"] = new[] { "bt", "regret" }, ["query_strategy"] = "info-gain", ["personalised_policies"] = true,
        });
        var settings = (await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}")).GetProperty("settings");
        Assert.Equal(parameter.Min, settings.GetProperty("environment_parameters").GetProperty(parameter.Name).GetDouble());
        Assert.Equal(["bt", "regret"], settings.GetProperty("comparison_models").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("info-gain", settings.GetProperty("query_strategy").GetString());
        Assert.Empty((await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}/runs")).EnumerateArray());
        Assert.Equal(HttpStatusCode.NotFound, (await _http.GetAsync($"/api/v1/campaigns/{Guid.NewGuid()}/runs")).StatusCode);
    }

    [Fact]
    public async Task Label_source_settings_are_checked_field_by_field()
    {
        var response = await _http.PostAsJsonAsync("/api/v1/campaigns", new Dictionary<string, object?>
        {
            ["name"] = "x", ["environment"] = "delivery-gridworld", ["segment_length"] = 3, ["pairs_per_round"] = 10, ["labels_per_round"] = 10,
            ["rounds"] = 1, ["seed"] = 1, ["label_source"] = "gut-feeling", ["hierarchy_weight"] = 0, ["hierarchy_pairs_per_round"] = 0,
        });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Contains("hierarchy", errors.GetProperty("label_source")[0].GetString());
        Assert.Contains("above 0", errors.GetProperty("hierarchy_weight")[0].GetString());
        Assert.Contains("100,000", errors.GetProperty("hierarchy_pairs_per_round")[0].GetString());

        var negative = await _http.PostAsJsonAsync("/api/v1/campaigns", new Dictionary<string, object?>
        {
            ["name"] = "x", ["environment"] = "delivery-gridworld", ["segment_length"] = 3, ["pairs_per_round"] = 10, ["labels_per_round"] = 10,
            ["rounds"] = 1, ["label_source"] = "both", ["hierarchy_weight"] = -1.5,
        });
        Assert.Equal(HttpStatusCode.BadRequest, negative.StatusCode);
        var negativeErrors = (await negative.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal(["hierarchy_weight"], negativeErrors.EnumerateObject().Select(e => e.Name));
        Assert.Empty(await _http.GetFromJsonAsync<JsonElement[]>("/api/v1/campaigns") ?? []);

        // Defaults: clip labels, weight 1, 500 pairs; a hierarchy campaign keeps what it was given.
        var plain = await StudioTestApi.CreateCampaignAsync(_http, "plain", pairs: 10, labels: 10, rounds: 1, start: false);
        var plainSettings = (await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{plain}")).GetProperty("settings");
        Assert.Equal("clips", plainSettings.GetProperty("label_source").GetString());
        Assert.Equal(1.0, plainSettings.GetProperty("hierarchy_weight").GetDouble());
        Assert.Equal(500, plainSettings.GetProperty("hierarchy_pairs_per_round").GetInt32());
        var ranked = await StudioTestApi.CreateCampaignAsync(_http, "ranked", pairs: 10, labels: 10, rounds: 1, start: false, extra: new Dictionary<string, object?>
        {
            ["label_source"] = "hierarchy", ["hierarchy_weight"] = 2.5, ["hierarchy_pairs_per_round"] = 1000,
        });
        var detail = await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{ranked}");
        Assert.Equal("hierarchy", detail.GetProperty("campaign").GetProperty("label_source").GetString());
        Assert.Equal(2.5, detail.GetProperty("settings").GetProperty("hierarchy_weight").GetDouble());
        Assert.Equal(1000, detail.GetProperty("settings").GetProperty("hierarchy_pairs_per_round").GetInt32());
    }

    [Fact]
    public async Task A_campaign_starts_pauses_and_resumes_and_the_hub_tells_watchers()
    {
        var id = await StudioTestApi.CreateCampaignAsync(_http, "lifecycle", pairs: 10, labels: 10, rounds: 2, start: false);

        var hub = new HubConnectionBuilder()
            .WithUrl(new Uri(_http.BaseAddress!, "/hubs/studio"), o =>
            {
                o.HttpMessageHandlerFactory = _ => _app.Server.CreateHandler();
                o.AccessTokenProvider = () => Task.FromResult<string?>(_app.AdminToken);
            })
            .Build();
        var changes = new List<JsonElement>();
        hub.On<JsonElement>("CampaignChanged", c => { lock (changes) changes.Add(c); });
        await hub.StartAsync();
        await hub.InvokeAsync("WatchCampaign", id);

        Assert.Equal(HttpStatusCode.NoContent, (await _http.PostAsync($"/api/v1/campaigns/{id}/start", null)).StatusCode);
        Assert.Equal("running", (await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}")).GetProperty("campaign").GetProperty("status").GetString());
        Assert.Equal(HttpStatusCode.NoContent, (await _http.PostAsync($"/api/v1/campaigns/{id}/pause", null)).StatusCode);
        Assert.Equal("paused", (await _http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{id}")).GetProperty("campaign").GetProperty("status").GetString());
        var pauseAgain = await _http.PostAsync($"/api/v1/campaigns/{id}/pause", null);
        Assert.Equal(HttpStatusCode.Conflict, pauseAgain.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await _http.PostAsync($"/api/v1/campaigns/{id}/start", null)).StatusCode);

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            lock (changes) if (changes.Count >= 3) break;
            await Task.Delay(50);
        }
        lock (changes)
        {
            Assert.True(changes.Count >= 3, $"hub delivered {changes.Count} changes");
            Assert.All(changes, c => Assert.Equal(id, c.GetProperty("campaignId").GetGuid()));
        }
        await hub.DisposeAsync();
    }

    [Fact]
    public async Task Unreadable_bodies_and_unknown_routes_get_problem_details_that_say_what_to_fix()
    {
        var wrongType = await _http.PostAsync("/api/v1/campaigns",
            new StringContent("{\"name\": \"x\", \"rounds\": \"three\"}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Equal("application/problem+json", wrongType.Content.Headers.ContentType?.MediaType);
        Assert.Contains("$.rounds", (await wrongType.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());

        var unknown = await _http.GetAsync("/api/v1/no-such-thing");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        Assert.Contains("/openapi/v1.json", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());
    }

    [Fact]
    public async Task Health_endpoints_answer()
    {
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync("/health/ready")).StatusCode);
    }
}
