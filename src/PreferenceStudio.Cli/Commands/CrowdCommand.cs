using System.Diagnostics;
using System.Text.Json;
using PreferenceStudio.Core.Exchange;
using PreferenceStudio.Environments;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Loop;
using PreferenceStudio.Learning.Reliability;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio simulate --crowd oracle:8,random:6,adversarial:6</c>: a crowd study without people
/// (<see cref="CrowdSimulation"/>). Prints one JSON object: accuracy on a clean test set labelled by the true reward
/// and, with <c>--rater-weighting reliability</c>, each rater's estimated reliability and the mean per teacher.
/// <c>--out</c> and <c>--test-out</c> write the crowd's labels and the clean test set in the exchange format, for
/// <c>studio train --data crowd.jsonl --test clean.jsonl</c>.
/// </summary>
public static class CrowdCommand
{
    public const string Usage =
        "usage: studio simulate --crowd TEACHER:N,TEACHER:N --env NAME [--params k=v] [--model bt|regret|vpl] [--rater-weighting none|reliability] " +
        "[--pool 200] [--labels-per-rater 60] [--gold-per-rater 0] [--gold-margin 0.5] [--test-pairs 500] [--segment-length N] [--seed 1] " +
        "[--epochs 200] [--ensemble K] [--device auto|cpu|cuda] [--threads N] [--out CROWD.jsonl] [--test-out CLEAN.jsonl]";

    public static readonly string[] Options =
        ["crowd", "env", "params", "model", "rater-weighting", "pool", "labels-per-rater", "gold-per-rater", "gold-margin", "test-pairs",
         "segment-length", "seed", "epochs", "ensemble", "device", "threads", "out", "test-out", "help"];

    public static async Task<int> RunAsync(CliArgs cli)
    {
        IPreferenceEnvironment env;
        CrowdSettings settings;
        try
        {
            cli.EnsureOnly(Options);
            env = EnvironmentRegistry.Create(cli.Require("env"), SimulateCommand.ParseParameters(cli.Get("params")));
            var model = cli.Get("model", "bt");
            if (!RewardModels.Types.Contains(model)) throw new CliUsageException($"unknown model '{model}'. Known models: {string.Join(", ", RewardModels.Types)}.");
            var weighting = cli.Get("rater-weighting", RaterWeighting.None);
            if (!RaterWeighting.All.Contains(weighting))
                throw new CliUsageException($"--rater-weighting is {string.Join(" or ", RaterWeighting.All)}, not '{weighting}'.");
            settings = new CrowdSettings(
                CrowdSpec.Parse(cli.Require("crowd")), model, weighting,
                Pool: cli.GetInt("pool", 200), LabelsPerRater: cli.GetInt("labels-per-rater", 60), GoldPerRater: cli.GetInt("gold-per-rater", 0),
                GoldMargin: cli.GetDouble("gold-margin", 0.5), TestPairs: cli.GetInt("test-pairs", 500),
                SegmentLength: cli.GetInt("segment-length", env.DefaultSegmentLength), Seed: cli.GetInt("seed", 1),
                ModelOptions: new RewardModelOptions { Epochs = cli.GetInt("epochs", 200), EnsembleSize = cli.GetInt("ensemble", new RewardModelOptions().EnsembleSize) });
        }
        catch (Exception e) when (e is CliUsageException or ArgumentException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        using var worker = new TorchTrainingThread(new TorchOptions { Device = cli.Get("device", "auto"), Threads = cli.GetInt("threads", 1) });
        string device = await worker.Device;
        settings = settings with { ModelOptions = settings.ModelOptions! with { Device = device } };
        var clock = Stopwatch.StartNew();
        CrowdResult result;
        try
        {
            result = await worker.RunAsync(() => CrowdSimulation.Run(env, settings));
        }
        catch (Exception e) when (e is RewardTrainingException or ArgumentException or InvalidOperationException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        if (cli.Get("out") is { } outPath) Write(outPath, env, result.Labels, "crowd");
        if (cli.Get("test-out") is { } testPath) Write(testPath, env, result.CleanTest, "clean");

        var line = new Dictionary<string, object?>
        {
            ["environment"] = env.Name,
            ["crowd"] = settings.Crowd.ToString(),
            ["model"] = settings.Model,
            ["rater_weighting"] = settings.RaterWeighting,
            ["labels"] = result.Labels.Count,
            ["pool"] = settings.Pool,
            ["labels_per_rater"] = settings.LabelsPerRater,
            ["gold_per_rater"] = settings.GoldPerRater,
            ["clean_test_pairs"] = result.CleanTest.Count,
            ["clean_accuracy"] = Math.Round(result.Clean.Accuracy, 4),
            ["clean_loglik"] = Math.Round(result.Clean.MeanLogLikelihood, 4),
        };
        if (result.Reliability is { } reliability)
        {
            line["em_iterations"] = result.Iterations;
            line["reliability_by_teacher"] = reliability.GroupBy(r => result.TeacherOf.GetValueOrDefault(r.Key, "?"))
                .ToDictionary(g => g.Key, g => new { mean = Math.Round(g.Average(r => r.Value), 3), min = Math.Round(g.Min(r => r.Value), 3), max = Math.Round(g.Max(r => r.Value), 3) });
            line["rater_reliability"] = reliability.OrderBy(r => r.Key, StringComparer.Ordinal).ToDictionary(r => r.Key, r => Math.Round(r.Value, 3));
        }
        line["seed"] = settings.Seed;
        line["device"] = device;
        line["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 2);
        Console.Out.WriteLine(JsonSerializer.Serialize(line));
        return 0;
    }

    private static void Write(string path, IPreferenceEnvironment env, IReadOnlyList<PreferencePair> pairs, string prefix)
    {
        using var writer = new StreamWriter(path);
        for (int i = 0; i < pairs.Count; i++)
        {
            var p = pairs[i];
            writer.WriteLine(PreferenceJsonl.Write(new PreferenceRecord($"{prefix}-{i + 1}", env.Name, p.Left, p.Right, p.Label)
            {
                Rater = p.Rater,
                Gold = p.Gold,
                ComparisonId = p.PairKey,
            }));
        }
    }
}
