using System.CommandLine;
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
    public static Command Create()
    {
        var envOption = CliOptions.With("--env", "delivery-gridworld", "a tabular environment (the scaled return needs one)", "NAME");
        var modelsOption = CliOptions.With("--models", "bt,regret,vpl", "reward-model types to compare, comma-separated", "M,M");
        var strategiesOption = CliOptions.With("--strategies", "random,disagreement,info-gain", "query strategies to compare, comma-separated", "S,S");
        var seedsOption = CliOptions.With("--seeds", 5, "seeds per model and strategy");
        var roundsOption = CliOptions.With("--rounds", 10, "rounds at most per seed");
        var pairsOption = CliOptions.With("--pairs-per-round", 30, "pairs asked each round");
        var lengthOption = CliOptions.Optional<int?>("--segment-length", "steps per segment (default: the environment's)", "N");
        var teacherOption = CliOptions.Choice("--teacher", "oracle", Environments.Teachers.SimulatedTeacher.PresetNames, "the simulated teacher", ignoreCase: true);
        var targetOption = CliOptions.With("--target", 0.9, "scaled return to reach");
        var epochsOption = CliOptions.With("--epochs", 200, "reward-model training epochs");
        var threadsOption = CliOptions.With("--threads", 1, "libtorch intra-op threads");
        return new Command("labels", "labels a simulated campaign needs to reach a scaled return of 0.9, per model and query strategy")
        {
            envOption, modelsOption, strategiesOption, seedsOption, roundsOption, pairsOption, lengthOption, teacherOption, targetOption, epochsOption, threadsOption,
        }.WithAction((parse, ct) =>
        {
            var env = EnvironmentRegistry.Get(parse.GetRequiredValue(envOption));
            if (env is not ITabularEnvironment)
                throw new CliUsageException($"the scaled return needs a tabular environment; {env.Name} is not one.");
            static string[] List(string text) => text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var models = List(parse.GetRequiredValue(modelsOption));
            var strategies = List(parse.GetRequiredValue(strategiesOption));
            if (models.FirstOrDefault(m => !RewardModels.Types.Contains(m)) is { } unknown)
                throw new CliUsageException($"unknown model {unknown}. Known models: {string.Join(", ", RewardModels.Types)}.");
            if (strategies.FirstOrDefault(q => !Learning.QuerySelection.QuerySelectors.Names.Contains(q)) is { } unknownStrategy)
                throw new CliUsageException($"unknown strategy {unknownStrategy}. Known strategies: {string.Join(", ", Learning.QuerySelection.QuerySelectors.Names)}.");
            var run = new Run(env, models, strategies, parse.GetValue(seedsOption), parse.GetValue(roundsOption), parse.GetValue(pairsOption),
                parse.GetValue(lengthOption) ?? env.DefaultSegmentLength, parse.GetRequiredValue(teacherOption), parse.GetValue(targetOption),
                parse.GetValue(epochsOption), parse.GetValue(threadsOption));
            if (run.Seeds < 1 || run.Rounds < 1 || run.Pairs < 2)
                throw new CliUsageException("--seeds and --rounds must be at least 1, --pairs-per-round at least 2.");
            return RunAsync(run);
        });
    }

    private sealed record Run(IPreferenceEnvironment Env, string[] Models, string[] Strategies, int Seeds, int Rounds, int Pairs, int SegmentLength,
        string Teacher, double Target, int Epochs, int Threads);

    private static async Task<int> RunAsync(Run r)
    {
        var (env, models, strategies, seeds, rounds, pairs, target) = (r.Env, r.Models, r.Strategies, r.Seeds, r.Rounds, r.Pairs, r.Target);
        using var worker = new TorchTrainingThread(new TorchOptions { Device = "cpu", Threads = r.Threads });
        await worker.Device;
        var clock = Stopwatch.StartNew();
        var results = new List<Dictionary<string, object?>>();
        foreach (var model in models)
            foreach (var strategy in strategies)
            {
                var reached = new List<int?>();
                for (int seed = 1; seed <= seeds; seed++)
                {
                    var settings = new SimulationSettings(model, strategy, r.Teacher, rounds, pairs,
                        r.SegmentLength, seed, new RewardModelOptions { Epochs = r.Epochs, Device = "cpu" });
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
            ["env"] = env.Name, ["target"] = target, ["pairs_per_round"] = pairs, ["rounds"] = rounds, ["teacher"] = r.Teacher,
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
