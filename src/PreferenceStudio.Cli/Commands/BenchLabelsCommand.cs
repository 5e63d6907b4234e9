using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using PreferenceStudio.Environments;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Loop;
using PreferenceStudio.Learning.Policies;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio bench labels</c>: how many labels a simulated campaign (<see cref="SimulationLoop"/>) needs before its
/// policy reaches the target, for each model, query strategy, policy learner and B-Pref teacher, over several seeds.
/// Tabular environments: the greedy policy's scaled return (0.9, "near-optimal" in Knox et al.). Continuous ones: the
/// success rate over 10 evaluation episodes (0.9) where the task has a goal (mountain car, navigation), else the mean
/// true return (Pendulum: -200, about 90% of the way from a random policy's -1,200 to true-reward PPO's -120 to -182).
/// Labels count every teacher answer, held-out ones included. Prints a JSON line per combination (per-seed label
/// counts, median, quartiles) and, last, one JSON object with all of them. A seed that never reaches the target within
/// the rounds counts as not reached (null), ranked above every count, so the median is null when half or more never do.
/// </summary>
public static class BenchLabelsCommand
{
    /// <summary>Mean true return that counts as solved where a continuous task has no goal.</summary>
    private static readonly Dictionary<string, double> TargetReturns = new(StringComparer.Ordinal) { [Environments.Control.Pendulum.EnvironmentName] = -200 };

