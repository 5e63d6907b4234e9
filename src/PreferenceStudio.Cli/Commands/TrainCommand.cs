using System.Diagnostics;
using System.Text;
using System.Text.Json;
using PreferenceStudio.Core.Exchange;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.Learning;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio train</c>: trains a reward model from a preference file and reports held-out metrics.
/// Progress goes to stderr; the last stdout line is one JSON object with the results.
/// </summary>
public static class TrainCommand
{
    private const string Usage =
        "usage: studio train --env NAME --data FILE.jsonl [--model bt] [--holdout 0.2] [--seed 1] [--epochs N] " +
        "[--lr X] [--hidden 64,64] [--batch 128] [--label-noise] [--device auto|cpu|cuda] [--threads 1] [--group NAME] [--save PATH]";

    private static readonly string[] Options =
        ["env", "data", "model", "holdout", "seed", "epochs", "lr", "hidden", "batch", "label-noise", "device", "threads", "group", "save", "help"];

    /// <summary>Runs the verb. Exit codes: 0 success, 2 bad arguments or invalid data, 1 training failed.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        var clock = Stopwatch.StartNew();
        TrainSettings settings;
        try
        {
            var cli = CliArgs.Parse(args);
            if (cli.Has("help"))
            {
                Console.Error.WriteLine(Usage);
                return 0;
            }
            cli.EnsureOnly(Options);
            settings = TrainSettings.From(cli);
        }
        catch (Exception e) when (e is CliUsageException or ArgumentException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }

        var pairs = LoadPairs(settings);
        if (pairs is null) return 2;

        var (train, test) = Split(pairs, settings.Holdout, settings.Seed);
        Console.Error.WriteLine($"{pairs.Count} pairs ({settings.Group ?? "all groups"}): {train.Count} train, {test.Count} held out.");
        if (train.Count == 0)
        {
            Console.Error.WriteLine("error: no pairs left to train on; lower --holdout.");
            return 2;
        }

