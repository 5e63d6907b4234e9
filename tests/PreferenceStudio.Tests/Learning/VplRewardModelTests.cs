using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Vpl;
using Xunit.Abstractions;

namespace PreferenceStudio.Tests.Learning;

/// <summary>
/// Delivery-gridworld raters of two kinds that agree about coins and roadblocks and about little else: kind 0 scores by
/// the true weights (road -1, mud -2, goal +50, sheep -50), kind 1 prefers mud to road and the sheep to the goal
/// (road -2, mud -1, goal -50, sheep +50). Random 3-move segments, random pairs, each rater labelling by their kind's
/// return (ties answered "equal").
/// </summary>
internal static class TwoKindRaters
{
    public static readonly DeliveryGridworld Env = DeliveryGridworld.Standard;
    public static readonly double[] RoadWeights = DeliveryGridworld.TrueWeights;
    public static readonly double[] MudWeights = [-2, -50, 50, 1, -1, -1];

    public static double[] Weights(int kind) => kind == 0 ? RoadWeights : MudWeights;

    public static double Return(Segment segment, int kind)
    {
        var w = Weights(kind);
        double total = 0;
        for (int t = 0; t < segment.Actions.Length; t++)
        {
            var phi = Env.StepFeatures(segment.States[t], segment.ActionIndex(t), segment.States[t + 1]);
            for (int i = 0; i < phi.Length; i++) total += w[i] * phi[i];
        }
        return total;
    }

    public static PreferencePair Label(Segment left, Segment right, int kind, string? rater)
    {
        double d = Return(right, kind) - Return(left, kind);
        return new PreferencePair(left, right, d > 0 ? PreferenceChoice.Right : d < 0 ? PreferenceChoice.Left : PreferenceChoice.Equal, rater);
    }

    public static List<(Segment Left, Segment Right)> RandomPairs(int count, Random rng, int length = 3)
    {
        var segments = new List<Segment>();
        while (segments.Count < 2 * count)
            foreach (var t in Rollouts.CollectRandom(Env, 1, rng))
                segments.AddRange(SegmentCutter.Cut(Env, t, length));
        rng.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(segments));
        return Enumerable.Range(0, count).Select(i => (segments[2 * i], segments[2 * i + 1])).ToList();
    }

    /// <summary>Labels of raters "k{kind}-{i}" for each kind in <paramref name="kinds"/> (one entry per rater).</summary>
    public static List<PreferencePair> Labels(IReadOnlyList<int> kinds, int perRater, int seed)
    {
        var rng = new Random(seed);
        var pairs = new List<PreferencePair>();
        for (int r = 0; r < kinds.Count; r++)
            pairs.AddRange(RandomPairs(perRater, rng).Select(p => Label(p.Left, p.Right, kinds[r], RaterName(kinds[r], r))));
        return pairs;
    }

    public static string RaterName(int kind, int index) => $"k{kind}-{index}";

    public static Segment Walk(int row, int col, params int[] actions)
    {
        var states = new List<double[]> { new double[] { row, col } };
        foreach (int a in actions) states.Add(Env.NextState(states[^1], a));
        return Segment.Discrete(states.ToArray(), actions);
    }
}

/// <summary>The tests that share one trained <see cref="VplModelFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class VplModelCollection : ICollectionFixture<VplModelFixture>
{
    public const string Name = "vpl-model";
}

/// <summary>One small VPL model, trained once for all tests of <see cref="VplModelCollection"/> (training dominates their run time).</summary>
public sealed class VplModelFixture : IDisposable
{
    public static readonly RewardModelOptions Options = new()
    {
        Device = "cpu", Seed = 3, HiddenSizes = [32, 32], Epochs = 40, BatchSize = 64, LearningRate = 3e-3, WeightDecay = 0,
    };

    // Small latent and encoder: two kinds need one informative dimension; the authors' 32 x 256 only costs test time.
    public static readonly VplOptions Vpl = new() { LatentSize = 4, EncoderHiddenSizes = [32, 32, 32], MaxContext = 16, TargetSize = 16 };

    public VplModelFixture()
    {
        Train = TwoKindRaters.Labels(Kinds, 150, seed: 1);
        Model = new VplTrainer(Vpl).TrainModel(TwoKindRaters.Env, Train, Options);
    }

    /// <summary>Kind of each training rater: two of each.</summary>
    public static readonly int[] Kinds = [0, 0, 1, 1];

    public List<PreferencePair> Train { get; }

    public VplRewardModel Model { get; }

    public void Dispose() => Model.Dispose();
}

[Collection(VplModelCollection.Name)]
public class VplRewardModelTests(VplModelFixture fixture, ITestOutputHelper output)
{
    private static readonly DeliveryGridworld Env = TwoKindRaters.Env;

