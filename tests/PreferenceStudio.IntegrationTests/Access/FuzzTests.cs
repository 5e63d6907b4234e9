using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.IntegrationTests.Infrastructure;
using PreferenceStudio.IntegrationTests.Web;

namespace PreferenceStudio.IntegrationTests.Access;

/// <summary>
/// Property-based fuzzing (CsCheck) of what callers send: JSON bodies of every endpoint that takes one, each sent by an
/// identity allowed to use it, and import files made by damaging valid lines. Never a 5xx; a refused request changes
/// no row; an accepted import stores exactly what it reports.
/// </summary>
public sealed class FuzzTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly string[] KnownKeys =
    [
        "comparison_id", "choice", "idempotency_key", "rater_id", "answered_at", "factors", "margins", "name", "environment", "board",
        "segment_length", "pairs_per_round", "labels_per_round", "rounds", "seed", "environment_parameters", "reward_model",
        "comparison_models", "query_strategy", "personalised_policies", "policy_steps", "policy_learner", "exploration_steps", "surf", "label_source", "hierarchy_weight",
        "hierarchy_pairs_per_round", "max_raters", "invite_only", "email", "role", "count", "kind", "pseudonyms",
    ];

    private static readonly string[] Words =
    [
        "left", "right", "equal", "incomparable", "sideways", "delivery-gridworld", "pendulum", "standard", "bt", "vpl", "random", "clips", "sac", "ppo",
        "hierarchy", "both", "goal", "sheep", "gas", "coin", "roadblock", "mud", "owner", "editor", "viewer", "admin", "scripted", "simulated",
        "human", "ada@fuzz.test", "", " ", "null", "💥", "'; DROP TABLE labels; --", "../../etc/passwd", new string('x', 5000),
        "00000000-0000-0000-0000-000000000000", "2026-13-45T99:99:99Z",
    ];

    private static Gen<T> Pick<T>(IReadOnlyList<T> items) => Gen.Int[0, items.Count - 1].Select(i => items[i]);

    private static readonly Gen<JsonNode?> Scalar = Gen.Frequency(
        (1, Gen.Bool.Select(_ => (JsonNode?)null)),
        (1, Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b))),
        (3, Gen.Int[-3, 2_000_000].Select(i => (JsonNode?)JsonValue.Create(i))),
        (1, Gen.Long.Select(l => (JsonNode?)JsonValue.Create(l))),
        (1, Gen.Double.Where(double.IsFinite).Select(d => (JsonNode?)JsonValue.Create(d))),
        (4, Pick(Words).Select(w => (JsonNode?)JsonValue.Create(w))),
        (1, Gen.String.Select(s => (JsonNode?)JsonValue.Create(s))),
        (1, Gen.Guid.Select(g => (JsonNode?)JsonValue.Create(g.ToString()))));

    private static Gen<JsonNode?> Value(int depth) => depth == 0 ? Scalar : Gen.Frequency(
        (6, Scalar),
        (2, Value(depth - 1).Array[0, 6].Select(items => (JsonNode?)new JsonArray(items.Select(i => i?.DeepClone()).ToArray()))),
        (1, Object(depth - 1).Select(o => (JsonNode?)o)));

    private static Gen<JsonObject> Object(int depth) =>
        Gen.Select(Gen.Frequency((4, Pick(KnownKeys)), (1, Gen.String[0, 12])), Value(depth)).Array[0, 8].Select(fields =>
        {
            var o = new JsonObject();
            foreach (var (key, value) in fields) o[key] = value?.DeepClone();
            return o;
        });

    /// <summary>Mostly JSON objects; sometimes JSON that is cut short, a bare value, or not JSON at all.</summary>
    private static readonly Gen<string> Body = Gen.Frequency(
        (8, Object(2).Select(o => o.ToJsonString())),
        (1, Gen.Select(Object(2), Gen.Int[0, 100]).Select(t => { var s = t.Item1.ToJsonString(); return s[..Math.Min(s.Length, t.Item2)]; })),
        (1, Value(1).Select(v => v?.ToJsonString() ?? "null")),
        (1, Gen.String));

    /// <param name="Shape">Fixes fields of a generated object before it is sent (e.g. a real comparison id), so the fuzzing reaches past the first check.</param>
    private sealed record Target(string Name, HttpMethod Method, string Path, HttpClient Client, Action<JsonObject>? Shape = null);

    /// <summary>Rows of every table a request could write, in one query.</summary>
    private static async Task<string> SnapshotAsync(string cs)
    {
        await using var db = StudioDbContext.Create(cs);
        var counts = await db.Database.SqlQuery<string>($"""
            SELECT concat_ws(',', (SELECT count(*) FROM campaigns), (SELECT count(*) FROM campaign_members), (SELECT count(*) FROM raters),
                (SELECT count(*) FROM campaign_raters), (SELECT count(*) FROM labels), (SELECT count(*) FROM factor_rankings),
                (SELECT count(*) FROM rater_invites), (SELECT count(*) FROM comparisons), (SELECT count(*) FROM segments),
                (SELECT count(*) FROM assignments), (SELECT count(*) FROM rater_erasures), (SELECT count(*) FROM users)) AS "Value"
            """).SingleAsync();
        return counts;
    }

    [Fact]
    public async Task Fuzzed_json_bodies_never_get_a_5xx_and_a_refused_one_writes_nothing()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("fuzz_json"), StudioAppFactory.NewDataRoot("fuzz_json"),
            settings: new Dictionary<string, string> { ["Studio:Security:RateLimits:LabelsPerRater"] = "100000" });
        var http = app.CreateClient();
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "fuzz", pairs: 40, labels: 200, rounds: 1,
            extra: new Dictionary<string, object?> { ["label_source"] = "both" });
        await StudioTestApi.WaitForRoundAsync(app.ConnectionString, campaign, 0, RoundStatus.Open, TimeSpan.FromSeconds(120));
        var served = (await StudioTestApi.NextAsync(http, campaign, "r-fuzz")).GetProperty("pair").GetProperty("comparison_id").GetGuid();
        var rater = StudioIdentities.NewClient(app);
        rater.DefaultRequestHeaders.Authorization = new("Bearer", await StudioTestApi.RaterTokenAsync(http, campaign, "r-fuzz"));
        await app.Service<PreferenceStudio.Web.Features.Access.UserAccounts>().CreateAsync("ada@fuzz.test", StudioIdentities.Password, StudioRoles.Researcher);

        var targets = new[]
        {
            new Target("label", HttpMethod.Post, $"/api/v1/campaigns/{campaign}/labels", rater),
            new Target("served label", HttpMethod.Post, $"/api/v1/campaigns/{campaign}/labels", rater, o => o["comparison_id"] = served.ToString()),
            new Target("ranking", HttpMethod.Post, $"/api/v1/campaigns/{campaign}/rankings", rater),
            new Target("campaign", HttpMethod.Post, "/api/v1/campaigns", http),
            new Target("member", HttpMethod.Put, $"/api/v1/campaigns/{campaign}/members", http),
            new Target("raters", HttpMethod.Post, $"/api/v1/campaigns/{campaign}/raters", http),
            new Target("invites", HttpMethod.Post, $"/api/v1/campaigns/{campaign}/invites", http),
        };
        int refused = 0, accepted = 0;
        var shaped = Gen.Select(Pick(targets), Body, Object(2)).Select(t =>
        {
            var (target, body, o) = t;
            if (target.Shape is null) return (target, body);
            target.Shape(o);
            return (target, o.ToJsonString());
        });
        await shaped.SampleAsync(async (target, body) =>
        {
            var before = await SnapshotAsync(app.ConnectionString);
            var response = await target.Client.SendAsync(new HttpRequestMessage(target.Method, target.Path)
            {
                Content = new StringContent(body, Encoding.UTF8, "application/json"),
            });
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode < 500, $"{target.Name} {body} -> {(int)response.StatusCode} {text}");
            if ((int)response.StatusCode >= 400)
            {
                Interlocked.Increment(ref refused);
                Assert.True(response.Content.Headers.ContentType?.MediaType == "application/problem+json", $"{target.Name} {body} -> {(int)response.StatusCode} not a problem: {text}");
                Assert.Equal(before, await SnapshotAsync(app.ConnectionString));
            }
            else Interlocked.Increment(ref accepted);
        }, iter: 300, threads: 1);
        Assert.True(refused > 100, $"only {refused} refused");
    }

    [Fact]
    public async Task Fuzzed_import_files_never_get_a_5xx_and_are_stored_all_or_nothing()
    {
        await using var app = new StudioAppFactory(await postgres.CreateDatabaseAsync("fuzz_import"), StudioAppFactory.NewDataRoot("fuzz_import"), runWorker: false);
        var http = app.CreateClient();
        var campaign = await StudioTestApi.CreateCampaignAsync(http, "fuzz-import", pairs: 4, labels: 4, rounds: 1, start: false);
        var good = DatasetApiTests.SampleLines(4, seed: 31);
        good.Add("""{"schema":"preferencestudio/factor-ranking@1","id":"k","environment":"delivery-gridworld","rater":"r-1","factors":["goal","sheep","gas","coin","roadblock","mud"],"margins":[1,1,1,1,1,1],"created_at":"2026-11-02T09:30:00Z"}""");

        // One damage to one line of a valid file: a character changed, the line cut, a field dropped, a value replaced, a line doubled.
        var damage = Gen.Select(Gen.Int[0, good.Count - 1], Gen.Int[0, 4], Gen.Int[0, 10_000], Scalar).Select(t =>
        {
            var (line, kind, at, value) = t;
            var lines = good.Select((l, i) => i < 4 ? l.Replace($"sample/31/{i}", $"fuzz/{at}/{i}") : l.Replace("\"id\":\"k\"", $"\"id\":\"k{at}\"")).ToList();
            var text = lines[line];
            int p = at % text.Length;
            lines[line] = kind switch
            {
                0 => text[..p] + (char)(33 + at % 90) + text[(p + 1)..],
                1 => text[..p],
                2 => RemoveField(text, at),
                3 => ReplaceValue(text, at, value),
                _ => text,
            };
            if (kind == 4) lines.Insert(line, lines[line]);
            return string.Join("\n", lines) + "\n";
        });
        int stored = 0, refused = 0;
        await damage.SampleAsync(async file =>
        {
            await using var db = app.CreateDb();
            int comparisonsBefore = await db.Comparisons.CountAsync(c => c.CampaignId == campaign);
            int labelsBefore = await db.Labels.CountAsync(c => c.CampaignId == campaign);
            var before = await SnapshotAsync(app.ConnectionString);
            var response = await http.PostAsync($"/api/v1/campaigns/{campaign}/preferences/import", new StringContent(file, Encoding.UTF8, "application/x-ndjson"));
            var text = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode < 500, $"{file} -> {(int)response.StatusCode} {text}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                Interlocked.Increment(ref stored);
                var result = System.Text.Json.JsonDocument.Parse(text).RootElement;
                int imported = result.GetProperty("imported").GetInt32();
                Assert.Equal(comparisonsBefore + imported, await db.Comparisons.CountAsync(c => c.CampaignId == campaign));
                Assert.Equal(labelsBefore + imported, await db.Labels.CountAsync(c => c.CampaignId == campaign));
            }
            else
            {
                Interlocked.Increment(ref refused);
                Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
                Assert.Equal(before, await SnapshotAsync(app.ConnectionString));
            }
        }, iter: 150, threads: 1);
        Assert.True(stored > 0 && refused > 0, $"stored {stored}, refused {refused}: the damage should sometimes be harmless and usually not");
    }

    private static string RemoveField(string line, int at)
    {
        var node = JsonNode.Parse(line)!.AsObject();
        var keys = node.Select(p => p.Key).ToList();
        node.Remove(keys[at % keys.Count]);
        return node.ToJsonString();
    }

    private static string ReplaceValue(string line, int at, JsonNode? value)
    {
        var node = JsonNode.Parse(line)!.AsObject();
        var keys = node.Select(p => p.Key).ToList();
        node[keys[at % keys.Count]] = value?.DeepClone();
        return node.ToJsonString();
    }
}
