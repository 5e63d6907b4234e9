using System.CommandLine;
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
    /// <summary>Runs the crowd mode of `simulate`, whose options it shares.</summary>
    internal static async Task<int> RunAsync(ParseResult p, SimulateCommand.Options o, IPreferenceEnvironment env)
    {
        var settings = new CrowdSettings(
            CrowdSpec.Parse(p.GetRequiredValue(o.Crowd)!), p.GetRequiredValue(o.Model), p.GetRequiredValue(o.RaterWeighting),
            Pool: p.GetValue(o.Pool), LabelsPerRater: p.GetValue(o.LabelsPerRater), GoldPerRater: p.GetValue(o.GoldPerRater),
            GoldMargin: p.GetValue(o.GoldMargin), TestPairs: p.GetValue(o.TestPairs),
            SegmentLength: p.GetValue(o.SegmentLength) ?? env.DefaultSegmentLength, Seed: p.GetValue(o.Seed),
            ModelOptions: new RewardModelOptions { Epochs = p.GetValue(o.Epochs), EnsembleSize = p.GetValue(o.Ensemble) });

        using var worker = new TorchTrainingThread(new TorchOptions { Device = p.GetRequiredValue(o.Device), Threads = p.GetValue(o.Threads) ?? 1 });
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
        if (p.GetValue(o.Out) is { } outPath) Write(outPath, env, result.Labels, "crowd");
        if (p.GetValue(o.TestOut) is { } testPath) Write(testPath, env, result.CleanTest, "clean");

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
        p.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(line));
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
