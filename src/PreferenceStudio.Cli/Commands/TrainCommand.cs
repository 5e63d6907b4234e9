using System.Diagnostics;
using System.Text;
using System.CommandLine;
using System.Text.Json.Nodes;
using PreferenceStudio.Core.Exchange;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Metrics;
using PreferenceStudio.Learning.Loop;
using PreferenceStudio.Learning.Reliability;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio train</c>: trains a reward model (any type in <see cref="RewardModels"/>) from a preference file and
/// reports held-out metrics, either on one held-out split or by K-fold cross-validation (<c>--folds K</c>).
/// Progress goes to stderr; the last stdout line is one JSON object with the results.
/// </summary>
public static class TrainCommand
{
    internal static readonly RewardModelOptions Defaults = new();

    private static readonly Learning.Vpl.VplOptions Vpl = new();

    /// <summary>The verb's options, made anew for each command tree.</summary>
    private sealed class Options
    {
        public readonly Option<string> EnvName = CliOptions.Environment("the environment the pairs were recorded in");
        public readonly Option<string> Data = CliOptions.Required<string>("--data", "the preference file (exchange JSONL) to train on", "FILE.jsonl");
        public readonly Option<string> Model = CliOptions.Choice("--model", BradleyTerryRewardModel.TypeName, RewardModels.Types, "the reward-model type");
        public readonly Option<double> Holdout = CliOptions.With("--holdout", 0.2, "share of pairs held out for testing, in [0, 1)");
        public readonly Option<int> FoldCount = CliOptions.With("--folds", 0, "K-fold cross-validation instead of one --holdout split (0: off, else at least 2)", "K");
        public readonly Option<int> Seed = CliOptions.With("--seed", 1, "seed of the split and of training");
        public readonly Option<int> Epochs = CliOptions.With("--epochs", Defaults.Epochs, "training epochs");
        public readonly Option<double> LearningRate = CliOptions.With("--lr", Defaults.LearningRate, "Adam learning rate");
        public readonly Option<int[]> Hidden = CliOptions.Counts("--hidden", [.. Defaults.HiddenSizes], "hidden layer widths");
        public readonly Option<int> Batch = CliOptions.With("--batch", Defaults.BatchSize, "pairs per batch");
        public readonly Option<double> WeightDecay = CliOptions.With("--weight-decay", Defaults.WeightDecay, "L2 weight decay");
        public readonly Option<int> Ensemble = CliOptions.With("--ensemble", Defaults.EnsembleSize, "members of the Bradley-Terry ensemble (1: one model)");
        public readonly Option<bool> Bootstrap = CliOptions.Flag("--bootstrap", "each ensemble member trains on a bootstrap resample of the pairs");
        public readonly Option<bool> Tanh = CliOptions.Flag("--tanh", "squash each step's reward with tanh");
        public readonly Option<bool> LabelNoise = CliOptions.Flag("--label-noise", "model 10% random answers in the likelihood");
        public readonly Option<string> Device = CliOptions.Choice("--device", "auto", ["auto", "cpu", "cuda"], "where to train (auto: the GPU when there is one)");
        // One intra-op thread by default: these models are far too small to gain from more, and on a busy 2-core machine
        // libtorch's spinning worker threads made a 1 s run take 30 s (measured).
        public readonly Option<int> Threads = CliOptions.With("--threads", 1, "libtorch intra-op threads (0: libtorch's default)");
        public readonly Option<string?> Group = CliOptions.Optional<string>("--group", "train on one group of the file only (its records' \"group\")", "NAME");
        public readonly Option<string?> Save = CliOptions.Optional<string>("--save", "write the trained model's checkpoint here (not with --folds)", "PATH");
        public readonly Option<string> Weighting = CliOptions.Choice("--rater-weighting", RaterWeighting.None, RaterWeighting.All,
        "reliability: learn each rater's reliability with the reward (Dawid-Skene EM) and weight their labels by it");
        public readonly Option<int> Latent = CliOptions.With("--latent", Vpl.LatentSize, "vpl: size of the per-rater latent z");
        public readonly Option<double> VplBeta = CliOptions.With("--vpl-beta", Vpl.Beta, "vpl: largest weight of the KL term");
        public readonly Option<int> VplContext = CliOptions.With("--vpl-context", Vpl.MaxContext, "vpl: largest context set (a rater's labels the encoder reads) in training");
        public readonly Option<int> VplCycles = CliOptions.With("--vpl-cycles", Vpl.AnnealCycles, "vpl: cosine annealing cycles of the KL weight");
        public readonly Option<string?> Test = CliOptions.Optional<string>("--test", "a second file whose every pair is the test set (no split)", "FILE.jsonl");
    }