    [Fact]
    public void Per_rater_rewards_separate_two_kinds_that_one_model_cannot()
    {
        var kinds = VplModelFixture.Kinds;
        var rng = new Random(77);
        var probe = TwoKindRaters.RandomPairs(400, rng);
        using var single = new BradleyTerryTrainer().Train(Env, fixture.Train, VplModelFixture.Options with { Epochs = 60, EnsembleSize = 1 });
        for (int r = 0; r < kinds.Length; r++)
        {
            var name = TwoKindRaters.RaterName(kinds[r], r);
            var test = probe.Select(p => TwoKindRaters.Label(p.Left, p.Right, kinds[r], name)).ToList();
            double vpl = PreferenceMetrics.Evaluate(fixture.Model.ForRater(name), test).Accuracy;
            double bt = PreferenceMetrics.Evaluate(single, test).Accuracy;
            output.WriteLine($"{name}: vpl {vpl:F3}, bt {bt:F3}");
            Assert.True(vpl > 0.9, $"{name}: VPL accuracy {vpl:F3}");
            Assert.True(vpl > bt + 0.1, $"{name}: VPL {vpl:F3} vs one Bradley-Terry model {bt:F3}");
        }
    }

    [Fact]
    public void A_new_rater_is_placed_from_a_few_labels()
    {
        var rng = new Random(91);
        var probe = TwoKindRaters.RandomPairs(400, rng);
        foreach (int kind in new[] { 0, 1 })
        {
            var context = TwoKindRaters.RandomPairs(12, rng).Select(p => TwoKindRaters.Label(p.Left, p.Right, kind, "new")).ToList();
            var test = probe.Select(p => TwoKindRaters.Label(p.Left, p.Right, kind, "new")).ToList();
            double acc = PreferenceMetrics.Evaluate(fixture.Model.ForContext(context), test).Accuracy;
            double other = PreferenceMetrics.Evaluate(fixture.Model.ForContext(context), probe.Select(p => TwoKindRaters.Label(p.Left, p.Right, 1 - kind, "x")).ToList()).Accuracy;
            output.WriteLine($"new kind {kind}: {acc:F3} (other kind's labels {other:F3})");
            Assert.True(acc > 0.85, $"new rater of kind {kind}: accuracy {acc:F3} from 12 labels");
        }
    }

    [Fact]
    public void Posterior_narrows_as_a_rater_gives_more_labels()
    {
        var rater = TwoKindRaters.RaterName(0, 0);
        var labels = fixture.Train.Where(p => p.Rater == rater).ToList();
        double few = fixture.Model.LatentFor(labels.Take(2).ToList()).Std.Sum();
        double many = fixture.Model.LatentFor(labels.Take(16).ToList()).Std.Sum();
        var (mean, std) = fixture.Model.Latent(rater);
        output.WriteLine($"sum std: 2 labels {few:F3}, 16 labels {many:F3}, all {std.Sum():F3}");
        Assert.True(many < few, $"sum of std with 16 labels {many:F3}, with 2 {few:F3}");
        Assert.Equal(VplModelFixture.Vpl.LatentSize, mean.Length);
        Assert.Equal(fixture.Model.LatentFor(labels).Mean, mean);
    }

    [Fact]
    public void Population_view_is_the_prior_mean_latent()
    {
        var probe = TwoKindRaters.RandomPairs(30, new Random(5)).Select(p => new PreferencePair(p.Left, p.Right, PreferenceChoice.Equal)).ToList();
        var zero = fixture.Model.ForLatent(new double[VplModelFixture.Vpl.LatentSize]);
        Assert.Equal(zero.PreferRightProbabilities(probe), fixture.Model.PreferRightProbabilities(probe));
        Assert.Equal(VplModelFixture.Kinds.Length, fixture.Model.Raters.Count);
    }

