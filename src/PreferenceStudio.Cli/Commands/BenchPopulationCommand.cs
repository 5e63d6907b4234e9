using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Teachers;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.QuerySelection;
using PreferenceStudio.Learning.Vpl;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio bench population</c>: new raters on a population from <see cref="RaterPopulation"/> (the generator of
/// <c>studio population</c>, not <c>bench vpl</c>'s kinds). The population is generated with extra raters of every kind;
/// those are held out, VPL and one Bradley-Terry model train on everyone else's labels, and each held-out rater is then
/// asked 1..N pairs chosen by <see cref="InformationGainSelector"/> (or at random) from a candidate pool, answering as the
/// generator's raters do (Boltzmann on their kind's reward at their beta). Reported per budget: accuracy on the rater's
/// held-out answers with the latent inferred from those labels, against the rater's own kind's reward on the same
/// answers (the oracle) and Bradley-Terry. The last stdout line is one JSON object.
/// </summary>
public static class BenchPopulationCommand
{
    public static Command Create()
    {
        var population = new PopulationOptions("trained raters of each kind, e.g. 16,8 (the held-out raters come on top)", requireEnvironment: false);
        var o = new Options();
        var command = new Command("population", "VPL's latent for raters it never trained on, from actively chosen labels, on a studio population");
        foreach (var option in population.All) command.Options.Add(option);
        foreach (var option in o.All) command.Options.Add(option);
        return command.WithAction((parse, ct) =>
        {
            var env = population.Environment(parse);
            int newRaters = parse.GetValue(o.NewRaters), queries = parse.GetValue(o.Queries), candidates = parse.GetValue(o.Candidates);
            int testPairs = parse.GetValue(o.TestPairs), threads = parse.GetValue(o.Threads);
            if (newRaters < 1 || queries < 1 || testPairs < 1 || threads < 1)
                throw new CliUsageException("--new-raters, --queries, --test-pairs and --threads must be at least 1.");
            if (candidates < queries) throw new CliUsageException($"--candidates ({candidates}) must be at least --queries ({queries}).");
            // The held-out raters are generated with the rest, so they are drawn exactly as the trained ones are.
            var settings = population.Read(parse, extraPerKind: newRaters);
            var scoring = parse.GetRequiredValue(o.Scoring) == "variance"
                ? InformationGainSelector.Scoring.PosteriorVariance
                : InformationGainSelector.Scoring.MutualInformation;
            return RunAsync(env, settings, newRaters, queries, candidates, testPairs, scoring, threads, parse.GetRequiredValue(o.Device));
        });
    }

    private sealed class Options
    {
        public readonly Option<int> NewRaters = CliOptions.With("--new-raters", 2, "held-out raters of each kind");
        public readonly Option<int> Queries = CliOptions.With("--queries", 10, "labels asked of each held-out rater");
        public readonly Option<int> Candidates = CliOptions.With("--candidates", 200, "candidate pairs the queries are chosen from");
        public readonly Option<int> TestPairs = CliOptions.With("--test-pairs", 300, "pairs each held-out rater answers for scoring");
        public readonly Option<string> Scoring = CliOptions.Choice("--scoring", "mutual", ["mutual", "variance"],
            "info-gain score: mutual information, or METHODS.md's posterior variance");
        public readonly Option<int> Threads = CliOptions.With("--threads", 1, "libtorch intra-op threads");
        public readonly Option<string> Device = CliOptions.Choice("--device", "auto", ["auto", "cpu", "cuda"], "where to train");

        public IEnumerable<Option> All => [NewRaters, Queries, Candidates, TestPairs, Scoring, Threads, Device];
    }

    private static async Task<int> RunAsync(IPreferenceEnvironment env, PopulationSettings settings, int newPerKind, int queries, int candidates,
        int testPairs, InformationGainSelector.Scoring scoring, int threads, string device)
    {
        var clock = Stopwatch.StartNew();
        var population = RaterPopulation.Generate(env, settings);
        // Names are shuffled, so the first by name of each kind is an arbitrary one of that kind (noisy or not).
        var heldOut = Enumerable.Range(0, settings.KindSizes.Length)
            .SelectMany(k => population.Raters.Where(r => r.Kind == k).Take(newPerKind)).ToList();
        var trained = population.Raters.Except(heldOut).ToList();
        var train = trained.SelectMany(r => r.Labels.Select(l => new PreferencePair(l.Left, l.Right, l.Answer, r.Name))).ToList();
        Console.Error.WriteLine($"{trained.Count} trained raters ({train.Count} labels), {heldOut.Count} held out; oracle on the trained raters' labels {population.OracleAccuracy:F3}.");

        using var worker = new TorchTrainingThread(new TorchOptions { Device = device, Threads = threads });
        try
        {
            string used = await worker.Device;
            var result = await worker.RunAsync(() => Run(population, heldOut, train, queries, candidates, testPairs, scoring, used));
            result["trained_raters"] = trained.Count;
            result["training_labels"] = train.Count;
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

    private static JsonObject Run(Population population, List<PopulationRater> heldOut, List<PreferencePair> train, int queries, int candidates,
        int testPairs, InformationGainSelector.Scoring scoring, string device)
    {
        var env = population.Environment;
        var settings = population.Settings;
        var options = new RewardModelOptions { Device = device, Seed = settings.Seed };
        using var vpl = new VplTrainer().TrainModel(env, train, options);
        using var bt = new BradleyTerryTrainer().Train(env, train, options with { EnsembleSize = 1 });

        int[] budgets = [.. new[] { 1, 2, 4, 6, 8 }.Where(n => n < queries), queries];
        var selector = new InformationGainSelector(scoring);
        var perRater = new JsonArray();
        var active = new List<double[]>();
        var random = new List<double[]>();
        var prior = new List<double>();
        var oracle = new List<double>();
        var single = new List<double>();
        foreach (var rater in heldOut)
        {
            var rng = new Random(settings.Seed * 7919 + heldOut.IndexOf(rater));
            (Segment, Segment) Pair()
            {
                int a = rng.Next(population.Segments.Count), b = rng.Next(population.Segments.Count - 1);
                return (population.Segments[a], population.Segments[b >= a ? b + 1 : b]);
            }
            PreferencePair Ask((Segment Left, Segment Right) p, out PreferenceChoice prefers)
            {
                var label = population.Ask(rater, p.Left, p.Right, rng);
                prefers = label.KindPrefers ?? PreferenceChoice.Equal;
                return new PreferencePair(p.Left, p.Right, label.Answer, rater.Name);
            }

            // Scored on decisive answers only, as the population's oracle accuracy is.
            var test = new List<PreferencePair>();
            double oracleHits = 0;
            for (int attempt = 0; test.Count < testPairs; attempt++)
            {
                if (attempt >= 100 * testPairs)
                    throw new InvalidOperationException($"{rater.Name}'s kind ties on almost every pair of these segments; there is nothing to score.");
                var pair = Ask(Pair(), out var prefers);
                if (pair.Label is not (PreferenceChoice.Left or PreferenceChoice.Right)) continue;
                test.Add(pair);
                oracleHits += prefers == pair.Label ? 1 : prefers == PreferenceChoice.Equal ? 0.5 : 0;
            }
            var pool = Enumerable.Range(0, candidates).Select(_ => Pair()).Select(p => new CandidatePair(p.Item1, p.Item2)).ToList();

            var activeLabels = new List<PreferencePair>();
            var left = new List<CandidatePair>(pool);
            while (activeLabels.Count < queries)
            {
                int pick = selector.Select(left, 1, new QueryContext(env, vpl, rater.Name, activeLabels), rng)[0];
                activeLabels.Add(Ask((left[pick].Left, left[pick].Right), out _));
                left.RemoveAt(pick);
            }
            var randomLabels = pool.Take(queries).Select(c => Ask((c.Left, c.Right), out _)).ToList();

            double[] Curve(List<PreferencePair> labels) =>
                budgets.Select(n => PreferenceMetrics.Evaluate(vpl.ForContext(labels.Take(n).ToList()), test).Accuracy).ToArray();
            var a = Curve(activeLabels);
            var r = Curve(randomLabels);
            double p0 = PreferenceMetrics.Evaluate(vpl.ForContext([]), test).Accuracy;
            double o = oracleHits / test.Count;
            double b = PreferenceMetrics.Evaluate(bt, test).Accuracy;
            active.Add(a);
            random.Add(r);
            prior.Add(p0);
            oracle.Add(o);
            single.Add(b);
            perRater.Add(new JsonObject
            {
                ["rater"] = rater.Name, ["kind"] = rater.Kind, ["noisy"] = rater.Noisy, ["oracle"] = Round(o), ["bt"] = Round(b),
                ["no_labels"] = Round(p0), ["active"] = Array(a), ["random"] = Array(r),
            });
            Console.Error.WriteLine($"{rater.Name} (kind {rater.Kind}{(rater.Noisy ? ", noisy" : "")}): oracle {o:F3}, Bradley-Terry {b:F3}, no labels {p0:F3}; after {string.Join("/", budgets)} labels: info-gain {string.Join(" ", a.Select(x => x.ToString("F3")))}; random {string.Join(" ", r.Select(x => x.ToString("F3")))}");
        }

        double[] Mean(List<double[]> curves) => Enumerable.Range(0, budgets.Length).Select(j => curves.Average(c => c[j])).ToArray();
        double activeAtMax = active.Average(c => c[^1]);
        return new JsonObject
        {
            ["benchmark"] = "population",
            ["environment"] = env.Name,
            ["kinds"] = Array(settings.KindSizes.Select(k => (double)k).ToArray()),
            ["beta"] = settings.Beta,
            ["noisy_share"] = settings.NoisyShare,
            ["segment_length"] = settings.SegmentLength,
            ["new_raters"] = heldOut.Count,
            ["label_budgets"] = Array(budgets.Select(x => (double)x).ToArray()),
            ["oracle"] = Round(oracle.Average()),
            ["bt"] = Round(single.Average()),
            ["no_labels"] = Round(prior.Average()),
            ["active"] = Array(Mean(active)),
            ["random"] = Array(Mean(random)),
            ["active_at_max"] = Round(activeAtMax),
            ["random_at_max"] = Round(random.Average(c => c[^1])),
            ["oracle_minus_active"] = Round(oracle.Average() - activeAtMax),
            ["per_rater"] = perRater,
            ["device"] = device,
            ["seed"] = settings.Seed,
            ["scoring"] = scoring == InformationGainSelector.Scoring.MutualInformation ? "mutual" : "variance",
        };
    }

    private static JsonNode? Round(double v) => double.IsFinite(v) ? JsonValue.Create(Math.Round(v, 4)) : null;

    private static JsonArray Array(double[] values) => new(values.Select(Round).ToArray());
}