    public static Command Create()
    {
        var envOption = CliOptions.With("--env", "delivery-gridworld", "the environment", "NAME");
        var modelsOption = CliOptions.With("--models", "bt,regret,vpl", "reward-model types to compare, comma-separated", "M,M");
        var strategiesOption = CliOptions.With("--strategies", "random,disagreement,info-gain", "query strategies to compare, comma-separated", "S,S");
        var learnersOption = CliOptions.Optional<string>("--learners", "continuous environments: policy learners to compare (ppo, sac; default sac)", "L,L");
        var teachersOption = CliOptions.With("--teachers", "oracle", "B-Pref teachers to compare (oracle, mistake, equal, skip, myopic, noisy)", "T,T");
        var seedsOption = CliOptions.With("--seeds", 5, "seeds per combination");
        var roundsOption = CliOptions.With("--rounds", 10, "rounds at most per seed");
        var pairsOption = CliOptions.With("--pairs-per-round", 30, "pairs asked each round");
        var lengthOption = CliOptions.Optional<int?>("--segment-length", "steps per segment (default: the environment's)", "N");
        var targetOption = CliOptions.With("--target", 0.9, "scaled return (tabular) or success rate (goal tasks) to reach");
        var targetReturnOption = CliOptions.Optional<double?>("--target-return", "continuous tasks without a goal: mean true return to reach (Pendulum: -200)", "R");
        var policyStepsOption = CliOptions.Optional<int?>("--policy-steps", "continuous environments: policy-training steps per round (default: 10000 with sac, 50000 with ppo)", "N");
        var exploreOption = CliOptions.Optional<long?>("--explore-steps", "continuous environments: unsupervised exploration steps before the first round (PEBBLE; default: 10000 on mountain-car, else 0)", "N");
        var surfOption = CliOptions.Flag("--surf", "SURF: pseudo-labels and temporal crops in every reward-model training");
        var epochsOption = CliOptions.With("--epochs", 200, "reward-model training epochs");
        var threadsOption = CliOptions.With("--threads", 1, "libtorch intra-op threads");
        return new Command("labels", "labels a simulated campaign needs to reach its target (scaled return, success or return), per model, strategy, learner and teacher")
        {
            envOption, modelsOption, strategiesOption, learnersOption, teachersOption, seedsOption, roundsOption, pairsOption, lengthOption,
            targetOption, targetReturnOption, policyStepsOption, exploreOption, surfOption, epochsOption, threadsOption,
        }.WithAction((parse, ct) =>
        {
            var env = EnvironmentRegistry.Get(parse.GetRequiredValue(envOption));
            static string[] List(string text) => text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var models = List(parse.GetRequiredValue(modelsOption));
            var strategies = List(parse.GetRequiredValue(strategiesOption));
            var learners = List(parse.GetValue(learnersOption) ?? PolicyLearners.DefaultFor(env));
            var teachers = List(parse.GetRequiredValue(teachersOption));
            if (models.FirstOrDefault(m => !RewardModels.Types.Contains(m)) is { } unknown)
                throw new CliUsageException($"unknown model {unknown}. Known models: {string.Join(", ", RewardModels.Types)}.");
            if (strategies.FirstOrDefault(q => !Learning.QuerySelection.QuerySelectors.Names.Contains(q)) is { } unknownStrategy)
                throw new CliUsageException($"unknown strategy {unknownStrategy}. Known strategies: {string.Join(", ", Learning.QuerySelection.QuerySelectors.Names)}.");
            if (learners.FirstOrDefault(l => !PolicyLearners.All.Contains(l)) is { } unknownLearner)
                throw new CliUsageException($"unknown learner {unknownLearner}. Known learners: {string.Join(", ", PolicyLearners.All)}.");
            if (teachers.FirstOrDefault(t => !Environments.Teachers.TeacherSettings.Presets.ContainsKey(t)) is { } unknownTeacher)
                throw new CliUsageException($"unknown teacher {unknownTeacher}. Known teachers: {string.Join(", ", Environments.Teachers.SimulatedTeacher.PresetNames)}.");
            bool tabular = env is ITabularEnvironment;
            if (tabular && (parse.Given(learnersOption) || parse.Given(exploreOption) || parse.Given(policyStepsOption) || parse.Given(targetReturnOption)))
                throw new CliUsageException($"{env.Name} is tabular: its policy is planned exactly, so --learners, --explore-steps, --policy-steps and --target-return do not apply.");
            if (!tabular && env.ActionSpace.IsDiscrete)
                throw new CliUsageException($"{env.Name} has discrete actions but no tabular planner; the studio cannot train its policy.");
            var goal = !tabular && env is Environments.Control.IGoalEnvironment && env.Name != Environments.Control.Pendulum.EnvironmentName;
            double? targetReturn = parse.GetValue(targetReturnOption) ?? (TargetReturns.TryGetValue(env.Name, out var t) ? t : null);
            if (!tabular && !goal && targetReturn is null)
                throw new CliUsageException($"{env.Name} has no goal and no default target return: give --target-return.");
            if (goal && parse.Given(targetReturnOption))
                throw new CliUsageException($"{env.Name} has a goal: its target is a success rate (--target), not a return.");
            var criterion = tabular ? Criterion.ScaledReturn : goal ? Criterion.Success : Criterion.Return;
            var run = new Run(env, models, strategies, tabular ? [PolicyLearners.Ppo] : learners, teachers, parse.GetValue(seedsOption),
                parse.GetValue(roundsOption), parse.GetValue(pairsOption), parse.GetValue(lengthOption) ?? env.DefaultSegmentLength,
                criterion, criterion == Criterion.Return ? targetReturn!.Value : parse.GetValue(targetOption),
                parse.GetValue(policyStepsOption), parse.GetValue(exploreOption) ?? PolicyLearners.DefaultExplorationSteps(env), parse.GetValue(surfOption),
                parse.GetValue(epochsOption), parse.GetValue(threadsOption));
            if (run.Seeds < 1 || run.Rounds < 1 || run.Pairs < 2 || run.PolicySteps < 1 || run.ExploreSteps < 0)
                throw new CliUsageException("--seeds, --rounds and --policy-steps must be at least 1, --pairs-per-round at least 2, --explore-steps at least 0.");
            return RunAsync(run);
        });
    }

    private enum Criterion
    {
        ScaledReturn,
        Success,
        Return,
    }

    private sealed record Run(IPreferenceEnvironment Env, string[] Models, string[] Strategies, string[] Learners, string[] Teachers, int Seeds,
        int Rounds, int Pairs, int SegmentLength, Criterion Criterion, double Target, int? PolicySteps, long ExploreSteps, bool Surf, int Epochs, int Threads);