    [Fact]
    public void Checkpoint_round_trip_gives_identical_predictions_and_latents()
    {
        var probe = TwoKindRaters.RandomPairs(40, new Random(8)).Select(p => new PreferencePair(p.Left, p.Right, PreferenceChoice.Equal)).ToList();
        var rater = TwoKindRaters.RaterName(1, 2);
        var context = fixture.Train.Where(p => p.Rater == rater).Take(5).ToList();
        var path = Path.Combine(Path.GetTempPath(), $"vpl-{Guid.NewGuid():N}.pt");
        try
        {
            fixture.Model.Save(path);
            Assert.Equal("vpl", RewardCheckpoint.PeekModelType(path));
            using var loaded = VplRewardModel.Load(path, device: "cpu");
            Assert.Equal(fixture.Model.Raters, loaded.Raters);
            Assert.Equal(fixture.Model.Latent(rater).Mean, loaded.Latent(rater).Mean);
            Assert.Equal(fixture.Model.Latent(rater).Std, loaded.Latent(rater).Std);
            Assert.Equal(fixture.Model.PreferRightProbabilities(probe), loaded.PreferRightProbabilities(probe));
            Assert.Equal(fixture.Model.ForRater(rater).PreferRightProbabilities(probe), loaded.ForRater(rater).PreferRightProbabilities(probe));
            Assert.Equal(fixture.Model.LatentFor(context).Std, loaded.LatentFor(context).Std);
            using var viaRegistry = RewardModels.Load(path, device: "cpu");
            Assert.IsType<VplRewardModel>(viaRegistry);
            Assert.Equal(fixture.Model.PreferRightProbabilities(probe), viaRegistry.PreferRightProbabilities(probe));
            Assert.IsType<VplTrainer>(RewardModels.Trainer("vpl"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Unknown_rater_is_a_clear_argument_error()
    {
        var e = Assert.Throws<ArgumentException>(() => fixture.Model.ForRater("nobody"));
        Assert.Contains("nobody", e.Message);
        Assert.Contains("ForContext", e.Message);
        Assert.Throws<ArgumentException>(() => fixture.Model.Latent("nobody"));
    }
}

public class VplTrainerTests
{
    private static readonly DeliveryGridworld Env = TwoKindRaters.Env;
    private static readonly RewardModelOptions Tiny = VplModelFixture.Options with { Epochs = 2, HiddenSizes = [8] };
    private static readonly VplOptions TinyVpl = new() { LatentSize = 2, EncoderHiddenSizes = [8] };

    [Fact]
    public void No_usable_pairs_is_a_clear_error()
    {
        var trainer = new VplTrainer(TinyVpl);
        Assert.Contains("No preference pairs", Assert.Throws<RewardTrainingException>(() => trainer.Train(Env, [], Tiny)).Message);
        var pair = TwoKindRaters.Labels([0], 1, seed: 1)[0] with { Label = PreferenceChoice.Incomparable };
        Assert.Contains("incomparable", Assert.Throws<RewardTrainingException>(() => trainer.Train(Env, [pair], Tiny)).Message);
    }

    [Fact]
    public void Labels_of_one_kind_only_are_a_clear_error()
    {
        var pairs = TwoKindRaters.RandomPairs(10, new Random(2)).Select(p => new PreferencePair(p.Left, p.Right, PreferenceChoice.Left, "a")).ToList();
        var e = Assert.Throws<RewardTrainingException>(() => new VplTrainer(TinyVpl).Train(Env, pairs, Tiny));
        Assert.Contains("are labelled 'left'", e.Message);
    }

    [Fact]
    public void A_diverging_loss_is_reported_instead_of_a_NaN_model()
    {
        var options = Tiny with { LearningRate = 1e30, Epochs = 20 };
        var e = Assert.Throws<RewardTrainingException>(() => new VplTrainer(TinyVpl).Train(Env, TwoKindRaters.Labels([0, 1], 40, seed: 2), options));
        Assert.Contains("learning rate", e.Message);
    }

    [Fact]
    public void Pairs_without_a_rater_are_one_anonymous_rater_and_training_is_seeded()
    {
        var pairs = TwoKindRaters.Labels([0, 1], 30, seed: 4).Select((p, i) => i < 30 ? p with { Rater = null } : p).ToList();
        using var a = new VplTrainer(TinyVpl).TrainModel(Env, pairs, Tiny);
        using var b = new VplTrainer(TinyVpl).TrainModel(Env, pairs, Tiny);
        Assert.Equal([VplRewardModel.AnonymousRater, TwoKindRaters.RaterName(1, 1)], a.Raters.Order(StringComparer.Ordinal));
        Assert.Equal(30, a.RaterLatents.Single(r => r.Rater == VplRewardModel.AnonymousRater).Labels);
        Assert.Equal(a.Latent(VplRewardModel.AnonymousRater).Mean, b.Latent(VplRewardModel.AnonymousRater).Mean);
        Assert.Equal(a.Latent(VplRewardModel.AnonymousRater).Std, b.Latent(VplRewardModel.AnonymousRater).Std);
    }

    [Fact]
    public void Beta_rises_from_zero_in_each_of_four_cosine_cycles()
    {
        Assert.Equal(0, VplTrainer.CyclicalCosine(0, 400, 4), 12);
        Assert.Equal(0.5, VplTrainer.CyclicalCosine(50, 400, 4), 12);
        Assert.Equal(0, VplTrainer.CyclicalCosine(100, 400, 4), 12);
        Assert.True(VplTrainer.CyclicalCosine(399, 400, 4) > 0.99);
    }
}
