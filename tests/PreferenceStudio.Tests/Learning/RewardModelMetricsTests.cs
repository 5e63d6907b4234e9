using System.Text.Json;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Loop;
using PreferenceStudio.Tests.Hierarchy;

namespace PreferenceStudio.Tests.Learning;

/// <summary>The one metrics record: what ModelEvaluation measures, how it is written and read back.</summary>
[Collection(TorchDeterminismCollection.Name)]
public sealed class RewardModelMetricsTests
{
    private static (IPreferenceEnvironment Env, List<PreferencePair> Pairs) OraclePairs(int count, int seed)
    {
        var env = EnvironmentRegistry.Get(DeliveryGridworld.EnvironmentName);
        var segments = Rollouts.CollectRandom(env, count * 2, new Random(seed)).SelectMany(t => SegmentCutter.Cut(env, t, 3)).ToList();
        var pairs = new List<PreferencePair>();
        for (int i = 0; i + 1 < segments.Count && pairs.Count < count; i += 2)
        {
            double l = env.TrueReturn(segments[i]), r = env.TrueReturn(segments[i + 1]);
            if (l == r) continue;
            pairs.Add(new PreferencePair(segments[i], segments[i + 1], l > r ? PreferenceChoice.Left : PreferenceChoice.Right, Rater: i % 4 == 0 ? "ann" : "bo"));
        }
        return (env, pairs);
    }

    [Fact]
    public void Evaluation_fills_the_record_and_it_reads_back_as_written()
    {
        var (env, pairs) = OraclePairs(160, seed: 5);
        var (train, test) = (pairs[..120], pairs[120..]);
        using var model = new BradleyTerryTrainer().Train(env, train, new RewardModelOptions { Device = "cpu", Epochs = 40, EnsembleSize = 1, Seed = 1 });
        var metrics = ModelEvaluation.Evaluate(env, model, "bt", train, test, seed: 1, measureFit: true).Metrics;

        Assert.Equal("bt", metrics.Model);
        Assert.Equal(120, metrics.NTrain);
        Assert.Equal(40, metrics.NTest);
        Assert.InRange(metrics.HeldoutAccuracy!.Value, 0.7, 1);
        Assert.InRange(metrics.TrainAccuracy!.Value, 0.7, 1);
        Assert.InRange(metrics.Epic!.Value, 0, 1);
        Assert.NotNull(metrics.ScaledReturn);
        Assert.Equal(["ann", "bo"], metrics.PerRater!.Keys);
        Assert.Equal(test.Count, metrics.PerRater.Values.Sum(r => r.Count));

        var json = metrics.Serialize();
        var root = JsonDocument.Parse(json).RootElement;
        Assert.Equal(metrics.HeldoutAccuracy.Value, root.GetProperty("heldout_accuracy").GetDouble());
        Assert.Equal(metrics.TrainLogLikelihood!.Value, root.GetProperty("train_loglik").GetDouble());
        Assert.Equal(metrics.PerRater["ann"].Count, root.GetProperty("per_rater").GetProperty("ann").GetProperty("count").GetInt32());
        // Not measured: left out, not written as null or NaN.
        Assert.False(root.TryGetProperty("rater_reliability", out _));
        Assert.False(root.TryGetProperty("sources", out _));
        Assert.Equal(json, RewardModelMetrics.Parse(json).Serialize());
    }

    [Fact]
    public void Nothing_to_measure_on_is_null_not_NaN()
    {
        var (env, pairs) = OraclePairs(40, seed: 6);
        using var model = new BradleyTerryTrainer().Train(env, pairs, new RewardModelOptions { Device = "cpu", Epochs = 5, EnsembleSize = 1, Seed = 1 });
        var metrics = ModelEvaluation.Evaluate(env, model, "bt", pairs, [], seed: 1).Metrics;
        Assert.Equal(0, metrics.NTest);
        Assert.Null(metrics.HeldoutAccuracy);
        Assert.Null(metrics.TrainAccuracy); // measureFit was not asked for
        Assert.Empty(metrics.RaterAccuracies());
        var root = JsonDocument.Parse(metrics.Serialize()).RootElement;
        Assert.False(root.TryGetProperty("heldout_accuracy", out _));
        Assert.Equal(0, root.GetProperty("n_test").GetInt32());
    }

    [Fact]
    public void A_run_stored_with_fields_this_studio_does_not_know_still_reads()
    {
        var stored = """{"model":"vpl","heldout_accuracy":0.75,"future_metric":{"x":1},"per_rater":{"r1":{"accuracy":0.5,"count":4,"latent_std":0.2}},"sources":{"label_source":"clips","clips":10,"hierarchy":0,"hierarchy_weight":1,"rankings":0,"weighted":false}}""";
        var metrics = RewardModelMetrics.Parse(stored);
        Assert.Equal(0.75, metrics.HeldoutAccuracy);
        Assert.Equal(0.2, metrics.PerRater!["r1"].LatentStd);
        Assert.Equal(10, metrics.Sources!.Clips);
        Assert.Equal([0.5], metrics.RaterAccuracies());
        Assert.Equal(new RewardModelMetrics().Serialize(), RewardModelMetrics.Parse("").Serialize());
    }
}