        using var worker = new TorchTrainingThread(new TorchOptions { Device = settings.Device, Threads = settings.Threads });
        try
        {
            string device = await worker.Device.ConfigureAwait(false);
            var options = settings.ModelOptions with { Device = device };
            var report = await worker.RunAsync(() =>
            {
                using var model = new BradleyTerryTrainer().Train(settings.Environment, train, options, new StderrProgress());
                var held = PreferenceMetrics.Evaluate(model, test);
                var fit = PreferenceMetrics.Evaluate(model, train);
                double? scaled = settings.Environment is ITabularEnvironment tabular
                    ? ScaledReturn.Compute(tabular, RewardTable.Plan(model, tabular).Policy)
                    : null;
                if (settings.SavePath is not null) model.Save(settings.SavePath);
                return (held, fit, scaled);
            }).ConfigureAwait(false);

            Console.Out.WriteLine(ResultJson(settings, train.Count, test.Count, report.held, report.fit, report.scaled, device, clock.Elapsed.TotalSeconds));
            return 0;
        }
        catch (Exception e) when (e is RewardTrainingException or ArgumentException or InvalidOperationException or TypeInitializationException or DllNotFoundException)
        {
            Console.Error.WriteLine($"error: training failed: {e.Message}");
            return 1;
        }
    }

    private static List<PreferencePair>? LoadPairs(TrainSettings settings)
    {
        PreferenceJsonlReadResult read;
        try
        {
            read = PreferenceJsonl.ReadFile(settings.DataPath);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"error: cannot read {settings.DataPath}: {e.Message}");
            return null;
        }
        if (!read.IsValid)
        {
            const int shown = 50;
            Console.Error.WriteLine($"error: {settings.DataPath} has {read.Errors.Count} problem(s); nothing was trained.");
            foreach (var error in read.Errors.Take(shown)) Console.Error.WriteLine($"{settings.DataPath}:{error}");
            if (read.Errors.Count > shown) Console.Error.WriteLine($"... and {read.Errors.Count - shown} more.");
            return null;
        }

        var records = read.Records.Where(r => r.Environment == settings.Environment.Name).ToList();
        if (records.Count < read.Records.Count)
            Console.Error.WriteLine($"Skipping {read.Records.Count - records.Count} record(s) of other environments.");
        if (settings.Group is not null)
        {
            var groups = records.Select(r => r.Group ?? "(none)").Distinct().Order().ToList();
            records = records.Where(r => r.Group == settings.Group).ToList();
            if (records.Count == 0)
            {
                Console.Error.WriteLine($"error: no records in group '{settings.Group}'. Groups in the file: {string.Join(", ", groups)}.");
                return null;
            }
        }
        int incomparable = records.Count(r => r.Label == PreferenceChoice.Incomparable);
        if (incomparable > 0) Console.Error.WriteLine($"Leaving out {incomparable} incomparable pair(s).");
        var pairs = records.Where(r => r.Label != PreferenceChoice.Incomparable)
            .Select(r => new PreferencePair(r.Left, r.Right, r.Label)).ToList();
        if (pairs.Count == 0)
        {
            Console.Error.WriteLine("error: no usable pairs (every record is incomparable or filtered out).");
            return null;
        }
        return pairs;
    }

    /// <summary>Seeded shuffle, then the first round(holdout * n) pairs are held out.</summary>
    private static (List<PreferencePair> Train, List<PreferencePair> Test) Split(List<PreferencePair> pairs, double holdout, int seed)
    {
        var shuffled = pairs.ToArray();
        new Random(seed).Shuffle(shuffled);
        int nTest = (int)Math.Round(holdout * shuffled.Length);
        return (shuffled[nTest..].ToList(), shuffled[..nTest].ToList());
    }

    private static string ResultJson(TrainSettings s, int nTrain, int nTest, PreferenceMetricsResult held, PreferenceMetricsResult fit,
        double? scaled, string device, double seconds)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("model", BradleyTerryRewardModel.TypeName);
            w.WriteString("environment", s.Environment.Name);
            w.WriteString("group", s.Group);
            w.WriteNumber("n_train", nTrain);
            w.WriteNumber("n_test", nTest);
            w.WriteNumber("n_test_decisive", held.DecisiveCount);
            Number(w, "heldout_accuracy", held.Accuracy);
            Number(w, "heldout_loglik", held.MeanLogLikelihood);
            Number(w, "train_accuracy", fit.Accuracy);
            Number(w, "train_loglik", fit.MeanLogLikelihood);
            if (scaled is { } sr) Number(w, "scaled_return", sr);
            w.WriteNumber("epochs", s.ModelOptions.Epochs);
            w.WriteNumber("learning_rate", s.ModelOptions.LearningRate);
            w.WriteNumber("seed", s.Seed);
            w.WriteNumber("holdout", s.Holdout);
            Number(w, "seconds", seconds);
            w.WriteString("device", device);
            if (s.SavePath is not null) w.WriteString("checkpoint", Path.GetFullPath(s.SavePath));
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>NaN (no held-out pairs) is not valid JSON; write null instead.</summary>
    private static void Number(Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, Math.Round(value, 6));
        else w.WriteNull(name);
    }

    /// <summary>Prints straight from the torch thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class StderrProgress : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            if (p.Epoch == 1 || p.Epoch == p.Epochs || p.Epoch % 10 == 0)
                Console.Error.WriteLine($"epoch {p.Epoch}/{p.Epochs}  loss {p.Loss:F4}  {p.Elapsed.TotalSeconds:F1}s");
        }
    }

    private sealed record TrainSettings(
        IPreferenceEnvironment Environment, string DataPath, double Holdout, int Seed, string Device, int Threads,
        string? Group, string? SavePath, RewardModelOptions ModelOptions)
    {
        public static TrainSettings From(CliArgs cli)
        {
            var env = EnvironmentRegistry.Get(cli.Require("env"));
            var model = cli.Get("model", BradleyTerryRewardModel.TypeName);
            if (model != BradleyTerryRewardModel.TypeName)
                throw new CliUsageException($"Unknown --model '{model}'; available: {BradleyTerryRewardModel.TypeName}.");
            double holdout = cli.GetDouble("holdout", 0.2);
            if (holdout is < 0 or >= 1) throw new CliUsageException("--holdout must lie in [0, 1).");
            var defaults = new RewardModelOptions();
            var hidden = cli.Get("hidden") is { } h
                ? h.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(x => int.TryParse(x, out int v) && v > 0 ? v : throw new CliUsageException($"--hidden takes positive widths like 64,64; got '{h}'."))
                    .ToArray()
                : defaults.HiddenSizes.ToArray();
            int seed = cli.GetInt("seed", 1);
            var options = defaults with
            {
                Epochs = cli.GetInt("epochs", defaults.Epochs),
                LearningRate = cli.GetDouble("lr", defaults.LearningRate),
                BatchSize = cli.GetInt("batch", defaults.BatchSize),
                HiddenSizes = hidden,
                LabelNoise = cli.GetFlag("label-noise"),
                Seed = seed,
            };
            // One intra-op thread by default: these models are far too small to gain from more, and on a busy
            // 2-core machine libtorch's spinning worker threads made a 1 s run take 30 s (measured).
            int threads = cli.GetInt("threads", 1);
            if (threads < 0) throw new CliUsageException("--threads must be 0 (libtorch default) or more.");
            return new TrainSettings(env, cli.Require("data"), holdout, seed, cli.Get("device", "auto"), threads,
                cli.Get("group"), cli.Get("save"), options);
        }
    }
}
