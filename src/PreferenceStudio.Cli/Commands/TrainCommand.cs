using System.Diagnostics;
using System.Text;
using System.Text.Json;
using PreferenceStudio.Core.Exchange;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Metrics;
using PreferenceStudio.Learning.Reliability;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio train</c>: trains a reward model (any type in <see cref="RewardModels"/>) from a preference file and
/// reports held-out metrics, either on one held-out split or by K-fold cross-validation (<c>--folds K</c>).
/// Progress goes to stderr; the last stdout line is one JSON object with the results.
/// </summary>
public static class TrainCommand
{
    private static readonly string Usage =
        $"usage: studio train --env NAME --data FILE.jsonl [--model {string.Join("|", RewardModels.Types)}] [--holdout 0.2 | --folds K] " +
        "[--seed 1] [--epochs N] [--lr X] [--hidden 64,64] [--batch 128] [--weight-decay X] [--ensemble 3] [--bootstrap] [--tanh] " +
        "[--label-noise] [--device auto|cpu|cuda] [--threads 1] [--group NAME] [--save PATH] [--rater-weighting none|reliability] [--test FILE.jsonl]";

    private static readonly string[] Options =
    [
        "env", "data", "model", "holdout", "folds", "seed", "epochs", "lr", "hidden", "batch", "weight-decay", "ensemble", "bootstrap",
        "tanh", "label-noise", "device", "threads", "group", "save", "rater-weighting", "test", "help",
    ];

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

        var pairs = LoadPairs(settings, settings.DataPath, settings.Group);
        if (pairs is null) return 2;
        // --test: every comparison of a second file is the test set (its labels taken as the truth), no split.
        List<PreferencePair>? fixedTest = null;
        if (settings.TestPath is not null)
        {
            fixedTest = LoadPairs(settings, settings.TestPath, group: null);
            if (fixedTest is null) return 2;
        }
        if (settings.Folds > pairs.Count)
        {
            Console.Error.WriteLine($"error: --folds {settings.Folds} needs at least as many pairs; there are {pairs.Count}.");
            return 2;
        }
        List<(List<PreferencePair> Train, List<PreferencePair> Test)> splits = fixedTest is not null
            ? [(pairs, fixedTest)]
            : settings.Folds > 0
                ? Folds(pairs, settings.Folds, settings.Seed)
                : [Split(pairs, settings.Holdout, settings.Seed)];
        if (splits.Any(s => s.Train.Count == 0))
        {
            Console.Error.WriteLine("error: no pairs left to train on; lower --holdout.");
            return 2;
        }
        Console.Error.WriteLine(fixedTest is not null
            ? $"{pairs.Count} pairs ({settings.Group ?? "all groups"}) train; {fixedTest.Count} pairs of {settings.TestPath} test."
            : settings.Folds > 0
            ? $"{pairs.Count} pairs ({settings.Group ?? "all groups"}): {settings.Folds}-fold cross-validation."
            : $"{pairs.Count} pairs ({settings.Group ?? "all groups"}): {splits[0].Train.Count} train, {splits[0].Test.Count} held out.");

