using System.Text.Json;
using PreferenceStudio.Environments;
using PreferenceStudio.Learning;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio bench train</c>: Bradley-Terry training throughput at B-Pref's sizes (3 members of 3 x 256 LeakyReLU
/// layers with tanh output, segments of 50 steps, batch 128) on synthetic pairs with 8 features. One warm-up epoch,
/// then one timed epoch; the last stdout line is one JSON object with pairs_per_second.
/// </summary>
public static class BenchTrainCommand
{
    private const string Usage =
        "usage: studio bench train [--threads 1] [--device auto|cpu|cuda] [--pairs 2000] [--members 3] [--segment-length 50] " +
        "[--features 8] [--hidden 256,256,256] [--batch 128] [--seed 1]";

    private static readonly string[] Options =
        ["threads", "device", "pairs", "members", "segment-length", "features", "hidden", "batch", "seed", "help"];

    public static async Task<int> RunAsync(string[] args)
    {
        CliArgs cli;
        int threads, pairs, members, length, features, batch, seed;
        int[] hidden;
        try
        {
            cli = CliArgs.Parse(args);
            if (cli.Has("help")) { Console.Error.WriteLine(Usage); return 0; }
            cli.EnsureOnly(Options);
            threads = cli.GetInt("threads", 1);
            pairs = cli.GetInt("pairs", 2000);
            members = cli.GetInt("members", 3);
            length = cli.GetInt("segment-length", 50);
            features = cli.GetInt("features", 8);
            batch = cli.GetInt("batch", 128);
            seed = cli.GetInt("seed", 1);
            hidden = cli.Get("hidden", "256,256,256").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(x => int.TryParse(x, out int v) && v > 0 ? v : throw new CliUsageException($"--hidden takes positive widths like 256,256; got '{x}'."))
                .ToArray();
            if (threads < 1 || pairs < 2 || members < 1 || length < 1 || features < 1 || batch < 1)
                throw new CliUsageException("--threads, --members, --segment-length, --features and --batch must be at least 1, --pairs at least 2.");
        }
        catch (CliUsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var env = new SyntheticFeatureEnvironment(features);
        var data = env.RandomPairs(pairs, length, new Random(seed));
        using var worker = new TorchTrainingThread(new TorchOptions { Device = cli.Get("device", "auto"), Threads = threads });
        try
        {
            string device = await worker.Device;
            var options = RewardModelOptions.BPref with
            {
                HiddenSizes = hidden, EnsembleSize = members, BatchSize = batch, Epochs = 2, Seed = seed, Device = device,
            };
            var epochs = new List<TrainingProgress>();
            await worker.RunAsync(() =>
            {
                using var model = new BradleyTerryTrainer().TrainModel(env, data, options, new Recorder(epochs));
                return model.MemberCount;
            });
            // Epoch 1 also pays for checking and encoding the pairs and for libtorch's first-call set-up.
            double warmup = epochs[0].Elapsed.TotalSeconds;
            double seconds = (epochs[1].Elapsed - epochs[0].Elapsed).TotalSeconds;
            Console.Error.WriteLine($"warm-up epoch {warmup:F2}s, timed epoch {seconds:F2}s");
            Console.Out.WriteLine(JsonSerializer.Serialize(new
            {
                benchmark = "train",
                model = BradleyTerryRewardModel.TypeName,
                pairs,
                members,
                hidden,
                segment_length = length,
                feature_size = features,
                batch,
                threads,
                device,
                warmup_seconds = Math.Round(warmup, 4),
                seconds = Math.Round(seconds, 4),
                pairs_per_second = Math.Round(pairs / seconds, 1),
                loss = Math.Round(epochs[1].Loss, 4),
            }));
            return 0;
        }
        catch (Exception e) when (e is RewardTrainingException or ArgumentException or InvalidOperationException or TypeInitializationException or DllNotFoundException)
        {
            Console.Error.WriteLine($"error: benchmark failed: {e.Message}");
            return 1;
        }
    }

    /// <summary>Collects epoch reports on the torch thread (they are read after training finished).</summary>
    private sealed class Recorder(List<TrainingProgress> epochs) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => epochs.Add(value);
    }
}

/// <summary>
/// A stand-in environment for throughput benchmarks: the state is a vector of <c>features</c> numbers, the one
/// continuous action in [-1, 1] nudges it (next = 0.9 * state + action), the step features are the next state and
/// the true reward is their sum. Never terminal, so segments keep their length.
/// </summary>
internal sealed class SyntheticFeatureEnvironment(int features) : IPreferenceEnvironment
{
    public string Name => "bench-synthetic";
    public string DisplayName => "Synthetic features (benchmark)";
    public ActionSpace ActionSpace { get; } = ActionSpace.Continuous([-1], [1], "nudge");
    public int FeatureSize => features;
    public IReadOnlyList<string> FeatureNames { get; } = Enumerable.Range(0, features).Select(i => $"x{i}").ToArray();
    public int DefaultSegmentLength => 50;
    public int MaxEpisodeSteps => 1000;
    public IReadOnlyList<RewardFactor> Factors { get; } = [new("sum", "Sum of the state's entries", FactorDirection.HigherIsBetter)];

    public double[] SampleStart(Random rng) => Enumerable.Range(0, features).Select(_ => rng.NextDouble() * 2 - 1).ToArray();

    public bool IsTerminal(double[] state) => false;

    public Transition Step(double[] state, double[] action)
    {
        var next = new double[state.Length];
        for (int i = 0; i < next.Length; i++) next[i] = 0.9 * state[i] + action[0];
        return new Transition(next, next.Sum(), false);
    }

    public float[] StepFeatures(double[] state, double[] action, double[] next) => next.Select(v => (float)v).ToArray();

    public double[] StepFactors(double[] state, double[] action, double[] next) => [next.Sum()];

    public string? ValidateState(double[] state) =>
        state.Length == features && state.All(double.IsFinite) ? null : $"a state has {features} finite numbers";

    /// <summary>Random-action segments paired at random, labelled by their true returns (ties as equal).</summary>
    public List<PreferencePair> RandomPairs(int count, int length, Random rng)
    {
        IPreferenceEnvironment self = this;
        Segment Rollout()
        {
            var states = new double[length + 1][];
            var actions = new double[length][];
            states[0] = SampleStart(rng);
            for (int t = 0; t < length; t++)
            {
                actions[t] = ActionSpace.Sample(rng);
                states[t + 1] = Step(states[t], actions[t]).Next;
            }
            return new Segment(states, actions);
        }
        var result = new List<PreferencePair>(count);
        for (int i = 0; i < count; i++)
        {
            var (left, right) = (Rollout(), Rollout());
            double d = self.TrueReturn(right) - self.TrueReturn(left);
            result.Add(new PreferencePair(left, right, d > 0 ? PreferenceChoice.Right : d < 0 ? PreferenceChoice.Left : PreferenceChoice.Equal));
        }
        return result;
    }
}
