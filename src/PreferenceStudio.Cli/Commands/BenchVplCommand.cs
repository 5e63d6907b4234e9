using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.Environments.Teachers;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.QuerySelection;
using PreferenceStudio.Learning.Vpl;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio bench vpl</c>: simulated raters of conflicting kinds label random segment pairs; a VPL model and a
/// single Bradley-Terry model learn from the same labels. Reports (a) each training rater's held-out accuracy under
/// VPL, the single model and the majority kind's true reward, and (b) how well a new rater's latent, inferred from
/// 1..N labels chosen by <see cref="InformationGainSelector"/> or at random, predicts that rater's held-out labels.
/// The last stdout line is one JSON object.
/// </summary>
/// <remarks>
/// Environments with <see cref="IRaterKinds"/> supply their own kinds. The delivery gridworld has none, so the bench
/// defines two: "courier" scores by the true weights (road -1, mud -2, goal +50, sheep -50, coin +1, roadblock -1);
/// "shepherd" drives to the sheep and prefers mud tracks to road (road -2, mud -1, goal -50, sheep +50, same coin and
/// roadblock weights). They agree about coins and roadblocks and disagree about nearly everything else.
/// </remarks>
public static class BenchVplCommand
{
    private static readonly double[] ShepherdWeights = [-2, -50, 50, 1, -1, -1];

    private sealed record Settings(
        IPreferenceEnvironment Env, int[] Raters, int LabelsPerRater, int TestPairs, int NewRaters, int Pool, int MaxLabels,
        int Epochs, int Latent, int SegmentLength, int Seed, int Threads, string Device)
    {
        public int[] Hidden { get; init; } = [.. new RewardModelOptions().HiddenSizes];

        public InformationGainSelector.Scoring Scoring { get; init; }
    }

    /// <summary>Names of an environment's rater kinds and each kind's true per-step rewards of a segment.</summary>
    private sealed record RaterKindSet(string[] Names, Func<Segment, int, double[]> StepRewards);

    private sealed record Rater(string Name, int Kind, List<PreferencePair> Train, List<PreferencePair> Test);

    public static Command Create()
    {
        var o = new Options();
        return new Command("vpl", "per-rater VPL reward models and info-gain queries vs one Bradley-Terry model, raters of conflicting kinds")
        {
            o.Env, o.Raters, o.LabelsPerRater, o.TestPairs, o.NewRaters, o.Pool, o.MaxLabels, o.Epochs, o.Latent, o.Hidden, o.SegmentLength, o.Seed,
            o.Scoring, o.Threads, o.Device,
        }.WithAction((parse, ct) =>
        {
            var s = Parse(parse, o);
            var kinds = KindsOf(s.Env);
            if (s.Raters.Length > kinds.Names.Length)
                throw new CliUsageException($"--raters gives counts for {s.Raters.Length} kinds; {s.Env.Name} has {kinds.Names.Length} ({string.Join(", ", kinds.Names)}).");
            return RunAsync(s, kinds);
        });
    }

    private sealed class Options
    {
        public readonly Option<string> Env = CliOptions.With("--env", DeliveryGridworld.EnvironmentName, "an environment with rater kinds, or delivery-gridworld", "NAME");
        public readonly Option<int[]> Raters = CliOptions.Counts("--raters", [3, 2], "training raters per kind (at least two kinds)");
        public readonly Option<int> LabelsPerRater = CliOptions.With("--labels-per-rater", 200, "training labels per rater");
        public readonly Option<int> TestPairs = CliOptions.With("--test-pairs", 300, "held-out pairs per rater");
        public readonly Option<int> NewRaters = CliOptions.With("--new-raters", 2, "raters not trained on, whose latent is inferred from actively chosen labels");
        public readonly Option<int> Pool = CliOptions.With("--pool", 200, "candidate pairs for the new raters' queries");
        public readonly Option<int> MaxLabels = CliOptions.With("--max-labels", 10, "labels asked of each new rater");
        public readonly Option<int> Epochs = CliOptions.With("--epochs", 100, "training epochs");
        public readonly Option<int> Latent = CliOptions.With("--latent", 32, "latent size of VPL");
        public readonly Option<int[]> Hidden = CliOptions.Counts("--hidden", [.. new RewardModelOptions().HiddenSizes], "hidden layer widths of the reward networks (VPL's decoder and Bradley-Terry)");
        public readonly Option<int?> SegmentLength = CliOptions.Optional<int?>("--segment-length", "steps per segment (default: the environment's)", "N");
        public readonly Option<int> Seed = CliOptions.With("--seed", 1, "seed of raters, segments and training");
        public readonly Option<string> Scoring = CliOptions.Choice("--scoring", "mutual", ["mutual", "variance"],
            "info-gain score: mutual information, or METHODS.md's posterior variance");
        public readonly Option<int> Threads = CliOptions.With("--threads", 1, "libtorch intra-op threads");
        public readonly Option<string> Device = CliOptions.Choice("--device", "auto", ["auto", "cpu", "cuda"], "where to train");
    }

