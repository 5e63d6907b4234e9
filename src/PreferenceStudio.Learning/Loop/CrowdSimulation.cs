using System.Globalization;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Teachers;
using PreferenceStudio.Learning.Reliability;

namespace PreferenceStudio.Learning.Loop;

/// <summary>
/// A crowd of simulated raters of mixed kinds, e.g. oracle:8,random:6,adversarial:6: teacher preset and how many raters
/// answer like it.
/// </summary>
public sealed record CrowdSpec(IReadOnlyList<(string Teacher, int Count)> Groups)
{
    /// <summary>Parses "teacher:count,teacher:count"; <see cref="ArgumentException"/> says what is wrong.</summary>
    public static CrowdSpec Parse(string text)
    {
        var groups = new List<(string, int)>();
        foreach (var part in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split(':', 2, StringSplitOptions.TrimEntries);
            if (kv.Length != 2 || !int.TryParse(kv[1], NumberStyles.None, CultureInfo.InvariantCulture, out int count) || count < 1)
                throw new ArgumentException($"A crowd is teacher:count pairs separated by commas, e.g. oracle:8,random:6,adversarial:6; '{part}' is not one.");
            if (!SimulatedTeacher.PresetNames.Contains(kv[0], StringComparer.OrdinalIgnoreCase))
                throw new ArgumentException($"Unknown teacher '{kv[0]}' in the crowd. Known teachers: {string.Join(", ", SimulatedTeacher.PresetNames)}.");
            groups.Add((kv[0].ToLowerInvariant(), count));
        }
        if (groups.Count == 0) throw new ArgumentException("The crowd is empty; give teacher:count pairs, e.g. oracle:8,random:6.");
        return new CrowdSpec(groups);
    }

    public int Raters => Groups.Sum(g => g.Count);

    public override string ToString() => string.Join(",", Groups.Select(g => $"{g.Teacher}:{g.Count}"));
}

/// <summary>Settings of a simulated crowd study.</summary>
/// <param name="Pool">Pairs in the shared pool the raters answer from.</param>
/// <param name="LabelsPerRater">Pairs of the pool each rater answers (without repeats).</param>
/// <param name="GoldPerRater">Gold pairs each rater also answers (the same set for everyone), their answers fixed by the
/// true reward; pairs whose true returns differ by at least <paramref name="GoldMargin"/> of the mean segment return.</param>
/// <param name="TestPairs">Pairs of the clean test set, labelled by the true reward (a fresh rollout, never trained on).</param>
public sealed record CrowdSettings(
    CrowdSpec Crowd,
    string Model = "bt",
    string RaterWeighting = Reliability.RaterWeighting.None,
    int Pool = 200,
    int LabelsPerRater = 60,
    int GoldPerRater = 0,
    double GoldMargin = 0.5,
    int TestPairs = 500,
    int SegmentLength = 10,
    int Seed = 1,
    RewardModelOptions? ModelOptions = null);

/// <summary>What a crowd study produced: the crowd's labels, the clean test set, the model's accuracy on it and, with
/// reliability weighting, each rater's estimated reliability.</summary>
public sealed record CrowdResult(
    IReadOnlyList<PreferencePair> Labels,
    IReadOnlyList<PreferencePair> CleanTest,
    IReadOnlyDictionary<string, string> TeacherOf,
    PreferenceMetricsResult Clean,
    IReadOnlyDictionary<string, double>? Reliability,
    int Iterations);