    public static Command Create()
    {
        var o = new Options();
        return new Command("train", "train a reward model from a preference file and report held-out metrics (one split or K folds)")
        {
            o.EnvName, o.Data, o.Model, o.Holdout, o.FoldCount, o.Seed, o.Epochs, o.LearningRate, o.Hidden, o.Batch, o.WeightDecay, o.Ensemble,
            o.Bootstrap, o.Tanh, o.LabelNoise, o.Device, o.Threads, o.Group, o.Save, o.Weighting, o.Test, o.Latent, o.VplBeta, o.VplContext, o.VplCycles,
        }.WithAction((parse, ct) => RunAsync(TrainSettings.From(parse, o), parse.InvocationConfiguration.Output));
    }

    /// <summary>Runs the verb. Exit codes: 0 success, 1 unreadable data or training failed (bad arguments are refused before, with 2).</summary>
    private static async Task<int> RunAsync(TrainSettings settings, TextWriter output)
    {
        var clock = Stopwatch.StartNew();
        var pairs = LoadPairs(settings, settings.DataPath, settings.Group);
        if (pairs is null) return 1;
        // --test: every comparison of a second file is the test set (its labels taken as the truth), no split.
        List<PreferencePair>? fixedTest = null;
        if (settings.TestPath is not null)
        {
            fixedTest = LoadPairs(settings, settings.TestPath, group: null);
            if (fixedTest is null) return 1;
        }
        if (settings.Folds > pairs.Count)
            throw new CliUsageException($"--folds {settings.Folds} needs at least as many pairs; there are {pairs.Count}.");
        List<(List<PreferencePair> Train, List<PreferencePair> Test)> splits = fixedTest is not null
            ? [(pairs, fixedTest)]
            : settings.Folds > 0
                ? Folds(pairs, settings.Folds, settings.Seed)
                : [Split(pairs, settings.Holdout, settings.Seed)];
        if (splits.Any(s => s.Train.Count == 0)) throw new CliUsageException("no pairs left to train on; lower --holdout.");
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
            output.WriteLine(settings.Folds > 0
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
            var weighted = new ReliabilityWeightedTrainer(s.Trainer()).Train(s.Environment, train, options, single ? new StderrProgress() : null);
            trained = weighted.Model;
            reliability = weighted.Reliability;
            goldAccuracy = weighted.GoldAccuracy;
        }
        else trained = s.Trainer().Train(s.Environment, train, options, single ? new StderrProgress() : null);
        using var model = trained;
        // The same measurement the web rounds and `simulate` record, plus how well the model fits its own training pairs.
        var report = ModelEvaluation.Evaluate(s.Environment, model, s.ModelType, train, test, s.Seed, measureFit: true);
        if (s.SavePath is not null) model.Save(s.SavePath);
        int members = model is IEnsembleRewardModel ensemble ? ensemble.MemberCount : 1;
        var metrics = report.Metrics with
        {
            NTrain = train.Count,
            RaterWeighting = s.RaterWeighting,
            RaterReliability = reliability is null ? null : new(reliability.ToDictionary(r => r.Key, r => r.Value), StringComparer.Ordinal),
            GoldAccuracy = goldAccuracy is { Count: > 0 } ? new(goldAccuracy.ToDictionary(g => g.Key, g => g.Value.Accuracy), StringComparer.Ordinal) : null,
        };
        return new SplitReport(metrics, members, clock.Elapsed.TotalSeconds);
    }

