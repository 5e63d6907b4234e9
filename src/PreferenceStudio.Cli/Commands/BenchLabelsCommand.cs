using System.Diagnostics;
using System.Text.Json;
using PreferenceStudio.Environments;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Loop;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio bench labels</c>: how many labels a simulated campaign (<see cref="SimulationLoop"/>, oracle teacher by
/// default) needs before the greedy policy on the learned reward reaches a scaled return of at least the target (0.9,
/// "near-optimal" in Knox et al.), for each model and query strategy, over several seeds. Prints a JSON line per
/// model and strategy (per-seed label counts, median) and, last, one JSON object with all of them. A seed that never
/// reaches the target within the rounds counts as not reached (null), and the median is over all seeds with
/// not-reached ranked last, so it is null when half or more never reach it.
/// </summary>
public static class BenchLabelsCommand
{
    private const string Usage =
        "usage: studio bench labels [--env delivery-gridworld] [--models bt,regret,vpl] [--strategies random,disagreement,info-gain] " +
        "[--seeds 5] [--rounds 10] [--pairs-per-round 30] [--segment-length N] [--teacher oracle] [--target 0.9] [--epochs 200] [--threads 1]";

    private static readonly string[] Options =
        ["env", "models", "strategies", "seeds", "rounds", "pairs-per-round", "segment-length", "teacher", "target", "epochs", "threads", "help"];

    public static async Task<int> RunAsync(string[] args)
    {
        CliArgs cli;
        IPreferenceEnvironment env;
        try
        {
            cli = CliArgs.Parse(args);
            if (cli.Has("help")) { Console.Error.WriteLine(Usage); return 0; }
            cli.EnsureOnly(Options);
            env = EnvironmentRegistry.Get(cli.Get("env", "delivery-gridworld"));
        }
        catch (Exception e) when (e is CliUsageException or ArgumentException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
        if (env is not ITabularEnvironment)
        {
            Console.Error.WriteLine($"error: the scaled return needs a tabular environment; {env.Name} is not one.");
            return 2;
        }
        var models = cli.Get("models", "bt,regret,vpl").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var strategies = cli.Get("strategies", "random,disagreement,info-gain").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        int seeds = cli.GetInt("seeds", 5), rounds = cli.GetInt("rounds", 10), pairs = cli.GetInt("pairs-per-round", 30);
        double target = cli.GetDouble("target", 0.9);
        var unknown = models.Where(m => !RewardModels.Types.Contains(m)).ToList();
        if (unknown.Count > 0 || seeds < 1 || rounds < 1 || pairs < 2)
        {
            Console.Error.WriteLine(unknown.Count > 0 ? $"error: unknown model {unknown[0]}." : "error: --seeds and --rounds must be at least 1, --pairs-per-round at least 2.");
            return 2;
        }

        using var worker = new TorchTrainingThread(new TorchOptions { Device = "cpu", Threads = cli.GetInt("threads", 1) });
        await worker.Device;
        var clock = Stopwatch.StartNew();
        var results = new List<Dictionary<string, object?>>();
        foreach (var model in models)
            foreach (var strategy in strategies)
            {
                var reached = new List<int?>();
                for (int seed = 1; seed <= seeds; seed++)
                {
                    var settings = new SimulationSettings(model, strategy, cli.Get("teacher", "oracle"), rounds, pairs,
                        cli.GetInt("segment-length", env.DefaultSegmentLength), seed, new RewardModelOptions { Epochs = cli.GetInt("epochs", 200), Device = "cpu" });
                    int? labels = await worker.RunAsync(() =>
                    {
                        foreach (var round in SimulationLoop.Run(env, settings))
                        {
                            Console.Error.WriteLine($"{model}/{strategy} seed {seed} round {round.Round}: {round.Labels} labels, scaled return {round.ScaledReturn:0.000}");
                            if (round.ScaledReturn >= target) return (int?)round.Labels;
                        }
                        return null;
                    });
                    reached.Add(labels);
                }
                var line = new Dictionary<string, object?>
                {
                    ["model"] = model, ["strategy"] = strategy, ["labels_to_target"] = reached, ["median"] = Median(reached),
                    ["reached"] = reached.Count(r => r is not null), ["seeds"] = seeds,
                };
                Console.Out.WriteLine(JsonSerializer.Serialize(line));
                results.Add(line);
            }
        Console.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["env"] = env.Name, ["target"] = target, ["pairs_per_round"] = pairs, ["rounds"] = rounds, ["teacher"] = cli.Get("teacher", "oracle"),
            ["results"] = results.Select(r => new { model = r["model"], strategy = r["strategy"], median = r["median"], reached = r["reached"] }),
            ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
        }));
        return 0;
    }

    /// <summary>Median with "never reached" ranked above every count; null when the middle falls on one.</summary>
    internal static double? Median(IReadOnlyList<int?> values)
    {
        var sorted = values.OrderBy(v => v ?? int.MaxValue).ToList();
        int n = sorted.Count;
        if (n == 0) return null;
        int? a = sorted[(n - 1) / 2], b = sorted[n / 2];
        return a is null || b is null ? null : (a.Value + b.Value) / 2.0;
    }
}
