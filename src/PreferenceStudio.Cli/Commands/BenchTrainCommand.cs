using System.CommandLine;
using System.Text.Json.Nodes;
using PreferenceStudio.Environments;
using PreferenceStudio.Learning;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio bench train</c>: Bradley-Terry training throughput at B-Pref's sizes (3 members of 3 x 256 LeakyReLU
/// layers with tanh output, segments of 50 steps, batch 128) on synthetic pairs with 8 features. One warm-up epoch,
/// then one timed epoch, per thread setting and repeat. With <c>--reference pytorch</c> the same run alternates with
/// <c>Reference/bench_train_pytorch.py</c> (the identical model, data kind and batches in PyTorch), once as installed
/// and once with the C-heap settings the studio applies to itself (<see cref="NativeHeap"/>), so the ratio
/// is measured under one machine load. The last stdout line is one JSON object.
/// </summary>
public static class BenchTrainCommand
{
    private sealed record Setup(int Pairs, int Members, int Length, int Features, int Batch, int Seed, int[] Hidden);

    public static Command Create()
    {
        var threadsOption = CliOptions.Counts("--threads", [1], "libtorch intra-op thread counts to measure, e.g. 1,2");
        var repeatOption = CliOptions.With("--repeat", 1, "runs per thread count (the best is reported)");
        var referenceOption = CliOptions.Choice("--reference", "none", ["none", "pytorch"], "pytorch: alternate with the identical model in PyTorch and report the ratio");
        var pythonOption = CliOptions.With("--python", File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3", "the Python that has torch", "PATH");
        var deviceOption = CliOptions.Choice("--device", "auto", ["auto", "cpu", "cuda"], "where the studio trains");
        var pairsOption = CliOptions.With("--pairs", 2000, "synthetic pairs per epoch");
        var membersOption = CliOptions.With("--members", 3, "ensemble members");
        var lengthOption = CliOptions.With("--segment-length", 50, "steps per segment");
        var featuresOption = CliOptions.With("--features", 8, "features per step");
        var hiddenOption = CliOptions.Counts("--hidden", [256, 256, 256], "hidden layer widths");
        var batchOption = CliOptions.With("--batch", 128, "pairs per batch");
        var seedOption = CliOptions.With("--seed", 1, "seed of data and weights");
        return new Command("train", "reward-model training throughput (Bradley-Terry ensemble, B-Pref sizes), optionally against PyTorch")
        {
            threadsOption, repeatOption, referenceOption, pythonOption, deviceOption, pairsOption, membersOption, lengthOption, featuresOption,
            hiddenOption, batchOption, seedOption,
        }.WithAction((parse, ct) =>
        {
            var setup = new Setup(parse.GetValue(pairsOption), parse.GetValue(membersOption), parse.GetValue(lengthOption), parse.GetValue(featuresOption),
                parse.GetValue(batchOption), parse.GetValue(seedOption), parse.GetRequiredValue(hiddenOption));
            int repeat = parse.GetValue(repeatOption);
            if (repeat < 1 || setup.Pairs < 2 || setup.Members < 1 || setup.Length < 1 || setup.Features < 1 || setup.Batch < 1)
                throw new CliUsageException("--repeat, --members, --segment-length, --features and --batch must be at least 1, --pairs at least 2.");
            return RunAsync(setup, parse.GetRequiredValue(threadsOption), repeat, parse.GetRequiredValue(referenceOption) == "pytorch",
                parse.GetRequiredValue(pythonOption), parse.GetRequiredValue(deviceOption));
        });
    }

    private static async Task<int> RunAsync(Setup setup, int[] threads, int repeat, bool reference, string python, string device)
    {
        string script = Path.Combine(AppContext.BaseDirectory, "Reference", "bench_train_pytorch.py");
        if (reference && !File.Exists(script))
        {
            Console.Error.WriteLine($"error: the PyTorch reference script is missing at {script}.");
            return 1;
        }
        double loadBefore = BenchStudio.LoadAverage();
        var studio = new List<JsonObject>();
        var pytorch = new List<JsonObject>();
        var pytorchSameHeap = new List<JsonObject>();
        try
        {
            for (int r = 0; r < repeat; r++)
                foreach (int t in threads)
                {
                    // Alternating keeps a change in machine load from favouring one side.
                    studio.Add(await TrainStudioAsync(setup, t, device));
                    if (!reference) continue;
                    pytorch.Add(await TrainPyTorchAsync(python, script, setup, t, sameHeap: false));
                    pytorchSameHeap.Add(await TrainPyTorchAsync(python, script, setup, t, sameHeap: true));
                }
        }
        catch (Exception e) when (e is RewardTrainingException or ArgumentException or InvalidOperationException or TypeInitializationException
            or DllNotFoundException or System.ComponentModel.Win32Exception)
        {
            Console.Error.WriteLine($"error: benchmark failed: {e.Message}");
            return 1;
        }

        static double Best(List<JsonObject> runs) => runs.Max(r => (double)r["pairs_per_second"]!);
        var result = new JsonObject
        {
            ["benchmark"] = "train",
            ["model"] = BradleyTerryRewardModel.TypeName,
            ["pairs"] = setup.Pairs,
            ["members"] = setup.Members,
            ["hidden"] = new JsonArray(setup.Hidden.Select(h => (JsonNode)h).ToArray()),
            ["segment_length"] = setup.Length,
            ["feature_size"] = setup.Features,
            ["batch"] = setup.Batch,
            ["device"] = studio[0]["device"]!.DeepClone(),
            // The best run's fields, as a single run printed them before there were several.
            ["threads"] = studio.MaxBy(r => (double)r["pairs_per_second"]!)!["threads"]!.DeepClone(),
            ["pairs_per_second"] = Best(studio),
            ["loss"] = studio[^1]["loss"]!.DeepClone(),
            ["runs"] = new JsonArray(studio.Select(r => (JsonNode)r).ToArray()),
        };
        if (reference)
        {
            result["pytorch_version"] = pytorch[0]["torch_version"]!.DeepClone();
            result["pytorch_pairs_per_second"] = Best(pytorch);
            result["pytorch_same_heap_pairs_per_second"] = Best(pytorchSameHeap);
            result["ratio_vs_pytorch"] = Math.Round(Best(studio) / Best(pytorch), 3);
            result["ratio_vs_pytorch_same_heap"] = Math.Round(Best(studio) / Best(pytorchSameHeap), 3);
            result["pytorch_runs"] = new JsonArray(pytorch.Select(r => (JsonNode)r).ToArray());
            result["pytorch_same_heap_runs"] = new JsonArray(pytorchSameHeap.Select(r => (JsonNode)r).ToArray());
        }
        result["load_average_before"] = loadBefore;
        result["load_average_after"] = BenchStudio.LoadAverage();
        Console.Out.WriteLine(result.ToJsonString());
        return 0;
    }

    /// <summary>One warm-up and one timed epoch of the studio's trainer on a fresh torch thread with <paramref name="threads"/> threads.</summary>
    private static async Task<JsonObject> TrainStudioAsync(Setup setup, int threads, string device)
    {
        var env = new SyntheticFeatureEnvironment(setup.Features);
        var data = env.RandomPairs(setup.Pairs, setup.Length, new Random(setup.Seed));
        using var worker = new TorchTrainingThread(new TorchOptions { Device = device, Threads = threads });
        string resolved = await worker.Device;
        var options = RewardModelOptions.BPref with
        {
            HiddenSizes = setup.Hidden, EnsembleSize = setup.Members, BatchSize = setup.Batch, Epochs = 2, Seed = setup.Seed, Device = resolved,
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
        Console.Error.WriteLine($"studio, {threads} thread(s): warm-up epoch {warmup:F2}s, timed epoch {seconds:F2}s, {setup.Pairs / seconds:F1} pairs/s");
        return new JsonObject
        {
            ["threads"] = threads,
            ["device"] = resolved,
            ["warmup_seconds"] = Math.Round(warmup, 4),
            ["seconds"] = Math.Round(seconds, 4),
            ["pairs_per_second"] = Math.Round(setup.Pairs / seconds, 1),
            ["loss"] = Math.Round(epochs[1].Loss, 4),
        };
    }

    /// <summary>Runs the PyTorch reference script and returns its last stdout line.</summary>
    private static async Task<JsonObject> TrainPyTorchAsync(string python, string script, Setup setup, int threads, bool sameHeap)
    {
        var start = new System.Diagnostics.ProcessStartInfo(python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            script, "--threads", $"{threads}", "--pairs", $"{setup.Pairs}", "--members", $"{setup.Members}", "--segment-length", $"{setup.Length}",
            "--features", $"{setup.Features}", "--batch", $"{setup.Batch}", "--seed", $"{setup.Seed}", "--hidden", string.Join(',', setup.Hidden),
        })
            start.ArgumentList.Add(arg);
        if (sameHeap) start.Environment["GLIBC_TUNABLES"] = NativeHeap.GlibcTunables;
        using var process = System.Diagnostics.Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        string last = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
        if (process.ExitCode != 0 || !last.StartsWith('{'))
            throw new InvalidOperationException(
                $"{python} {script} exited with {process.ExitCode}: {(await stderr).Trim().Split('\n').LastOrDefault()} " +
                "(it needs PyTorch: on Debian `apt-get install python3-torch libopenblas0-pthread`; --python chooses the interpreter).");
        var run = JsonNode.Parse(last)!.AsObject();
        Console.Error.WriteLine($"pytorch{(sameHeap ? " (same heap settings)" : "")}, {threads} thread(s): timed epoch {run["seconds"]}s, {run["pairs_per_second"]} pairs/s");
        return new JsonObject
        {
            ["threads"] = threads,
            ["torch_version"] = run["torch_version"]!.DeepClone(),
            ["warmup_seconds"] = run["warmup_seconds"]!.DeepClone(),
            ["seconds"] = run["seconds"]!.DeepClone(),
            ["pairs_per_second"] = run["pairs_per_second"]!.DeepClone(),
            ["loss"] = run["loss"]!.DeepClone(),
        };
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
