using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio bench round</c>: round turnaround as a rater feels it. Against a running studio it starts a two-round
/// campaign (<c>--env</c>, <c>--model</c>, <c>--pairs</c> pairs and labels per round), lets one scripted rater answer
/// every pair of round 1, then asks for the next pair every 50 ms until round 2 serves one, and prints
/// <c>turnaround_seconds</c>: from the acknowledgement of round 1's last label to round 2's first pair served (the
/// round's training, the next policy, the new rollouts and their clips).
/// </summary>
public static class BenchRoundCommand
{
    public static Command Create()
    {
        var urlOption = BenchStudio.Url();
        var envOption = CliOptions.With("--env", "delivery-gridworld", "the campaign's environment", "NAME");
        var modelOption = CliOptions.Choice("--model", "bt", PreferenceStudio.Learning.RewardModels.Types, "the campaign's reward model");
        var pairsOption = CliOptions.With("--pairs", 30, "pairs and labels per round");
        var seedOption = CliOptions.With("--seed", 1, "the campaign's seed");
        var tokenOption = BenchStudio.Token();
        var connectionOption = CliOptions.Connection();
        return new Command("round", "round turnaround: last label of a round to the next round's first pair served")
        {
            urlOption, envOption, modelOption, pairsOption, seedOption, tokenOption, connectionOption,
        }.WithAction((parse, ct) =>
        {
            int pairs = parse.GetValue(pairsOption);
            if (pairs < 2) throw new CliUsageException("--pairs is at least 2.");
            return BenchStudio.GuardAsync(() => RunAsync(parse.GetRequiredValue(urlOption).ToString(), parse.GetRequiredValue(envOption),
                parse.GetRequiredValue(modelOption), pairs, parse.GetValue(seedOption), parse.GetValue(tokenOption), parse.GetValue(connectionOption)));
        });
    }

    private static async Task<int> RunAsync(string url, string env, string model, int pairs, int seed, string? givenToken, string? connection)
    {
        var (token, local) = await BenchStudio.IdentityAsync(givenToken, connection, "bench round");
        await using var localServices = local;
        using var http = BenchStudio.Client(url, token);
        var campaign = await BenchStudio.StartCampaignAsync(http, new Dictionary<string, object?>
        {
            ["name"] = $"bench round {env} {model} {DateTime.UtcNow:HHmmss}", ["environment"] = env, ["reward_model"] = model,
            ["pairs_per_round"] = pairs, ["labels_per_round"] = pairs, ["rounds"] = 2, ["seed"] = seed,
        });
        await BenchStudio.WaitForOpenRoundAsync(http, campaign, 0, TimeSpan.FromMinutes(30));
        var (_, raterToken) = (await BenchStudio.RatersAsync(http, campaign, 1))[0];
        using var rater = BenchStudio.Client(url, raterToken);

        var rng = new Random(1);
        long lastAck = 0;
        int answered = 0;
        while (true)
        {
            var state = await rater.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/next");
            if (state.GetProperty("status").GetString() != "ready" || state.GetProperty("round").GetInt32() != 0) break;
            var id = state.GetProperty("pair").GetProperty("comparison_id").GetGuid();
            var response = await rater.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/labels",
                new { comparison_id = id, choice = rng.Next(2) == 0 ? "left" : "right", idempotency_key = $"round:{id:N}" });
            if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"answering: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            lastAck = Stopwatch.GetTimestamp();
            answered++;
        }
        if (answered == 0) throw new InvalidOperationException("round 1 served no pair to answer");
        double load = BenchStudio.LoadAverage();

        // Round 1 is closed by its last label; round 2's first pair is what the rater waits for.
        for (var deadline = DateTime.UtcNow.AddMinutes(30); ; await Task.Delay(50))
        {
            var state = await rater.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}/next");
            if (state.GetProperty("status").GetString() == "ready" && state.GetProperty("round").GetInt32() == 1) break;
            if (DateTime.UtcNow > deadline) throw new TimeoutException("round 2 served no pair within 30 minutes");
        }
        var turnaround = Stopwatch.GetElapsedTime(lastAck).TotalSeconds;
        Console.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["campaign"] = campaign, ["env"] = env, ["model"] = model, ["pairs"] = pairs, ["labels"] = answered,
            ["turnaround_seconds"] = Math.Round(turnaround, 2),
            ["load_average_before"] = load, ["load_average_after"] = BenchStudio.LoadAverage(),
        }));
        return 0;
    }
}
