using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Loop;
using PreferenceStudio.Learning.Metrics;
using PreferenceStudio.Learning.Vpl;

namespace PreferenceStudio.Tests.Learning;

/// <summary>latent_gain: own latent against a shuffled rater's, on held-out labels of the training raters.</summary>
[Collection(VplModelCollection.Name)]
public sealed class LatentCheckTests(VplModelFixture fixture)
{
    /// <summary>Fresh labels of the fixture's raters (same names and kinds), never trained on.</summary>
    private static List<PreferencePair> HeldOut(int[] kinds, int seed) => TwoKindRaters.Labels(kinds, 60, seed);

    [Fact]
    public void The_latent_carries_the_kind_when_raters_of_two_kinds_conflict()
    {
        var check = LatentCheck.Evaluate(fixture.Model, HeldOut(VplModelFixture.Kinds, seed: 11), seed: 1)!;
        Assert.Equal(4, check.Raters);
        Assert.True(check.Gain > 0.15, $"own {check.Own:F3}, shuffled {check.Shuffled:F3}");
        Assert.True(check.Own > check.Prior + 0.1, $"own {check.Own:F3}, prior {check.Prior:F3}");
        // The record every face prints carries it.
        var metrics = ModelEvaluation.Evaluate(TwoKindRaters.Env, fixture.Model, "vpl", fixture.Train, HeldOut(VplModelFixture.Kinds, seed: 11), seed: 1).Metrics;
        Assert.Equal(check.Gain, metrics.LatentGain!.Value, 12);
    }

    [Fact]
    public void With_one_kind_the_latent_has_nothing_to_carry()
    {
        int[] kinds = [0, 0, 0, 0];
        using var model = new VplTrainer(VplModelFixture.Vpl).TrainModel(TwoKindRaters.Env, TwoKindRaters.Labels(kinds, 150, seed: 1), VplModelFixture.Options);
        var check = LatentCheck.Evaluate(model, HeldOut(kinds, seed: 11), seed: 1)!;
        Assert.InRange(check.Gain, -0.05, 0.05);
        Assert.True(check.Own > 0.8, $"own {check.Own:F3}");
    }

    [Fact]
    public void A_model_without_per_rater_latents_or_a_single_rater_gets_no_check()
    {
        var one = HeldOut([0, 1], seed: 12).Where(p => p.Rater == TwoKindRaters.RaterName(0, 0)).ToList();
        Assert.Null(LatentCheck.Evaluate(fixture.Model, one, seed: 1));
        using var bt = new BradleyTerryTrainer().Train(TwoKindRaters.Env, fixture.Train, VplModelFixture.Options with { EnsembleSize = 1, Epochs = 5 });
        Assert.Null(ModelEvaluation.Evaluate(TwoKindRaters.Env, bt, "bt", fixture.Train, HeldOut(VplModelFixture.Kinds, seed: 11), seed: 1).Metrics.LatentGain);
    }
}
