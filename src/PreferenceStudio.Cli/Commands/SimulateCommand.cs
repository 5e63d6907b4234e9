using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Hierarchy;
using PreferenceStudio.Environments.Teachers;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Loop;
using PreferenceStudio.Learning.Policies;
using PreferenceStudio.Learning.QuerySelection;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio simulate</c>: the studio's preference loop without a browser (<see cref="SimulationLoop"/>): rollouts,
/// pairs picked by the query strategy, simulated teachers' answers, the reward model trained on every label so far,
/// and the next policy (value iteration, or PPO in continuous environments). One JSON line per round on stdout.
/// <c>--source hierarchy|both</c> adds (or only uses) labels from a simulated rater's factor hierarchy (HERON).
/// </summary>
public static class SimulateCommand
{
    private const string Usage =
        "usage: studio simulate --env NAME [--params k=v,k=v] [--model bt|regret|vpl] [--strategy random|disagreement|info-gain] " +
        "[--teacher oracle|mistake|noisy|skip|myopic|equal|random|adversarial] [--raters 3,2 (raters per rater kind)] [--rounds 3] [--pairs-per-round 100] " +
        "[--segment-length N] [--seed 1] [--epochs 200] [--ensemble K] [--policy-steps 50000] [--save REWARD.bin] [--device auto|cpu|cuda] [--threads N] " +
        "[--source clips|hierarchy|both] [--hierarchy angle,velocity,torque (factors, most important first)] [--margins 1,1,1] " +
        "[--hierarchy-weight 1] [--hierarchy-pairs 500] [--hierarchy-segment-length 1 (steps per piece the hierarchy compares)]";

    private static readonly string[] Options =
        ["env", "params", "model", "strategy", "teacher", "raters", "rounds", "pairs-per-round", "segment-length", "seed", "epochs", "ensemble",
         "policy-steps", "save", "device", "threads", "source", "hierarchy", "margins", "hierarchy-weight", "hierarchy-pairs", "hierarchy-segment-length", "help"];

