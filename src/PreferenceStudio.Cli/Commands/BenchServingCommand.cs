using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio bench serving</c>: k raters per pair under a crowd. Against a running studio (<c>--url</c>, with an API
/// token that may create campaigns), it creates and starts a one-round campaign with <c>labels_per_pair = k</c> and
/// pairs x k labels wanted, makes <c>--raters</c> scripted raters and lets all of them ask for pairs and answer at once
/// until the round closes. Then it counts each pair's answers (from the campaign's gold-pair listing, which shows every
/// shared pair of the round with its label count) and prints one JSON object: the most answers any pair got, pairs with
/// fewer than k, answers refused, labels per second.
/// </summary>
public static class BenchServingCommand
{
    public static Command Create()
    {
        var urlOption = BenchStudio.Url();
        var tokenOption = CliOptions.Optional<string>("--token", "an API token with campaigns:write (default: STUDIO_TOKEN)", "pst_...");
        var ratersOption = CliOptions.With("--raters", 200, "scripted raters answering at once");
        var kOption = CliOptions.With("--k", 3, "raters per pair (labels_per_pair)");
        var pairsOption = CliOptions.With("--pairs", 100, "pairs in the round");
        var seedOption = CliOptions.With("--seed", 1, "the campaign's seed");
        var campaignOption = BenchStudio.Campaign();
        return new Command("serving", "k raters per pair: a crowd of scripted raters against a running studio, answers per pair counted")
        {
            urlOption, tokenOption, ratersOption, kOption, pairsOption, seedOption, campaignOption,
        }.WithAction((parse, ct) =>
        {
            var token = parse.GetValue(tokenOption) ?? Environment.GetEnvironmentVariable("STUDIO_TOKEN");
            if (string.IsNullOrEmpty(token)) throw new CliUsageException("give an API token (--token or STUDIO_TOKEN) with campaigns:write.");
            return RunAsync(parse.GetRequiredValue(urlOption).ToString(), token, parse.GetValue(ratersOption), parse.GetValue(kOption), parse.GetValue(pairsOption),
                parse.GetValue(seedOption), parse.GetValue(campaignOption));
        });
    }

    private static async Task<int> RunAsync(string url, string token, int raters, int k, int pairs, int seed, Guid? existing)
    {
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        Guid campaign;
        // A campaign made by an earlier run that has not been answered yet (rendering its clips is the slow part).
        if (existing is { } given) campaign = given;
        else
        {
            var created = await http.PostAsJsonAsync("/api/v1/campaigns", new Dictionary<string, object?>
            {
                ["name"] = $"bench serving k={k} {DateTime.UtcNow:HHmmss}", ["environment"] = "delivery-gridworld", ["segment_length"] = 3,
                ["pairs_per_round"] = pairs, ["labels_per_round"] = pairs * k, ["rounds"] = 1, ["seed"] = seed, ["labels_per_pair"] = k,
            });
            if (!created.IsSuccessStatusCode) return Fail($"creating the campaign: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
            campaign = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
            var started = await http.PostAsync($"/api/v1/campaigns/{campaign}/start", null);
            if (!started.IsSuccessStatusCode) return Fail($"starting the campaign: {(int)started.StatusCode}");
        }
        Console.Error.WriteLine($"campaign {campaign}: waiting for round 1 to open");
        for (var deadline = DateTime.UtcNow.AddMinutes(20); ; await Task.Delay(500))
        {
            var detail = await http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}");
            var rounds = detail.GetProperty("rounds");
            if (rounds.GetArrayLength() > 0 && string.Equals(rounds[0].GetProperty("status").GetString(), "open", StringComparison.OrdinalIgnoreCase)) break;
            if (DateTime.UtcNow > deadline) return Fail("round 1 did not open within 20 minutes");
        }

        var made = await http.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/raters", new { count = raters, kind = "simulated" });
        if (!made.IsSuccessStatusCode) return Fail($"making raters: {(int)made.StatusCode} {await made.Content.ReadAsStringAsync()}");
        var tokens = (await made.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("raters").EnumerateArray().Select(r => r.GetProperty("token").GetString()!).ToList();

        int answered = 0, refused = 0, errors = 0, resent = 0;
        var reasons = new System.Collections.Concurrent.ConcurrentDictionary<string, int>();
        var clock = Stopwatch.StartNew();
        var crowd = tokens.Select((raterToken, index) => Task.Run(async () =>
        {
            var rng = new Random(index);
            using var rater = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2) };
            rater.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", raterToken);
            for (int step = 0; step < 10 * pairs; step++)
            {
                var state = await rater.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/next");
                var status = state.GetProperty("status").GetString();
                if (status == "round_done_for_rater") { await Task.Delay(200); continue; }
                if (status != "ready") return;
                var id = state.GetProperty("pair").GetProperty("comparison_id").GetGuid();
                var body = new { comparison_id = id, choice = rng.Next(2) == 0 ? "left" : "right", idempotency_key = $"{index}:{id:N}" };
                // As a rater's browser would: an answer that failed on the server is sent again with the same key
                // (stored once), up to three times.
                for (int attempt = 1; ; attempt++)
                {
                    var response = await rater.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/labels", body);
                    if (response.IsSuccessStatusCode)
                    {
                        var receipt = await response.Content.ReadFromJsonAsync<JsonElement>();
                        if (!receipt.GetProperty("duplicate").GetBoolean()) Interlocked.Increment(ref answered);
                        break;
                    }
                    if ((int)response.StatusCode == 409)
                    {
                        Interlocked.Increment(ref refused);
                        var detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString() ?? "";
                        reasons.AddOrUpdate(detail.Split(';')[0], 1, (_, n) => n + 1);
                        break;
                    }
                    if (attempt == 3) { Interlocked.Increment(ref errors); break; }
                    Interlocked.Increment(ref resent);
                }
            }
        })).ToList();
        await Task.WhenAll(crowd);
        double seconds = clock.Elapsed.TotalSeconds;

        var listed = await http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/gold");
        var counts = listed.EnumerateArray().Select(p => p.GetProperty("labels").GetInt32()).ToList();
        var final = await http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}");
        Console.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["campaign"] = campaign, ["raters"] = raters, ["labels_per_pair"] = k, ["pairs"] = counts.Count,
            ["labels"] = answered, ["most_answers_on_a_pair"] = counts.Count == 0 ? 0 : counts.Max(),
            ["pairs_with_fewer_than_k"] = counts.Count(c => c < k), ["answers_refused"] = refused, ["refusals"] = reasons, ["answers_resent_after_a_server_error"] = resent, ["errors"] = errors,
            ["round_status"] = final.GetProperty("rounds")[0].GetProperty("status").GetString(),
            ["seconds"] = Math.Round(seconds, 2), ["labels_per_second"] = Math.Round(answered / seconds, 1),
            ["load_average"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : null,
        }));
        return 0;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return 1;
    }
}