        using var worker = new TorchTrainingThread(new TorchOptions { Device = settings.Device, Threads = settings.Threads });
        try
        {
            string device = await worker.Device.ConfigureAwait(false);
            var options = settings.ModelOptions with { Device = device };
            var reports = new List<SplitReport>();
            for (int i = 0; i < splits.Count; i++)
            {
                var (train, test) = splits[i];
                var report = await worker.RunAsync(() => TrainAndMeasure(settings, options, train, test, single: settings.Folds == 0)).ConfigureAwait(false);
                reports.Add(report);
                if (settings.Folds > 0) Console.Error.WriteLine($"fold {i + 1}/{splits.Count}: {report.Describe()}");
            }
            Console.Out.WriteLine(settings.Folds > 0
                ? FoldsJson(settings, pairs.Count, reports, device, clock.Elapsed.TotalSeconds)
                : ResultJson(settings, reports[0], device, clock.Elapsed.TotalSeconds));
            return 0;
        }
        catch (Exception e) when (e is RewardTrainingException or ArgumentException or InvalidOperationException or TypeInitializationException or DllNotFoundException)
        {
            Console.Error.WriteLine($"error: training failed: {e.Message}");
            return 1;
        }
    }

    /// <summary>Runs on the torch thread: trains on one split and measures the model on both sides of it.</summary>
    private static SplitReport TrainAndMeasure(TrainSettings s, RewardModelOptions options, List<PreferencePair> train, List<PreferencePair> test, bool single)
    {
        var clock = Stopwatch.StartNew();
        IReadOnlyDictionary<string, double>? reliability = null;
        IReadOnlyDictionary<string, (double Accuracy, int Count)>? goldAccuracy = null;
        IRewardModel trained;
        if (s.RaterWeighting == RaterWeighting.Reliability)
        {
            var weighted = new ReliabilityWeightedTrainer(RewardModels.Trainer(s.ModelType)).Train(s.Environment, train, options, single ? new StderrProgress() : null);
            trained = weighted.Model;
            reliability = weighted.Reliability;
            goldAccuracy = weighted.GoldAccuracy;
        }
        else trained = RewardModels.Trainer(s.ModelType).Train(s.Environment, train, options, single ? new StderrProgress() : null);
        using var model = trained;
        var held = PreferenceMetrics.Evaluate(model, test);
        var fit = PreferenceMetrics.Evaluate(model, train);
        double? scaled = null, epic = null;
        if (s.Environment is ITabularEnvironment tabular)
        {
            scaled = ScaledReturn.Compute(tabular, RewardTable.Plan(model, tabular).Policy);
            epic = EpicDistance.Tabular(tabular, EpicReward.Model(model, tabular), EpicReward.True(tabular));
        }
        if (s.SavePath is not null) model.Save(s.SavePath);
        int members = model is IEnsembleRewardModel ensemble ? ensemble.MemberCount : 1;
        return new SplitReport(train.Count, test.Count, held, fit, scaled, epic, members, clock.Elapsed.TotalSeconds, reliability, goldAccuracy);
    }

    private sealed record SplitReport(
        int NTrain, int NTest, PreferenceMetricsResult Held, PreferenceMetricsResult Fit, double? Scaled, double? Epic, int Members, double Seconds,
        IReadOnlyDictionary<string, double>? Reliability = null, IReadOnlyDictionary<string, (double Accuracy, int Count)>? GoldAccuracy = null)
    {
        public string Describe() =>
            $"n_train {NTrain}  n_test {NTest}  accuracy {Held.Accuracy:F4}  loglik {Held.MeanLogLikelihood:F4}  ece {Held.ExpectedCalibrationError:F4}" +
            (Scaled is { } sr ? $"  scaled_return {sr:F4}" : "") + (Epic is { } e ? $"  epic {e:F4}" : "") + $"  {Seconds:F1}s";
    }

    private static List<PreferencePair>? LoadPairs(TrainSettings settings, string path, string? group)
    {
        PreferenceJsonlReadResult read;
        try
        {
            read = PreferenceJsonl.ReadFile(path);
        }
        catch (IOException e)
        {
            Console.Error.WriteLine($"error: cannot read {path}: {e.Message}");
            return null;
        }
        if (!read.IsValid)
        {
            const int shown = 50;
            Console.Error.WriteLine($"error: {path} has {read.Errors.Count} problem(s); nothing was trained.");
            foreach (var error in read.Errors.Take(shown)) Console.Error.WriteLine($"{path}:{error}");
            if (read.Errors.Count > shown) Console.Error.WriteLine($"... and {read.Errors.Count - shown} more.");
            return null;
        }

        var records = read.Records.Where(r => r.Environment == settings.Environment.Name).ToList();
        if (records.Count < read.Records.Count)
            Console.Error.WriteLine($"Skipping {read.Records.Count - records.Count} record(s) of other environments.");
        if (group is not null)
        {
            var groups = records.Select(r => r.Group ?? "(none)").Distinct().Order().ToList();
            records = records.Where(r => r.Group == group).ToList();
            if (records.Count == 0)
            {
                Console.Error.WriteLine($"error: no records in group '{group}' of {path}. Groups in the file: {string.Join(", ", groups)}.");
                return null;
            }
        }
        int incomparable = records.Count(r => r.Label == PreferenceChoice.Incomparable);
        if (incomparable > 0) Console.Error.WriteLine($"Leaving out {incomparable} incomparable pair(s).");
        var pairs = records.Where(r => r.Label != PreferenceChoice.Incomparable)
            .Select(r => new PreferencePair(r.Left, r.Right, r.Label, r.Rater, Gold: r.Gold, PairKey: r.ComparisonId)).ToList();
        if (pairs.Count == 0)
        {
            Console.Error.WriteLine($"error: no usable pairs in {path} (every record is incomparable or filtered out).");
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

    /// <summary>Seeded shuffle, then K contiguous folds of near-equal size; fold k is held out once, trained on the rest.</summary>
    private static List<(List<PreferencePair> Train, List<PreferencePair> Test)> Folds(List<PreferencePair> pairs, int k, int seed)
    {
        var shuffled = pairs.ToArray();
        new Random(seed).Shuffle(shuffled);
        var result = new List<(List<PreferencePair>, List<PreferencePair>)>(k);
        for (int fold = 0; fold < k; fold++)
        {
            int start = (int)((long)fold * shuffled.Length / k), end = (int)((long)(fold + 1) * shuffled.Length / k);
            result.Add((shuffled[..start].Concat(shuffled[end..]).ToList(), shuffled[start..end].ToList()));
        }
        return result;
    }

    private static string ResultJson(TrainSettings s, SplitReport r, string device, double seconds) => Json(w =>
    {
        Header(w, s, r.Members);
        w.WriteNumber("n_train", r.NTrain);
        w.WriteNumber("n_test", r.NTest);
        w.WriteNumber("n_test_decisive", r.Held.DecisiveCount);
        Number(w, "heldout_accuracy", r.Held.Accuracy);
        Number(w, "heldout_loglik", r.Held.MeanLogLikelihood);
        Number(w, "ece", r.Held.ExpectedCalibrationError);
        Number(w, "train_accuracy", r.Fit.Accuracy);
        Number(w, "train_loglik", r.Fit.MeanLogLikelihood);
        if (r.Scaled is { } sr) Number(w, "scaled_return", sr);
        if (r.Epic is { } epic) Number(w, "epic", epic);
        if (r.Held.PerRater is { Count: > 0 } raters)
        {
            w.WriteStartObject("per_rater");
            foreach (var (rater, acc) in raters.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            {
                w.WriteStartObject(rater);
                Number(w, "accuracy", acc.Accuracy);
                w.WriteNumber("count", acc.Count);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        if (r.Reliability is { } reliability)
        {
            w.WriteStartObject("rater_reliability");
            foreach (var (rater, a) in reliability.OrderBy(kv => kv.Key, StringComparer.Ordinal)) Number(w, rater, a);
            w.WriteEndObject();
        }
        if (r.GoldAccuracy is { Count: > 0 } gold)
        {
            w.WriteStartObject("gold_accuracy");
            foreach (var (rater, g) in gold.OrderBy(kv => kv.Key, StringComparer.Ordinal)) Number(w, rater, g.Accuracy);
            w.WriteEndObject();
        }
        if (s.TestPath is not null) w.WriteString("test", Path.GetFullPath(s.TestPath));
        else w.WriteNumber("holdout", s.Holdout);
        Footer(w, s, device, seconds);
    });

    /// <summary>Each metric's mean across folds under the single-split key, its sample standard deviation under key_std.</summary>
    private static string FoldsJson(TrainSettings s, int nPairs, List<SplitReport> reports, string device, double seconds) => Json(w =>
    {
        Header(w, s, reports[0].Members);
        w.WriteNumber("folds", reports.Count);
        w.WriteNumber("n_pairs", nPairs);
        MeanStd(w, "heldout_accuracy", reports.Select(r => r.Held.Accuracy));
        MeanStd(w, "heldout_loglik", reports.Select(r => r.Held.MeanLogLikelihood));
        MeanStd(w, "ece", reports.Select(r => r.Held.ExpectedCalibrationError));
        MeanStd(w, "train_accuracy", reports.Select(r => r.Fit.Accuracy));
        if (reports.All(r => r.Scaled is not null)) MeanStd(w, "scaled_return", reports.Select(r => r.Scaled!.Value));
        if (reports.All(r => r.Epic is not null)) MeanStd(w, "epic", reports.Select(r => r.Epic!.Value));
        w.WriteStartArray("per_fold");
        for (int i = 0; i < reports.Count; i++)
        {
            var r = reports[i];
            w.WriteStartObject();
            w.WriteNumber("fold", i + 1);
            w.WriteNumber("n_train", r.NTrain);
            w.WriteNumber("n_test", r.NTest);
            w.WriteNumber("n_test_decisive", r.Held.DecisiveCount);
            Number(w, "heldout_accuracy", r.Held.Accuracy);
            Number(w, "heldout_loglik", r.Held.MeanLogLikelihood);
            Number(w, "ece", r.Held.ExpectedCalibrationError);
            Number(w, "train_accuracy", r.Fit.Accuracy);
            if (r.Scaled is { } sr) Number(w, "scaled_return", sr);
            if (r.Epic is { } epic) Number(w, "epic", epic);
            Number(w, "seconds", r.Seconds);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        Footer(w, s, device, seconds);
    });

    private static void Header(Utf8JsonWriter w, TrainSettings s, int members)
    {
        w.WriteString("model", s.ModelType);
        w.WriteString("environment", s.Environment.Name);
        w.WriteString("group", s.Group);
        w.WriteNumber("members", members);
    }

    private static void Footer(Utf8JsonWriter w, TrainSettings s, string device, double seconds)
    {
        // The regret model's tabular linear form has its own optimiser settings (RegretOptions); --epochs and --lr
        // apply to the network-based models only, so only those report them.
        if (s.ModelType != "regret")
        {
            w.WriteNumber("epochs", s.ModelOptions.Epochs);
            w.WriteNumber("learning_rate", s.ModelOptions.LearningRate);
        }
        w.WriteString("rater_weighting", s.RaterWeighting);
        w.WriteNumber("seed", s.Seed);
        Number(w, "seconds", seconds);
        w.WriteString("device", device);
        if (s.SavePath is not null) w.WriteString("checkpoint", Path.GetFullPath(s.SavePath));
    }

    private static string Json(Action<Utf8JsonWriter> body)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Mean and sample standard deviation over the folds where the metric is defined (NaN folds are left out).</summary>
    private static void MeanStd(Utf8JsonWriter w, string name, IEnumerable<double> values)
    {
        var v = values.Where(double.IsFinite).ToList();
        double mean = v.Count == 0 ? double.NaN : v.Average();
        double std = v.Count < 2 ? double.NaN : Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1));
        Number(w, name, mean);
        Number(w, name + "_std", std);
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
        IPreferenceEnvironment Environment, string DataPath, string ModelType, double Holdout, int Folds, int Seed, string Device,
        int Threads, string? Group, string? SavePath, RewardModelOptions ModelOptions, string RaterWeighting = Learning.Reliability.RaterWeighting.None,
        string? TestPath = null)
    {
        public static TrainSettings From(CliArgs cli)
        {
            var env = EnvironmentRegistry.Get(cli.Require("env"));
            var model = cli.Get("model", BradleyTerryRewardModel.TypeName);
            if (!RewardModels.Types.Contains(model, StringComparer.Ordinal))
                throw new CliUsageException($"Unknown --model '{model}'; available: {string.Join(", ", RewardModels.Types)}.");
            double holdout = cli.GetDouble("holdout", 0.2);
            if (holdout is < 0 or >= 1) throw new CliUsageException("--holdout must lie in [0, 1).");
            int folds = cli.GetInt("folds", 0);
            if (folds is < 0 or 1) throw new CliUsageException("--folds must be at least 2 (or 0 for one --holdout split).");
            if (folds > 0 && cli.Has("holdout")) throw new CliUsageException("--folds and --holdout exclude each other: each fold is held out once.");
            if (folds > 0 && cli.Has("save")) throw new CliUsageException("--save keeps one model; it cannot be combined with --folds.");
            var defaults = new RewardModelOptions();
            var hidden = cli.Get("hidden") is { } h
                ? h.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(x => int.TryParse(x, out int v) && v > 0 ? v : throw new CliUsageException($"--hidden takes positive widths like 64,64; got '{h}'."))
                    .ToArray()
                : defaults.HiddenSizes.ToArray();
            int seed = cli.GetInt("seed", 1);
            int ensemble = cli.GetInt("ensemble", defaults.EnsembleSize);
            if (ensemble < 1) throw new CliUsageException("--ensemble must be at least 1.");
            var options = defaults with
            {
                Epochs = cli.GetInt("epochs", defaults.Epochs),
                LearningRate = cli.GetDouble("lr", defaults.LearningRate),
                BatchSize = cli.GetInt("batch", defaults.BatchSize),
                WeightDecay = cli.GetDouble("weight-decay", defaults.WeightDecay),
                HiddenSizes = hidden,
                TanhOutput = cli.GetFlag("tanh"),
                LabelNoise = cli.GetFlag("label-noise"),
                EnsembleSize = ensemble,
                Bootstrap = cli.GetFlag("bootstrap"),
                Seed = seed,
            };
            // One intra-op thread by default: these models are far too small to gain from more, and on a busy
            // 2-core machine libtorch's spinning worker threads made a 1 s run take 30 s (measured).
            int threads = cli.GetInt("threads", 1);
            if (threads < 0) throw new CliUsageException("--threads must be 0 (libtorch default) or more.");
            var weighting = cli.Get("rater-weighting", Learning.Reliability.RaterWeighting.None);
            if (!Learning.Reliability.RaterWeighting.All.Contains(weighting))
                throw new CliUsageException($"--rater-weighting is {string.Join(" or ", Learning.Reliability.RaterWeighting.All)}, not '{weighting}'.");
            var test = cli.Get("test");
            if (test is not null && (cli.Has("holdout") || folds > 0))
                throw new CliUsageException("--test gives the test set; it cannot be combined with --holdout or --folds.");
            return new TrainSettings(env, cli.Require("data"), model, folds > 0 || test is not null ? 0 : holdout, folds, seed, cli.Get("device", "auto"), threads,
                cli.Get("group"), cli.Get("save"), options, weighting, test);
        }
    }
}
