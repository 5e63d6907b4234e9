using System.Diagnostics;
using System.Text.Json;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Teachers;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Loop;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio simulate</c>: the studio's preference loop without a browser. Each round rolls out the current policy,
/// cuts and pairs segments (<see cref="RoundPlanner"/>, as the web worker does), has a simulated teacher answer the
/// pairs, trains the reward model on every label so far and plans the next policy (<see cref="RoundLearner"/>).
/// One JSON line per round on stdout.
/// </summary>
public static class SimulateCommand
{
    private const string Usage =
        "usage: studio simulate --env NAME [--teacher oracle|mistake|noisy|skip|myopic|equal] [--rounds 3] [--pairs-per-round 100] " +
        "[--segment-length N] [--seed 1] [--epochs 200] [--device auto|cpu|cuda] [--threads N]";

    private static readonly string[] Options =
        ["env", "teacher", "rounds", "pairs-per-round", "segment-length", "seed", "epochs", "device", "threads", "help"];

    public static async Task<int> RunAsync(string[] args)
    {
        CliArgs cli;
        IPreferenceEnvironment env;
        try
        {
            cli = CliArgs.Parse(args);
            if (cli.Has("help")) { Console.Error.WriteLine(Usage); return 0; }
            cli.EnsureOnly(Options);
            env = EnvironmentRegistry.Get(cli.Require("env"));
        }
        catch (Exception e) when (e is CliUsageException or ArgumentException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
        if (env is not ITabularEnvironment tabular)
        {
            Console.Error.WriteLine($"error: environment '{env.Name}' has no policy trainer yet; simulate supports tabular environments.");
            return 2;
        }

        string teacherName = cli.Get("teacher", "oracle");
        int rounds = cli.GetInt("rounds", 3), pairs = cli.GetInt("pairs-per-round", 100), seed = cli.GetInt("seed", 1);
        int segmentLength = cli.GetInt("segment-length", env.DefaultSegmentLength), epochs = cli.GetInt("epochs", 200);
        if (rounds < 1 || pairs < 2 || segmentLength < 1 || epochs < 1)
        {
            Console.Error.WriteLine("error: --rounds, --epochs and --segment-length must be at least 1, --pairs-per-round at least 2.");
            return 2;
        }
        if (!SimulatedTeacher.PresetNames.Contains(teacherName, StringComparer.OrdinalIgnoreCase))
        {
            Console.Error.WriteLine($"error: unknown teacher '{teacherName}'. Known teachers: {string.Join(", ", SimulatedTeacher.PresetNames)}.");
            return 2;
        }

        using var worker = new TorchTrainingThread(new TorchOptions { Device = cli.Get("device", "auto"), Threads = cli.GetInt("threads", 0) });
        string device = await worker.Device;
        var rng = new Random(seed);
        var train = new List<PreferencePair>();
        var test = new List<PreferencePair>();
        int[]? policy = null;
        SimulatedTeacher? teacher = null;
        var clock = Stopwatch.StartNew();
        for (int round = 0; round < rounds; round++)
        {
            var plan = RoundPlanner.Plan(env, policy, new RoundPlanSettings(segmentLength, pairs), rng);
            // Thresholds scale with the returns of the first round's segments, as B-Pref scales them with its data.
            teacher ??= SimulatedTeacher.Create(teacherName, SimulatedTeacher.EstimateReturnScale(env, plan.Segments.Select(s => s.Segment)), seed);
            int answered = 0;
            foreach (var pair in plan.Pairs)
            {
                var left = plan.Segments[pair.Left].Segment;
                var right = plan.Segments[pair.Right].Segment;
                if (teacher.Answer(env, left, right) is not { } label) continue;
                (pair.HeldOut ? test : train).Add(new PreferencePair(left, right, label));
                answered++;
            }
            var options = new RewardModelOptions { Epochs = epochs, Seed = seed * 1000 + round, Device = device };
            try
            {
                var result = await worker.RunAsync(() =>
                {
                    var learned = RoundLearner.Learn(tabular, new BradleyTerryTrainer(), train, test, options);
                    learned.Model.Dispose();
                    return learned;
                });
                policy = result.Policy;
                Console.Out.WriteLine(JsonSerializer.Serialize(new
                {
                    round = round + 1,
                    labels = train.Count + test.Count,
                    labels_round = answered,
                    n_train = result.TrainCount,
                    n_test = result.TestCount,
                    heldout_accuracy = Finite(result.Heldout.Accuracy),
                    heldout_loglik = Finite(result.Heldout.MeanLogLikelihood),
                    scaled_return = result.Evaluation.ScaledReturn,
                    teacher = teacher.Name,
                    device,
                    seconds = Math.Round(clock.Elapsed.TotalSeconds, 2),
                }));
            }
            catch (RewardTrainingException e)
            {
                Console.Error.WriteLine($"error: round {round + 1}: {e.Message}");
                return 1;
            }
        }
        return 0;
    }

    private static double? Finite(double value) => double.IsFinite(value) ? Math.Round(value, 4) : null;
}