/// <summary>
/// A crowd study without people (the issue's "simulated crowds"): segments from random rollouts, a shared pool of pairs,
/// each rater a <see cref="SimulatedTeacher"/> of their group answering <see cref="CrowdSettings.LabelsPerRater"/> pairs of
/// the pool (and the gold pairs, when asked), then one reward model trained on all the labels, with or without
/// reliability weighting, and scored on a clean test set labelled by the true reward. Runs on the torch thread.
/// </summary>
public static class CrowdSimulation
{
    public static CrowdResult Run(IPreferenceEnvironment env, CrowdSettings s, IProgress<TrainingProgress>? progress = null, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(env);
        if (s.Pool < 2 || s.LabelsPerRater < 1 || s.TestPairs < 1 || s.GoldPerRater < 0)
            throw new ArgumentException("The pool needs at least 2 pairs, each rater at least 1 label, the test set at least 1 pair; gold pairs cannot be negative.");
        if (s.LabelsPerRater > s.Pool) throw new ArgumentException($"Each rater answers {s.LabelsPerRater} different pairs, but the pool has {s.Pool}.");
        if (!RaterWeighting.All.Contains(s.RaterWeighting))
            throw new ArgumentException($"Unknown rater weighting '{s.RaterWeighting}'. Known: {string.Join(", ", RaterWeighting.All)}.");
        var rng = new Random(s.Seed);
        var pool = RoundPlanner.Plan(env, (Func<double[], double[]>?)null, new RoundPlanSettings(s.SegmentLength, s.Pool + 4 * s.GoldPerRater, HeldOutFraction: 0), rng);
        var pairs = pool.Pairs.Select(p => (Left: pool.Segments[p.Left].Segment, Right: pool.Segments[p.Right].Segment)).ToList();
        double scale = SimulatedTeacher.EstimateReturnScale(env, pool.Segments.Select(x => x.Segment));

        // Gold: clear-cut pairs (true returns far apart), taken out of the pool so they are asked only as gold.
        var gold = new List<(Segment Left, Segment Right, PreferenceChoice Answer)>();
        if (s.GoldPerRater > 0)
            foreach (var (left, right) in pairs.ToList())
            {
                double d = env.TrueReturn(right) - env.TrueReturn(left);
                if (Math.Abs(d) < s.GoldMargin * Math.Max(scale, 1e-9)) continue;
                gold.Add((left, right, d > 0 ? PreferenceChoice.Right : PreferenceChoice.Left));
                pairs.Remove((left, right));
                if (gold.Count == s.GoldPerRater) break;
            }
        if (gold.Count < s.GoldPerRater)
            throw new ArgumentException($"Only {gold.Count} pairs of the pool differ by the gold margin; lower it or ask fewer gold pairs.");
        pairs = pairs.Take(s.Pool).ToList();
        if (pairs.Count < s.LabelsPerRater) throw new ArgumentException($"The rollouts gave {pairs.Count} pairs, fewer than each rater's {s.LabelsPerRater}.");

        var labels = new List<PreferencePair>();
        var teacherOf = new Dictionary<string, string>(StringComparer.Ordinal);
        int index = 0;
        foreach (var (preset, count) in s.Crowd.Groups)
            for (int i = 1; i <= count; i++, index++)
            {
                var rater = $"{preset}-{i}";
                teacherOf[rater] = preset;
                var teacher = SimulatedTeacher.Create(preset, scale, unchecked(s.Seed * 7919 + index));
                var asked = Enumerable.Range(0, pairs.Count).ToArray();
                rng.Shuffle(asked);
                foreach (var k in asked.Take(s.LabelsPerRater))
                    if (teacher.Answer(env, pairs[k].Left, pairs[k].Right) is { } answer)
                        labels.Add(new PreferencePair(pairs[k].Left, pairs[k].Right, answer, rater, PairKey: $"pool-{k}"));
                for (int g = 0; g < gold.Count; g++)
                    if (teacher.Answer(env, gold[g].Left, gold[g].Right) is { } answer)
                        labels.Add(new PreferencePair(gold[g].Left, gold[g].Right, answer, rater, Gold: gold[g].Answer, PairKey: $"gold-{g}"));
            }

        var test = CleanTestSet(env, s, scale);
        var options = (s.ModelOptions ?? new RewardModelOptions { Epochs = 200 }) with { Seed = s.Seed };
        var trainer = RewardModels.Trainer(s.Model);
        IRewardModel model;
        IReadOnlyDictionary<string, double>? reliability = null;
        int iterations = 0;
        if (s.RaterWeighting == RaterWeighting.Reliability)
        {
            var fit = new ReliabilityWeightedTrainer(trainer, new ReliabilityOptions { TrainOnGold = true }).Train(env, labels, options, progress, ct);
            model = fit.Model;
            reliability = fit.Reliability;
            iterations = fit.Iterations;
        }
        else
        {
            // Without weighting, a gold pair's fixed answer trains once, as it does with weighting (TrainOnGold).
            var goldAnswers = gold.Select(g => new PreferencePair(g.Left, g.Right, g.Answer));
            model = trainer.Train(env, labels.Concat(goldAnswers).ToList(), options, progress, ct);
        }
        using (model)
            return new CrowdResult(labels, test, teacherOf, PreferenceMetrics.Evaluate(model, test), reliability, iterations);
    }

    /// <summary>Fresh random rollouts, pairs labelled by the true reward (exact ties left out: they test nothing).</summary>
    private static List<PreferencePair> CleanTestSet(IPreferenceEnvironment env, CrowdSettings s, double scale)
    {
        var rng = new Random(unchecked(s.Seed * 31 + 17));
        var plan = RoundPlanner.Plan(env, (Func<double[], double[]>?)null, new RoundPlanSettings(s.SegmentLength, s.TestPairs, HeldOutFraction: 0), rng);
        var oracle = SimulatedTeacher.Create("oracle", scale, s.Seed);
        var test = new List<PreferencePair>();
        foreach (var p in plan.Pairs)
        {
            var left = plan.Segments[p.Left].Segment;
            var right = plan.Segments[p.Right].Segment;
            if (oracle.Answer(env, left, right) is PreferenceChoice.Left or PreferenceChoice.Right && oracle.Answer(env, left, right) is { } answer)
                test.Add(new PreferencePair(left, right, answer));
        }
        return test;
    }
}