    private static async Task<int> RunAsync(Run r)
    {
        using var worker = new TorchTrainingThread(new TorchOptions { Device = "cpu", Threads = r.Threads });
        await worker.Device;
        var clock = Stopwatch.StartNew();
        var results = new List<Dictionary<string, object?>>();
        string measure = r.Criterion switch { Criterion.ScaledReturn => "scaled_return", Criterion.Success => "success_rate", _ => "mean_return" };
        foreach (var teacher in r.Teachers)
            foreach (var learner in r.Learners)
                foreach (var model in r.Models)
                    foreach (var strategy in r.Strategies)
                    {
                        var reached = new List<int?>();
                        for (int seed = 1; seed <= r.Seeds; seed++)
                        {
                            var settings = new SimulationSettings(model, strategy, teacher, r.Rounds, r.Pairs, r.SegmentLength, seed,
                                new RewardModelOptions { Epochs = r.Epochs, Device = "cpu" }, PolicySteps: r.PolicySteps ?? PolicyLearners.DefaultSteps(learner), Learner: learner,
                                ExplorationSteps: r.ExploreSteps, Surf: r.Surf ? new Learning.Surf.SurfOptions() : null);
                            int? labels = await worker.RunAsync(() =>
                            {
                                foreach (var round in SimulationLoop.Run(r.Env, settings))
                                {
                                    double? value = r.Criterion switch
                                    {
                                        Criterion.ScaledReturn => round.ScaledReturn,
                                        Criterion.Success => round.SuccessRate,
                                        _ => round.MeanReturn,
                                    };
                                    Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                                        $"{teacher}/{learner}/{model}/{strategy} seed {seed} round {round.Round}: {round.Labels} labels, {measure} {value:0.000} ({clock.Elapsed.TotalSeconds:0}s)"));
                                    if (value >= r.Target) return (int?)round.Labels;
                                }
                                return null;
                            });
                            reached.Add(labels);
                        }
                        var line = new Dictionary<string, object?>
                        {
                            ["teacher"] = teacher, ["learner"] = r.Env is ITabularEnvironment ? null : learner, ["model"] = model, ["strategy"] = strategy,
                            ["labels_to_target"] = reached, ["median"] = Median(reached), ["quartiles"] = Quartiles(reached),
                            ["reached"] = reached.Count(x => x is not null), ["seeds"] = r.Seeds,
                        };
                        Console.Out.WriteLine(JsonSerializer.Serialize(line));
                        results.Add(line);
                    }
        Console.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["env"] = r.Env.Name, ["measure"] = measure, ["target"] = r.Target, ["pairs_per_round"] = r.Pairs, ["rounds"] = r.Rounds,
            ["policy_steps"] = r.Env is ITabularEnvironment ? null : r.Learners.ToDictionary(l => l, l => r.PolicySteps ?? PolicyLearners.DefaultSteps(l)), ["explore_steps"] = r.ExploreSteps, ["surf"] = r.Surf,
            ["results"] = results.Select(x => new { teacher = x["teacher"], learner = x["learner"], model = x["model"], strategy = x["strategy"], median = x["median"], reached = x["reached"] }),
            ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds, 1),
            ["load_average"] = LoadAverage(),
        }));
        return 0;
    }

    /// <summary>The 1-minute load average (Linux), so a reader can judge how busy the machine was.</summary>
    private static double? LoadAverage()
    {
        try
        {
            var text = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(text, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    /// <summary>Lower and upper quartile (nearest rank) with "never reached" ranked last; null where it falls on one.</summary>
    internal static int?[] Quartiles(IReadOnlyList<int?> values)
    {
        var sorted = values.OrderBy(v => v ?? int.MaxValue).ToList();
        if (sorted.Count == 0) return [null, null];
        int?[] q = [sorted[(int)Math.Ceiling(0.25 * sorted.Count) - 1], sorted[(int)Math.Ceiling(0.75 * sorted.Count) - 1]];
        return q;
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