    public static async Task<int> RunAsync(string[] args)
    {
        CliArgs cli;
        IPreferenceEnvironment env;
        SimulationSettings settings;
        try
        {
            cli = CliArgs.Parse(args);
            if (cli.Has("help")) { Console.Error.WriteLine(Usage); Console.Error.WriteLine(CrowdCommand.Usage); return 0; }
            // A crowd study (mixed teachers answering a shared pool) is its own run: one model, no rounds.
            if (cli.Has("crowd")) return await CrowdCommand.RunAsync(cli);
            cli.EnsureOnly(Options);
            env = EnvironmentRegistry.Create(cli.Require("env"), ParseParameters(cli.Get("params")));
            settings = Settings(cli, env);
        }
        catch (Exception e) when (e is CliUsageException or ArgumentException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        using var worker = new TorchTrainingThread(new TorchOptions { Device = cli.Get("device", "auto"), Threads = cli.GetInt("threads", 0) });
        string device = await worker.Device;
        settings = settings with { ModelOptions = settings.ModelOptions! with { Device = device } };
        var clock = Stopwatch.StartNew();
        try
        {
            await worker.RunAsync(() =>
            {
                foreach (var round in SimulationLoop.Run(env, settings))
                    Console.Out.WriteLine(JsonSerializer.Serialize(Line(round, settings, device, clock.Elapsed)));
                return 0;
            });
        }
        catch (Exception e) when (e is RewardTrainingException or PolicyTrainingException or ArgumentException or InvalidOperationException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
        return 0;
    }

    private static SimulationSettings Settings(CliArgs cli, IPreferenceEnvironment env)
    {
        var s = new SimulationSettings(
            Model: cli.Get("model", "bt"),
            Strategy: cli.Get("strategy", "random"),
            Teacher: cli.Get("teacher", "oracle"),
            Rounds: cli.GetInt("rounds", 3),
            PairsPerRound: cli.GetInt("pairs-per-round", 100),
            SegmentLength: cli.GetInt("segment-length", env.DefaultSegmentLength),
            Seed: cli.GetInt("seed", 1),
            ModelOptions: new RewardModelOptions { Epochs = cli.GetInt("epochs", 200), EnsembleSize = cli.GetInt("ensemble", new RewardModelOptions().EnsembleSize) },
            RaterKinds: cli.Get("raters") is { } r ? ParseCounts(r) : null,
            PolicySteps: cli.GetInt("policy-steps", 50_000),
            SaveModelPath: cli.Get("save") is { } save ? Path.GetFullPath(save) : null);
        if (s.Rounds < 1 || s.PairsPerRound < 2 || s.SegmentLength < 1 || s.ModelOptions!.Epochs < 1 || s.PolicySteps < 1)
            throw new CliUsageException("--rounds, --epochs, --segment-length and --policy-steps must be at least 1, --pairs-per-round at least 2.");
        if (!RewardModels.Types.Contains(s.Model))
            throw new CliUsageException($"unknown model '{s.Model}'. Known models: {string.Join(", ", RewardModels.Types)}.");
        if (!QuerySelectors.Names.Contains(s.Strategy))
            throw new CliUsageException($"unknown strategy '{s.Strategy}'. Known strategies: {string.Join(", ", QuerySelectors.Names)}.");
        if (!SimulatedTeacher.PresetNames.Contains(s.Teacher, StringComparer.OrdinalIgnoreCase))
            throw new CliUsageException($"unknown teacher '{s.Teacher}'. Known teachers: {string.Join(", ", SimulatedTeacher.PresetNames)}.");
        return WithSource(cli, env, s);
    }

    private static SimulationSettings WithSource(CliArgs cli, IPreferenceEnvironment env, SimulationSettings s)
    {
        string source = cli.Get("source", LabelSources.Clips);
        if (!LabelSources.All.Contains(source))
            throw new CliUsageException($"unknown source '{source}'. Known sources: {string.Join(", ", LabelSources.All)}.");
        string[] hierarchyOptions = ["hierarchy", "margins", "hierarchy-weight", "hierarchy-pairs", "hierarchy-segment-length"];
        if (source == LabelSources.Clips)
        {
            // A ranking given with clip labels only would be silently ignored.
            if (hierarchyOptions.FirstOrDefault(cli.Has) is { } stray)
                throw new CliUsageException($"--{stray} applies to --source hierarchy or both, not clips.");
            return s;
        }
        var margins = cli.Get("margins") is { } m ? ParseMargins(m) : null;
        var ranking = cli.Get("hierarchy") is { } text
            ? text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : env.Factors.Select(f => f.Name).ToArray();
        var hierarchy = FactorHierarchy.TryCreate(env, ranking, margins, out var errors)
            ?? throw new CliUsageException("--hierarchy/--margins: " + string.Join(" ", errors.Select(e => e.Message)));
        var weight = cli.GetDouble("hierarchy-weight", 1.0);
        if (!double.IsFinite(weight) || weight <= 0)
            throw new CliUsageException($"--hierarchy-weight must be a positive number, got {cli.Get("hierarchy-weight")}.");
        var pairs = cli.GetInt("hierarchy-pairs", 500);
        if (pairs < 1) throw new CliUsageException("--hierarchy-pairs must be at least 1.");
        int pieceLength = cli.GetInt("hierarchy-segment-length", 1);
        if (pieceLength < 1) throw new CliUsageException("--hierarchy-segment-length must be at least 1.");
        return s with
        {
            Source = source,
            Hierarchy = hierarchy,
            HierarchyWeight = weight,
            HierarchyPairsPerRound = pairs,
            HierarchySegmentLength = pieceLength,
        };
    }

    // Parsed leniently (any number, NaN included) so FactorHierarchy.TryCreate gives the one message about bad margins.
    private static double[] ParseMargins(string text) =>
        text.Split(',', StringSplitOptions.TrimEntries).Select(part =>
            double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v
                : throw new CliUsageException($"--margins takes one number per ranked factor separated by commas, e.g. 1,1,0.5; '{part}' is not a number.")).ToArray();

    private static object Line(SimulationRound r, SimulationSettings s, string device, TimeSpan elapsed)
    {
        var json = r.Report.ToJson(s.Model);
        json.Remove("model");
        json.Remove("per_rater");
        var line = new Dictionary<string, object?>
        {
            ["round"] = r.Round,
            ["labels"] = r.Labels,
            ["labels_round"] = r.LabelsRound,
            ["labels_clip"] = r.LabelsClip,
            ["labels_hierarchy"] = r.LabelsHierarchy,
            ["source"] = s.Source,
            ["hierarchy"] = s.UsesHierarchy ? s.Hierarchy?.Factors : null,
            ["margins"] = s.UsesHierarchy ? s.Hierarchy?.Margins : null,
            ["model"] = s.Model,
            ["strategy"] = s.Strategy,
        };
        foreach (var (k, v) in json) line[k] = v is double d ? Math.Round(d, 4) : v;
        if (r.Report.Heldout.PerRater is { Count: > 0 } perRater)
        {
            var accuracies = perRater.Values.Select(a => a.Accuracy).Where(double.IsFinite).ToList();
            line["per_rater_accuracy_mean"] = accuracies.Count == 0 ? null : Math.Round(accuracies.Average(), 4);
            line["per_rater_accuracy_min"] = accuracies.Count == 0 ? null : Math.Round(accuracies.Min(), 4);
        }
        if (r.ScaledReturn is { } scaled) line["scaled_return"] = Math.Round(scaled, 4);
        if (r.MeanReturn is { } mean)
        {
            line["mean_return"] = Math.Round(mean, 2);
            line["success_rate"] = r.SuccessRate;
            line["policy_steps"] = r.PolicySteps;
        }
        line["teacher"] = s.Teacher;
        line["device"] = device;
        line["seconds"] = Math.Round(elapsed.TotalSeconds, 2);
        return line;
    }

    /// <summary>"k=v,k=v" as environment parameters.</summary>
    internal static Dictionary<string, double>? ParseParameters(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length != 2 || !double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                throw new CliUsageException($"--params takes name=number pairs separated by commas; '{part}' is not one.");
            result[kv[0]] = value;
        }
        return result;
    }

    private static int[] ParseCounts(string text)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var counts = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out counts[i]))
                throw new CliUsageException($"--raters takes a count of raters per rater kind, e.g. 3,2; '{parts[i]}' is not a count.");
        return counts;
    }
}
