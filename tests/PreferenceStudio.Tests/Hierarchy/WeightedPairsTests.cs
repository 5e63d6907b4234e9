using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Control;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.Learning;

namespace PreferenceStudio.Tests.Hierarchy;

/// <summary>A pair's weight scales its share of the Bradley-Terry loss (hierarchy labels carry the campaign's weight).</summary>
[Collection(TorchDeterminismCollection.Name)]
public sealed class WeightedPairsTests
{
    private static readonly Pendulum Env = new();
    private static readonly RewardModelOptions Options = new() { Device = "cpu", Seed = 2, EnsembleSize = 1, Epochs = 300, LearningRate = 1e-2, WeightDecay = 0 };

    private static (Segment A, Segment B) TwoSegments()
    {
        var pieces = SegmentCutter.Cut(Env, Rollouts.CollectRandom(Env, 1, new Random(3))[0], 10);
        return (pieces[0], pieces[5]);
    }

    private static double PreferB(double weightForB, double weightForA)
    {
        var (a, b) = TwoSegments();
        List<PreferencePair> pairs =
        [
            new(a, b, PreferenceChoice.Right, Weight: weightForB),
            new(a, b, PreferenceChoice.Left, Weight: weightForA),
        ];
        using var model = new BradleyTerryTrainer().Train(Env, pairs, Options);
        return model.PreferRightProbability(a, b);
    }

    [Fact]
    public void The_heavier_of_two_conflicting_labels_wins()
    {
        // The weighted likelihood is maximal where P(B over A) = 3 / (3 + 1).
        double heavyB = PreferB(3, 1), heavyA = PreferB(1, 3), even = PreferB(1, 1);
        Assert.InRange(heavyB, 0.65, 0.85);
        Assert.InRange(heavyA, 0.15, 0.35);
        Assert.InRange(even, 0.4, 0.6);
    }

    [Fact]
    public void A_label_of_weight_zero_counts_for_nothing()
    {
        Assert.True(PreferB(1, 0) > 0.95, $"P = {PreferB(1, 0):F3}");
    }

    [Fact]
    public void Weight_one_everywhere_trains_exactly_as_unweighted_pairs()
    {
        var segments = SegmentCutter.Cut(Env, Rollouts.CollectRandom(Env, 1, new Random(4))[0], 10);
        IPreferenceEnvironment env = Env;
        var unweighted = Enumerable.Range(0, segments.Count - 1)
            .Select(i => new PreferencePair(segments[i], segments[i + 1], env.TrueReturn(segments[i + 1]) > env.TrueReturn(segments[i]) ? PreferenceChoice.Right : PreferenceChoice.Left))
            .ToList();
        var weightOne = unweighted.Select(p => new PreferencePair(p.Left, p.Right, p.Label, null, 1.0)).ToList();
        var options = Options with { Epochs = 20 };
        using var a = new BradleyTerryTrainer().Train(Env, unweighted, options);
        using var b = new BradleyTerryTrainer().Train(Env, weightOne, options);
        using var c = new BradleyTerryTrainer().Train(Env, unweighted.Select((p, i) => i == 0 ? p with { Weight = 2 } : p).ToList(), options);
        Assert.Equal(a.SegmentReturns(segments), b.SegmentReturns(segments));
        Assert.NotEqual(a.SegmentReturns(segments), c.SegmentReturns(segments));
    }
}

/// <summary>The regret and VPL trainers weight pairs too, so a campaign's hierarchy weight means the same in every model.</summary>
[Collection(TorchDeterminismCollection.Name)]
public sealed class WeightedPairsOtherModelsTests
{
    private static readonly Pendulum Env = new();

    private static List<Segment> Segments(int seed) => SegmentCutter.Cut(Env, Rollouts.CollectRandom(Env, 1, new Random(seed))[0], 10).ToList();

    private static RewardModelOptions Options(string type) => new() { Device = "cpu", Seed = 2, Epochs = type == "vpl" ? 40 : 200, LearningRate = 1e-2, WeightDecay = 0 };

    private static double PreferB(string type, double weightForB, double weightForA)
    {
        var s = Segments(3);
        var (a, b) = (s[0], s[5]);
        List<PreferencePair> pairs =
        [
            new(a, b, PreferenceChoice.Right, "r1", weightForB),
            new(a, b, PreferenceChoice.Left, "r1", weightForA),
        ];
        using var model = RewardModels.Trainer(type).Train(Env, pairs, Options(type));
        return model.PreferRightProbability(a, b);
    }

    [Theory]
    [InlineData("regret")]
    [InlineData("vpl")]
    public void The_heavier_of_two_conflicting_labels_pulls_the_model_its_way(string type)
    {
        double heavyB = PreferB(type, 3, 1), heavyA = PreferB(type, 1, 3);
        Assert.True(heavyB > 0.5 && heavyA < 0.5 && heavyB - heavyA > 0.1, $"P(B) with B weighted 3: {heavyB:F3}; with A weighted 3: {heavyA:F3}");
    }

    [Theory]
    [InlineData("regret")]
    [InlineData("vpl")]
    public void Weight_one_everywhere_trains_exactly_as_unweighted_pairs(string type)
    {
        var segments = Segments(4);
        IPreferenceEnvironment env = Env;
        var unweighted = Enumerable.Range(0, segments.Count - 1)
            .Select(i => new PreferencePair(segments[i], segments[i + 1],
                env.TrueReturn(segments[i + 1]) > env.TrueReturn(segments[i]) ? PreferenceChoice.Right : PreferenceChoice.Left, $"r{i % 2}"))
            .ToList();
        var options = Options(type) with { Epochs = 10 };
        using var a = RewardModels.Trainer(type).Train(Env, unweighted, options);
        using var b = RewardModels.Trainer(type).Train(Env, unweighted.Select(p => p with { Weight = 1.0 }).ToList(), options);
        using var c = RewardModels.Trainer(type).Train(Env, unweighted.Select((p, i) => i == 0 ? p with { Weight = 5 } : p).ToList(), options);
        Assert.Equal(a.SegmentReturns(segments), b.SegmentReturns(segments));
        Assert.NotEqual(a.SegmentReturns(segments), c.SegmentReturns(segments));
    }
}

/// <summary>
/// Tests that compare two trainings bit for bit. Seeded training draws from libtorch's process-wide generator, so a
/// torch test running beside them in parallel can move it between the two; these run alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchDeterminismCollection
{
    public const string Name = "torch determinism";
}