    private static async Task<int> RunAsync(Settings s, RaterKindSet kinds)
    {
        var clock = Stopwatch.StartNew();
        var rng = new Random(s.Seed);
        var teacher = SimulatedTeacher.Create("oracle", 1.0, s.Seed);
        var segments = new SegmentSource(s.Env, s.SegmentLength, rng);
        PreferencePair Label((Segment Left, Segment Right) p, int kind, string rater) =>
            new(p.Left, p.Right, teacher.Answer(kinds.StepRewards(p.Left, kind), kinds.StepRewards(p.Right, kind)) ?? PreferenceChoice.Equal, rater);

        var raters = new List<Rater>();
        for (int kind = 0; kind < s.Raters.Length; kind++)
            for (int i = 1; i <= s.Raters[kind]; i++)
            {
                var name = $"{kinds.Names[kind]}-{i}";
                raters.Add(new Rater(name, kind,
                    segments.Pairs(s.LabelsPerRater).Select(p => Label(p, kind, name)).ToList(),
                    segments.Pairs(s.TestPairs).Select(p => Label(p, kind, name)).ToList()));
            }
        var train = raters.SelectMany(r => r.Train).ToList();
        int majority = Enumerable.Range(0, s.Raters.Length).MaxBy(k => s.Raters[k]);
        double disagreement = Disagreement(segments.Pairs(2000), kinds, s.Raters.Length);
        Console.Error.WriteLine($"{raters.Count} raters ({string.Join(", ", s.Raters.Select((c, k) => $"{c} {kinds.Names[k]}"))}), {train.Count} training labels; kinds disagree on {disagreement:P1} of decisive random pairs.");

        using var worker = new TorchTrainingThread(new TorchOptions { Device = s.Device, Threads = s.Threads });
        try
        {
            string device = await worker.Device;
            var result = await worker.RunAsync(() => Run(s, kinds, raters, train, majority, disagreement, segments, Label, device));
            result["seconds"] = Round(clock.Elapsed.TotalSeconds);
            Console.Out.WriteLine(result.ToJsonString());
            return 0;
        }
        catch (Exception e) when (e is RewardTrainingException or ArgumentException or InvalidOperationException or TypeInitializationException or DllNotFoundException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    private static JsonObject Run(Settings s, RaterKindSet kinds, List<Rater> raters, List<PreferencePair> train, int majority,
        double disagreement, SegmentSource segments, Func<(Segment, Segment), int, string, PreferencePair> label, string device)
    {
        var options = new RewardModelOptions { Device = device, Seed = s.Seed, Epochs = s.Epochs, HiddenSizes = s.Hidden };
        var clock = Stopwatch.StartNew();
        using var vpl = new VplTrainer(new VplOptions { LatentSize = s.Latent }).TrainModel(s.Env, train, options, new EpochLog("vpl", 10));
        double vplSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        using var bt = new BradleyTerryTrainer().Train(s.Env, train, options with { EnsembleSize = 1 }, new EpochLog("bt", 25));
        double btSeconds = clock.Elapsed.TotalSeconds;

        var perRater = new JsonObject();
        var vplAcc = new List<double>();
        var btAcc = new List<double>();
        var majorityAcc = new List<double>();
        foreach (var r in raters)
        {
            double v = PreferenceMetrics.Evaluate(vpl.ForRater(r.Name), r.Test).Accuracy;
            double b = PreferenceMetrics.Evaluate(bt, r.Test).Accuracy;
            double m = KindAccuracy(r.Test, kinds, majority);
            vplAcc.Add(v);
            btAcc.Add(b);
            majorityAcc.Add(m);
            perRater[r.Name] = new JsonObject { ["kind"] = kinds.Names[r.Kind], ["vpl"] = Round(v), ["bt"] = Round(b), ["majority_kind_reward"] = Round(m) };
            Console.Error.WriteLine($"{r.Name}: VPL {v:F3}, one Bradley-Terry model {b:F3}, majority kind's true reward {m:F3}");
        }

        int[] budgets = [.. new[] { 1, 2, 4, 6, 8, 10, 15, 20 }.Where(n => n < s.MaxLabels), s.MaxLabels];
        var active = new List<double[]>();
        var random = new List<double[]>();
        var prior = new List<double>();
        var newRaters = new JsonArray();
        var selector = new InformationGainSelector(s.Scoring);
        for (int kind = 0; kind < s.Raters.Length; kind++)
            for (int i = 1; i <= s.NewRaters; i++)
            {
                var name = $"new-{kinds.Names[kind]}-{i}";
                var test = segments.Pairs(s.TestPairs).Select(p => label(p, kind, name)).ToList();
                var pool = segments.Pairs(s.Pool).Select(p => new CandidatePair(p.Left, p.Right)).ToList();
                var a = NewRaterCurve(vpl, test, budgets, SelectActively(selector, s.Env, vpl, pool, s.MaxLabels, name, kind, label, s.Seed + i));
                var order = Enumerable.Range(0, pool.Count).ToArray();
                new Random(s.Seed * 7919 + kind * 101 + i).Shuffle(order);
                var randomLabels = order.Take(s.MaxLabels).Select(j => label((pool[j].Left, pool[j].Right), kind, name)).ToList();
                var rnd = NewRaterCurve(vpl, test, budgets, randomLabels);
                double p0 = PreferenceMetrics.Evaluate(vpl.ForContext([]), test).Accuracy;
                active.Add(a);
                random.Add(rnd);
                prior.Add(p0);
                newRaters.Add(new JsonObject
                {
                    ["rater"] = name, ["kind"] = kinds.Names[kind], ["no_labels"] = Round(p0),
                    ["active"] = Array(a), ["random"] = Array(rnd),
                });
                Console.Error.WriteLine($"{name}: accuracy after {string.Join("/", budgets)} labels: info-gain {string.Join(" ", a.Select(x => x.ToString("F3")))}; random {string.Join(" ", rnd.Select(x => x.ToString("F3")))}");
            }

        double[] MeanCurve(List<double[]> curves) => Enumerable.Range(0, budgets.Length).Select(j => curves.Average(c => c[j])).ToArray();
        double labelShare = (double)raters.Where(r => r.Kind == majority).Sum(r => r.Test.Count(p => p.Label is PreferenceChoice.Left or PreferenceChoice.Right))
                            / raters.Sum(r => r.Test.Count(p => p.Label is PreferenceChoice.Left or PreferenceChoice.Right));
        return new JsonObject
        {
            ["benchmark"] = "vpl",
            ["environment"] = s.Env.Name,
            ["kinds"] = new JsonArray(kinds.Names.Take(s.Raters.Length).Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
            ["raters_per_kind"] = new JsonArray(s.Raters.Select(c => (JsonNode?)JsonValue.Create(c)).ToArray()),
            ["labels_per_rater"] = s.LabelsPerRater,
            ["test_pairs_per_rater"] = s.TestPairs,
            ["segment_length"] = s.SegmentLength,
            ["kind_disagreement"] = Round(disagreement),
            ["majority_share"] = Round(labelShare),
            ["majority_kind_reward_accuracy"] = Round(majorityAcc.Average()),
            ["vpl_accuracy_mean"] = Round(vplAcc.Average()),
            ["vpl_accuracy_min"] = Round(vplAcc.Min()),
            ["bt_accuracy_mean"] = Round(btAcc.Average()),
            ["per_rater"] = perRater,
            ["new_raters"] = newRaters.Count,
            ["label_budgets"] = Array(budgets.Select(b => (double)b).ToArray()),
            ["new_rater_no_labels"] = Round(prior.Average()),
            ["new_rater_active"] = Array(MeanCurve(active)),
            ["new_rater_random"] = Array(MeanCurve(random)),
            ["new_rater_active_at_max"] = Round(active.Average(c => c[^1])),
            ["new_rater_random_at_max"] = Round(random.Average(c => c[^1])),
            ["new_rater_active_min_at_max"] = Round(active.Min(c => c[^1])),
            ["per_new_rater"] = newRaters,
            ["latent"] = s.Latent,
            ["epochs"] = s.Epochs,
            ["hidden"] = Array(s.Hidden.Select(h => (double)h).ToArray()),
            ["train_seconds_vpl"] = Round(vplSeconds),
            ["train_seconds_bt"] = Round(btSeconds),
            ["device"] = device,
            ["threads"] = s.Threads,
            ["seed"] = s.Seed,
            ["scoring"] = s.Scoring == InformationGainSelector.Scoring.MutualInformation ? "mutual" : "variance",
        };
    }

    /// <summary>Labels of a new rater, each query chosen by the selector from what is left of the pool given the labels so far.</summary>
    private static List<PreferencePair> SelectActively(InformationGainSelector selector, IPreferenceEnvironment env, VplRewardModel model,
        List<CandidatePair> pool, int count, string rater, int kind, Func<(Segment, Segment), int, string, PreferencePair> label, int seed)
    {
        var left = new List<CandidatePair>(pool);
        var labels = new List<PreferencePair>();
        var rng = new Random(seed);
        while (labels.Count < count && left.Count > 0)
        {
            int pick = selector.Select(left, 1, new QueryContext(env, model, rater, labels), rng)[0];
            labels.Add(label((left[pick].Left, left[pick].Right), kind, rater));
            left.RemoveAt(pick);
        }
        return labels;
    }

    private static double[] NewRaterCurve(VplRewardModel model, List<PreferencePair> test, int[] budgets, List<PreferencePair> labels) =>
        budgets.Select(n => PreferenceMetrics.Evaluate(model.ForContext(labels.Take(n).ToList()), test).Accuracy).ToArray();

    /// <summary>Share of held-out decisive labels that kind <paramref name="kind"/>'s true reward ranks the same way (its ties count half).</summary>
    private static double KindAccuracy(List<PreferencePair> test, RaterKindSet kinds, int kind)
    {
        double correct = 0;
        int n = 0;
        foreach (var p in test.Where(p => p.Label is PreferenceChoice.Left or PreferenceChoice.Right))
        {
            double d = kinds.StepRewards(p.Right, kind).Sum() - kinds.StepRewards(p.Left, kind).Sum();
            correct += d == 0 ? 0.5 : (d > 0) == (p.Label == PreferenceChoice.Right) ? 1 : 0;
            n++;
        }
        return n == 0 ? double.NaN : correct / n;
    }

    /// <summary>Among pairs that every kind ranks (no ties), the share on which some two kinds rank them differently.</summary>
    private static double Disagreement(List<(Segment Left, Segment Right)> pairs, RaterKindSet kinds, int kindCount)
    {
        int decisive = 0, split = 0;
        foreach (var (l, r) in pairs)
        {
            var signs = Enumerable.Range(0, kindCount).Select(k => Math.Sign(kinds.StepRewards(r, k).Sum() - kinds.StepRewards(l, k).Sum())).ToList();
            if (signs.Contains(0)) continue;
            decisive++;
            if (signs.Distinct().Count() > 1) split++;
        }
        return decisive == 0 ? double.NaN : (double)split / decisive;
    }

    private static RaterKindSet KindsOf(IPreferenceEnvironment env)
    {
        if (env is IRaterKinds withKinds)
            return new RaterKindSet(withKinds.RaterKinds.ToArray(), (segment, kind) => SimulatedTeacher.StepRewards(env, segment, kind));
        if (env is DeliveryGridworld delivery)
        {
            double[][] weights = [DeliveryGridworld.TrueWeights, ShepherdWeights];
            return new RaterKindSet(["courier", "shepherd"], (segment, kind) =>
            {
                var rewards = new double[segment.Actions.Length];
                for (int t = 0; t < rewards.Length; t++)
                {
                    var phi = delivery.StepFeatures(segment.States[t], segment.ActionIndex(t), segment.States[t + 1]);
                    for (int i = 0; i < phi.Length; i++) rewards[t] += weights[kind][i] * phi[i];
                }
                return rewards;
            });
        }
        throw new CliUsageException($"{env.Name} has no rater kinds; use an environment with rater kinds (e.g. multi-goal-nav) or delivery-gridworld.");
    }

    private static Settings Parse(ParseResult p, Options o)
    {
        var env = EnvironmentRegistry.Get(p.GetRequiredValue(o.Env));
        var raters = p.GetRequiredValue(o.Raters);
        if (raters.Length < 2) throw new CliUsageException("--raters needs counts for at least two kinds, e.g. 3,2.");
        var s = new Settings(env, raters, p.GetValue(o.LabelsPerRater), p.GetValue(o.TestPairs), p.GetValue(o.NewRaters),
            p.GetValue(o.Pool), p.GetValue(o.MaxLabels), p.GetValue(o.Epochs), p.GetValue(o.Latent),
            p.GetValue(o.SegmentLength) ?? env.DefaultSegmentLength, p.GetValue(o.Seed), p.GetValue(o.Threads), p.GetRequiredValue(o.Device))
        {
            Hidden = p.GetRequiredValue(o.Hidden),
            Scoring = p.GetRequiredValue(o.Scoring) == "variance"
                ? InformationGainSelector.Scoring.PosteriorVariance
                : InformationGainSelector.Scoring.MutualInformation,
        };
        if (s.LabelsPerRater < 2 || s.TestPairs < 1 || s.NewRaters < 1 || s.MaxLabels < 1 || s.Pool < s.MaxLabels || s.Epochs < 1
            || s.Latent < 1 || s.SegmentLength < 1 || s.Threads < 1)
            throw new CliUsageException("--labels-per-rater must be at least 2, --pool at least --max-labels, and the other counts at least 1.");
        return s;
    }

    private static JsonNode? Round(double v) => double.IsFinite(v) ? JsonValue.Create(Math.Round(v, 4)) : null;

    private static JsonArray Array(double[] values) => new(values.Select(Round).ToArray());

    /// <summary>Random-rollout segments of one length (shorter only where a terminal state ended them), paired at random.</summary>
    private sealed class SegmentSource(IPreferenceEnvironment env, int length, Random rng)
    {
        private readonly Queue<Segment> _ready = new();

        public List<(Segment Left, Segment Right)> Pairs(int count)
        {
            var pairs = new List<(Segment, Segment)>(count);
            for (int i = 0; i < count; i++) pairs.Add((Next(), Next()));
            return pairs;
        }

        private Segment Next()
        {
            while (_ready.Count == 0)
            {
                var pieces = SegmentCutter.Cut(env, Rollouts.CollectRandom(env, 1, rng)[0], length).ToArray();
                rng.Shuffle(pieces);
                foreach (var piece in pieces) _ready.Enqueue(piece);
            }
            return _ready.Dequeue();
        }
    }

    private sealed class EpochLog(string model, int every) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress p)
        {
            if (p.Epoch % every == 0 || p.Epoch == p.Epochs)
                Console.Error.WriteLine($"{model} epoch {p.Epoch}/{p.Epochs}: loss {p.Loss:F4} ({p.Elapsed.TotalSeconds:F1} s)");
        }
    }
}
