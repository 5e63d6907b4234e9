using System.Diagnostics;
using System.Globalization;
using System.CommandLine;
using System.Text.Json.Nodes;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Hierarchy;
using PreferenceStudio.Environments.Teachers;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Loop;
using PreferenceStudio.Learning.Policies;
using PreferenceStudio.Learning.Surf;
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
    /// <summary>Options of `simulate` and of its crowd mode (`--crowd`), made anew for each command tree.</summary>
    internal sealed class Options
    {
        public readonly Option<string> Env = CliOptions.Environment("the environment to simulate");
        public readonly Option<string?> Params = CliOptions.Optional<string>("--params", "environment parameters, e.g. episode_steps=50,gravity=10", "k=v,k=v");
        public readonly Option<string> Model = CliOptions.Choice("--model", "bt", RewardModels.Types, "the reward-model type");
        public readonly Option<string> Strategy = CliOptions.Choice("--strategy", "random", QuerySelectors.Names, "how each round's pairs are chosen");
        public readonly Option<string> Teacher = CliOptions.Choice("--teacher", "oracle", SimulatedTeacher.PresetNames, "the simulated teacher (B-Pref's presets)", ignoreCase: true);
        public readonly Option<string?> Raters = CliOptions.Optional<string>("--raters", "raters per rater kind, e.g. 3,2 (kinds weigh the factors differently)", "N,N");
        public readonly Option<int> Rounds = CliOptions.With("--rounds", 3, "query rounds");
        public readonly Option<int> PairsPerRound = CliOptions.With("--pairs-per-round", 100, "pairs asked each round");
        public readonly Option<int?> SegmentLength = CliOptions.Optional<int?>("--segment-length", "steps per segment (default: the environment's)", "N");
        public readonly Option<int> Seed = CliOptions.With("--seed", 1, "seed of rollouts, teachers and training");
        public readonly Option<int> Epochs = CliOptions.With("--epochs", 200, "reward-model training epochs");
        public readonly Option<int> Ensemble = CliOptions.With("--ensemble", TrainCommand.Defaults.EnsembleSize, "members of the Bradley-Terry ensemble", "K");
        public readonly Option<int?> PolicySteps = CliOptions.Optional<int?>("--policy-steps",
            "policy-training steps per round in continuous environments (default: 10000 with sac, 50000 with ppo)", "N");
        public readonly Option<string?> Learner = LearnerOption();
        public readonly Option<long?> ExploreSteps = CliOptions.Optional<long?>("--explore-steps",
            "continuous environments: steps of unsupervised state-entropy exploration (PEBBLE) before the first round; 0: none (default: 10000 on mountain-car, else 0)", "N");
        public readonly Option<bool> Surf = CliOptions.Flag("--surf", "SURF: pseudo-labels on confident unlabelled pairs and temporally cropped pairs");
        public readonly Option<double> SurfThreshold = CliOptions.With("--surf-threshold", new SurfOptions().Threshold, "--surf: confidence a pseudo-label needs");
        public readonly Option<string?> Save = CliOptions.Optional<string>("--save", "write the last round's reward model here", "REWARD.bin");
        public readonly Option<string> Device = CliOptions.Choice("--device", "auto", ["auto", "cpu", "cuda"], "where to train (auto: the GPU when there is one)");
        public readonly Option<int?> Threads = CliOptions.Optional<int?>("--threads", "libtorch intra-op threads (default: libtorch's own, 1 with --crowd)", "N");
        public readonly Option<string> Source = CliOptions.Choice("--source", LabelSources.Clips, LabelSources.All, "labels from clips, from a factor hierarchy (HERON), or both");
        public readonly Option<string?> Hierarchy = CliOptions.Optional<string>("--hierarchy", "the factors, most important first, e.g. angle,velocity,torque (default: the environment's order)", "F,F");
        public readonly Option<string?> Margins = CliOptions.Optional<string>("--margins", "one margin per ranked factor, e.g. 1,1,0.5", "M,M");
        public readonly Option<double> HierarchyWeight = CliOptions.With("--hierarchy-weight", 1.0, "weight of hierarchy labels in the loss");
        public readonly Option<int> HierarchyPairs = CliOptions.With("--hierarchy-pairs", 500, "hierarchy-labelled pairs per round");
        public readonly Option<int> HierarchySegmentLength = CliOptions.With("--hierarchy-segment-length", 1, "steps per piece the hierarchy compares");

        // Crowd mode: mixed teachers answering one shared pool, one model, no rounds.
        public readonly Option<string?> Crowd = CliOptions.Optional<string>("--crowd", "a crowd study instead of rounds: teachers and counts, e.g. oracle:8,random:6,adversarial:6", "TEACHER:N,...");
        public readonly Option<string> RaterWeighting = CliOptions.Choice("--rater-weighting", Learning.Reliability.RaterWeighting.None, Learning.Reliability.RaterWeighting.All,
            "--crowd: reliability learns each rater's reliability with the reward and weights their labels by it");
        public readonly Option<int> Pool = CliOptions.With("--pool", 200, "--crowd: segments in the shared pool");
        public readonly Option<int> LabelsPerRater = CliOptions.With("--labels-per-rater", 60, "--crowd: labels each rater gives");
        public readonly Option<int> GoldPerRater = CliOptions.With("--gold-per-rater", 0, "--crowd: gold pairs (known answer) each rater sees");
        public readonly Option<double> GoldMargin = CliOptions.With("--gold-margin", 0.5, "--crowd: least true-return gap of a gold pair");
        public readonly Option<int> TestPairs = CliOptions.With("--test-pairs", 500, "--crowd: clean test pairs labelled by the true reward");
        public readonly Option<string?> Out = CliOptions.Optional<string>("--out", "--crowd: write the crowd's labels here (exchange JSONL)", "CROWD.jsonl");
        public readonly Option<string?> TestOut = CliOptions.Optional<string>("--test-out", "--crowd: write the clean test set here", "CLEAN.jsonl");

        public Option[] RoundsOnly => [Strategy, Teacher, Raters, Rounds, PairsPerRound, PolicySteps, Learner, ExploreSteps, Surf, SurfThreshold, Save, Source, Hierarchy, Margins, HierarchyWeight, HierarchyPairs, HierarchySegmentLength];

        public Option[] CrowdOnly => [RaterWeighting, Pool, LabelsPerRater, GoldPerRater, GoldMargin, TestPairs, Out, TestOut];

        public IEnumerable<Option> All => [Env, Params, Model, SegmentLength, Seed, Epochs, Ensemble, Device, Threads, Crowd, .. RoundsOnly, .. CrowdOnly];
    }

    /// <summary>--learner: ppo or sac; left out, the measured default for the environment (<see cref="PolicyLearners.DefaultFor"/>).</summary>
    internal static Option<string?> LearnerOption()
    {
        var option = CliOptions.Optional<string>("--learner",
            "continuous environments: ppo, or sac (off-policy, replay buffer relabelled when the reward model changes); default sac", "ppo|sac");
        option.AcceptOnlyFromAmong(StringComparer.Ordinal, [.. PolicyLearners.All]);
        return option;
    }

    public static Command Create()
    {
        var o = new Options();
        var command = new Command("simulate", "run the preference loop with a simulated teacher instead of people (or, with --crowd, a crowd study)");
        foreach (var option in o.All) command.Add(option);
        command.SetAction(async (parse, ct) =>
        {
            var mode = parse.Given(o.Crowd) ? "--crowd" : null;
            // Options of the other mode would be silently ignored.
            foreach (var stray in (mode is null ? o.CrowdOnly : o.RoundsOnly).Where(parse.Given))
                throw new CliUsageException(mode is null ? $"{stray.Name} applies to a crowd study (--crowd) only." : $"{stray.Name} does not apply to a crowd study (--crowd).");
            var env = EnvironmentRegistry.Create(parse.GetRequiredValue(o.Env), ParseParameters(parse.GetValue(o.Params)));
            return mode is null
                ? await RunAsync(parse, o, env, Settings(parse, o, env))
                : await CrowdCommand.RunAsync(parse, o, env);
        });
        return command;
    }

    private static async Task<int> RunAsync(ParseResult parse, Options o, IPreferenceEnvironment env, SimulationSettings settings)
    {
        var output = parse.InvocationConfiguration.Output;
        using var worker = new TorchTrainingThread(new TorchOptions { Device = parse.GetRequiredValue(o.Device), Threads = parse.GetValue(o.Threads) ?? 0 });
        string device = await worker.Device;
        settings = settings with { ModelOptions = settings.ModelOptions! with { Device = device } };
        var clock = Stopwatch.StartNew();
        try
        {
            await worker.RunAsync(() =>
            {
                foreach (var round in SimulationLoop.Run(env, settings))
                    output.WriteLine(Line(round, settings, device, clock.Elapsed).ToJsonString());
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

    private static SimulationSettings Settings(ParseResult p, Options o, IPreferenceEnvironment env)
    {
        var learner = p.GetValue(o.Learner) ?? PolicyLearners.DefaultFor(env);
        var s = new SimulationSettings(
            Model: p.GetRequiredValue(o.Model),
            Strategy: p.GetRequiredValue(o.Strategy),
            Teacher: p.GetRequiredValue(o.Teacher),
            Rounds: p.GetValue(o.Rounds),
            PairsPerRound: p.GetValue(o.PairsPerRound),
            SegmentLength: p.GetValue(o.SegmentLength) ?? env.DefaultSegmentLength,
            Seed: p.GetValue(o.Seed),
            ModelOptions: new RewardModelOptions { Epochs = p.GetValue(o.Epochs), EnsembleSize = p.GetValue(o.Ensemble) },
            RaterKinds: p.GetValue(o.Raters) is { } r ? ParseCounts(r) : null,
            PolicySteps: p.GetValue(o.PolicySteps) ?? PolicyLearners.DefaultSteps(learner),
            SaveModelPath: p.GetValue(o.Save) is { } save ? Path.GetFullPath(save) : null,
            Learner: learner,
            ExplorationSteps: p.GetValue(o.ExploreSteps) ?? (env.ActionSpace.IsDiscrete ? 0 : PolicyLearners.DefaultExplorationSteps(env)),
            Surf: p.GetValue(o.Surf) ? new SurfOptions(Threshold: p.GetValue(o.SurfThreshold)) : null);
        if (p.Given(o.SurfThreshold) && s.Surf is null) throw new CliUsageException("--surf-threshold applies with --surf.");
        if (s.ExplorationSteps < 0) throw new CliUsageException("--explore-steps cannot be negative.");
        if (env.ActionSpace.IsDiscrete && (s.ExplorationSteps > 0 || p.Given(o.Learner)))
            throw new CliUsageException($"{env.Name} has discrete actions: --learner and --explore-steps apply to continuous-action environments.");
        if (s.Rounds < 1 || s.PairsPerRound < 2 || s.SegmentLength < 1 || s.ModelOptions!.Epochs < 1 || s.PolicySteps < 1)
            throw new CliUsageException("--rounds, --epochs, --segment-length and --policy-steps must be at least 1, --pairs-per-round at least 2.");
        return WithSource(p, o, env, s);
    }

    private static SimulationSettings WithSource(ParseResult p, Options o, IPreferenceEnvironment env, SimulationSettings s)
    {
        string source = p.GetRequiredValue(o.Source);
        Option[] hierarchyOptions = [o.Hierarchy, o.Margins, o.HierarchyWeight, o.HierarchyPairs, o.HierarchySegmentLength];
        if (source == LabelSources.Clips)
        {
            // A ranking given with clip labels only would be silently ignored.
            if (hierarchyOptions.FirstOrDefault(p.Given) is { } stray)
                throw new CliUsageException($"{stray.Name} applies to --source hierarchy or both, not clips.");
            return s;
        }
        var margins = p.GetValue(o.Margins) is { } m ? ParseMargins(m) : null;
        var ranking = p.GetValue(o.Hierarchy) is { } text
            ? text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : env.Factors.Select(f => f.Name).ToArray();
        var hierarchy = FactorHierarchy.TryCreate(env, ranking, margins, out var errors)
            ?? throw new CliUsageException("--hierarchy/--margins: " + string.Join(" ", errors.Select(e => e.Message)));
        var weight = p.GetValue(o.HierarchyWeight);
        if (!double.IsFinite(weight) || weight <= 0)
            throw new CliUsageException($"--hierarchy-weight must be a positive number, got {weight}.");
        var pairs = p.GetValue(o.HierarchyPairs);
        if (pairs < 1) throw new CliUsageException("--hierarchy-pairs must be at least 1.");
        int pieceLength = p.GetValue(o.HierarchySegmentLength);
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

    /// <summary>The round's metrics record with the round's own counts and settings around it (per-rater lines summarised).</summary>
    private static JsonObject Line(SimulationRound r, SimulationSettings s, string device, TimeSpan elapsed)
    {
        var metrics = r.Report.Metrics.ToJsonObject();
        metrics.Remove("model");
        metrics.Remove("per_rater");
        var line = new JsonObject
        {
            ["round"] = r.Round,
            ["labels"] = r.Labels,
            ["labels_round"] = r.LabelsRound,
            ["labels_clip"] = r.LabelsClip,
            ["labels_hierarchy"] = r.LabelsHierarchy,
            ["source"] = s.Source,
            ["hierarchy"] = s.UsesHierarchy && s.Hierarchy is { } h ? new JsonArray(h.Factors.Select(f => (JsonNode?)f).ToArray()) : null,
            ["margins"] = s.UsesHierarchy && s.Hierarchy is { } m ? new JsonArray(m.Margins.Select(x => (JsonNode?)x).ToArray()) : null,
            ["model"] = s.Model,
            ["strategy"] = s.Strategy,
        };
        foreach (var (k, v) in metrics.ToList())
        {
            metrics.Remove(k);
            line[k] = v;
        }
        if (r.Report.Metrics.RaterAccuracies() is { Count: > 0 } accuracies)
        {
            line["per_rater_accuracy_mean"] = Math.Round(accuracies.Average(), 4);
            line["per_rater_accuracy_min"] = Math.Round(accuracies.Min(), 4);
        }
        if (r.ScaledReturn is { } scaled) line["scaled_return"] = Math.Round(scaled, 4);
        if (r.MeanReturn is { } mean)
        {
            line["mean_return"] = Math.Round(mean, 2);
            line["success_rate"] = r.SuccessRate;
            line["policy_steps"] = r.PolicySteps;
            line["learner"] = s.Learner;
            line["explore_steps"] = s.ExplorationSteps;
        }
        if (r.GoalSegments is { } goal) line["goal_segments"] = goal;
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