    private sealed record SplitReport(RewardModelMetrics Metrics, int Members, double Seconds)
    {
        public string Describe() =>
            $"n_train {Metrics.NTrain}  n_test {Metrics.NTest}  accuracy {Metrics.HeldoutAccuracy:F4}  loglik {Metrics.HeldoutLogLikelihood:F4}  ece {Metrics.ExpectedCalibrationError:F4}" +
            (Metrics.ScaledReturn is { } sr ? $"  scaled_return {sr:F4}" : "") + (Metrics.Epic is { } e ? $"  epic {e:F4}" : "") + $"  {Seconds:F1}s";
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

    /// <summary>The metrics record as every face of the studio writes it, with this run's settings around it.</summary>
    private static string ResultJson(TrainSettings s, SplitReport r, string device, double seconds)
    {
        var json = r.Metrics.ToJsonObject();
        json["environment"] = s.Environment.Name;
        json["group"] = s.Group;
        json["members"] = r.Members;
        if (s.TestPath is not null) json["test"] = Path.GetFullPath(s.TestPath);
        else json["holdout"] = s.Holdout;
        Footer(json, s, device, seconds);
        return json.ToJsonString();
    }

    /// <summary>Each metric's mean across folds under the single-split key, its sample standard deviation under key_std; each fold's record under per_fold.</summary>
    private static string FoldsJson(TrainSettings s, int nPairs, List<SplitReport> reports, string device, double seconds)
    {
        var json = new JsonObject
        {
            ["model"] = s.ModelType,
            ["environment"] = s.Environment.Name,
            ["group"] = s.Group,
            ["members"] = reports[0].Members,
            ["folds"] = reports.Count,
            ["n_pairs"] = nPairs,
        };
        MeanStd(json, "heldout_accuracy", reports.Select(r => r.Metrics.HeldoutAccuracy));
        MeanStd(json, "heldout_loglik", reports.Select(r => r.Metrics.HeldoutLogLikelihood));
        MeanStd(json, "ece", reports.Select(r => r.Metrics.ExpectedCalibrationError));
        MeanStd(json, "train_accuracy", reports.Select(r => r.Metrics.TrainAccuracy));
        if (reports.All(r => r.Metrics.ScaledReturn is not null)) MeanStd(json, "scaled_return", reports.Select(r => r.Metrics.ScaledReturn));
        if (reports.All(r => r.Metrics.Epic is not null)) MeanStd(json, "epic", reports.Select(r => r.Metrics.Epic));
        var perFold = new JsonArray();
        for (int i = 0; i < reports.Count; i++)
        {
            var fold = reports[i].Metrics.ToJsonObject();
            fold.Remove("model");
            fold["fold"] = i + 1;
            fold["seconds"] = Math.Round(reports[i].Seconds, 3);
            perFold.Add(fold);
        }
        json["per_fold"] = perFold;
        Footer(json, s, device, seconds);
        return json.ToJsonString();
    }

    private static void Footer(JsonObject json, TrainSettings s, string device, double seconds)
    {
        // The regret model's tabular linear form has its own optimiser settings (RegretOptions); --epochs and --lr
        // apply to the network-based models only, so only those report them.
        if (s.ModelType != "regret")
        {
            json["epochs"] = s.ModelOptions.Epochs;
            json["learning_rate"] = s.ModelOptions.LearningRate;
        }
        json["rater_weighting"] = s.RaterWeighting;
        json["seed"] = s.Seed;
        json["seconds"] = Math.Round(seconds, 3);
        json["device"] = device;
        if (s.SavePath is not null) json["checkpoint"] = Path.GetFullPath(s.SavePath);
    }

    /// <summary>Mean and sample standard deviation over the folds where the metric is defined (unmeasured folds are left out).</summary>
    private static void MeanStd(JsonObject json, string name, IEnumerable<double?> values)
    {
        var v = values.Where(x => x is not null).Select(x => x!.Value).ToList();
        double mean = v.Count == 0 ? double.NaN : v.Average();
        json[name] = v.Count == 0 ? null : mean;
        json[name + "_std"] = v.Count < 2 ? null : Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Count - 1));
    }

    /// <summary>Prints straight from the torch thread (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class StderrProgress : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            if (p.Epoch == 1 || p.Epoch == p.Epochs || p.Epoch % 10 == 0)
                Console.Error.WriteLine($"epoch {p.Epoch}/{p.Epochs}  loss {p.Loss:F4}" +
                    (p.Kl is { } kl ? $"  kl {kl:F4}  reconstruction {p.Reconstruction:F4}" : "") + $"  {p.Elapsed.TotalSeconds:F1}s");
        }
    }

    private sealed record TrainSettings(
        IPreferenceEnvironment Environment, string DataPath, string ModelType, double Holdout, int Folds, int Seed, string Device,
        int Threads, string? Group, string? SavePath, RewardModelOptions ModelOptions, string RaterWeighting = RaterWeighting.None,
        string? TestPath = null, Learning.Vpl.VplOptions? VplOptions = null)
    {
        /// <summary>The trainer of the model type, with the VPL settings given on the command line.</summary>
        public IRewardModelTrainer Trainer() =>
            ModelType == Learning.Vpl.VplRewardModel.TypeName && VplOptions is not null ? new Learning.Vpl.VplTrainer(VplOptions) : RewardModels.Trainer(ModelType);

        public static TrainSettings From(ParseResult p, Options o)
        {
            var env = EnvironmentRegistry.Get(p.GetRequiredValue(o.EnvName));
            double holdout = p.GetValue(o.Holdout);
            if (holdout is < 0 or >= 1) throw new CliUsageException("--holdout must lie in [0, 1).");
            int folds = p.GetValue(o.FoldCount);
            if (folds is < 0 or 1) throw new CliUsageException("--folds must be at least 2 (or 0 for one --holdout split).");
            if (folds > 0 && p.Given(o.Holdout)) throw new CliUsageException("--folds and --holdout exclude each other: each fold is held out once.");
            if (folds > 0 && p.Given(o.Save)) throw new CliUsageException("--save keeps one model; it cannot be combined with --folds.");
            int seed = p.GetValue(o.Seed);
            int ensemble = p.GetValue(o.Ensemble);
            if (ensemble < 1) throw new CliUsageException("--ensemble must be at least 1.");
            var options = Defaults with
            {
                Epochs = p.GetValue(o.Epochs),
                LearningRate = p.GetValue(o.LearningRate),
                BatchSize = p.GetValue(o.Batch),
                WeightDecay = p.GetValue(o.WeightDecay),
                HiddenSizes = p.GetRequiredValue(o.Hidden),
                TanhOutput = p.GetValue(o.Tanh),
                LabelNoise = p.GetValue(o.LabelNoise),
                EnsembleSize = ensemble,
                Bootstrap = p.GetValue(o.Bootstrap),
                Seed = seed,
            };
            int threads = p.GetValue(o.Threads);
            if (threads < 0) throw new CliUsageException("--threads must be 0 (libtorch default) or more.");
            var test = p.GetValue(o.Test);
            if (test is not null && (p.Given(o.Holdout) || folds > 0))
                throw new CliUsageException("--test gives the test set; it cannot be combined with --holdout or --folds.");
            return new TrainSettings(env, p.GetRequiredValue(o.Data), p.GetRequiredValue(o.Model), folds > 0 || test is not null ? 0 : holdout, folds, seed,
                p.GetRequiredValue(o.Device), threads, p.GetValue(o.Group), p.GetValue(o.Save), options, p.GetRequiredValue(o.Weighting), test,
                Vpl with { LatentSize = p.GetValue(o.Latent), Beta = p.GetValue(o.VplBeta), MaxContext = p.GetValue(o.VplContext), AnnealCycles = p.GetValue(o.VplCycles) });
        }
    }
}
