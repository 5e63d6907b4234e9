using PreferenceStudio.Environments;
using PreferenceStudio.Learning;

namespace PreferenceStudio.Tests.Learning;

public class PreferenceMetricsTests
{
    private static readonly Segment Seg = Segment.Discrete([[0, 0]], []);

    /// <summary>Returns fixed probabilities in order, so the metric arithmetic can be checked by hand.</summary>
    private sealed class FixedModel(params double[] probabilities) : IRewardModel
    {
        public string ModelType => "fixed";
        public string EnvironmentName => "none";
        public double[] StepRewards(IReadOnlyList<float[]> stepFeatures) => throw new NotSupportedException();
        public double SegmentReturn(Segment segment) => throw new NotSupportedException();
        public double[] SegmentReturns(IReadOnlyList<Segment> segments) => throw new NotSupportedException();
        public double PreferRightProbability(Segment left, Segment right) => throw new NotSupportedException();
        public double[] PreferRightProbabilities(IReadOnlyList<PreferencePair> pairs) => probabilities[..pairs.Count];
        public void Save(string path) => throw new NotSupportedException();
        public void Dispose() { }
    }

    [Fact]
    public void Accuracy_excludes_ties_and_loglik_uses_half_targets()
    {
        var pairs = new[]
        {
            new PreferencePair(Seg, Seg, PreferenceChoice.Right),   // p 0.8: right, ll log 0.8
            new PreferencePair(Seg, Seg, PreferenceChoice.Left),    // p 0.6: wrong, ll log 0.4
            new PreferencePair(Seg, Seg, PreferenceChoice.Incomparable),
            new PreferencePair(Seg, Seg, PreferenceChoice.Equal),   // p 0.5: ll log 0.5
            new PreferencePair(Seg, Seg, PreferenceChoice.Left),    // p 0.5: half right, ll log 0.5
        };
        // The incomparable pair is filtered before the model is asked, so the model sees four pairs.
        var m = PreferenceMetrics.Evaluate(new FixedModel(0.8, 0.6, 0.5, 0.5), pairs);
        Assert.Equal(4, m.Count);
        Assert.Equal(3, m.DecisiveCount);
        Assert.Equal(1.5 / 3, m.Accuracy, 12);
        Assert.Equal((Math.Log(0.8) + Math.Log(0.4) + 2 * Math.Log(0.5)) / 4, m.MeanLogLikelihood, 12);
    }

    [Fact]
    public void No_usable_pairs_gives_NaN_metrics_and_zero_counts()
    {
        var m = PreferenceMetrics.Evaluate(new FixedModel(), [new PreferencePair(Seg, Seg, PreferenceChoice.Incomparable)]);
        Assert.Equal(0, m.Count);
        Assert.True(double.IsNaN(m.Accuracy));
    }

    /// <summary>A per-rater model: rater "a" is predicted by its own fixed model, everyone else by the population's.</summary>
    private sealed class PerRaterModel(IRewardModel population, IRewardModel raterA) : IPerRaterRewardModel
    {
        public string ModelType => "per-rater";
        public string EnvironmentName => "none";
        public IReadOnlyCollection<string> Raters => ["a"];
        public IRewardModel ForRater(string rater) => rater == "a" ? raterA : throw new ArgumentException(rater);
        public IRewardModel ForContext(IReadOnlyList<PreferencePair> context) => throw new NotSupportedException();
        public (double[] Mean, double[] Std) Latent(string rater) => throw new NotSupportedException();
        public (double[] Mean, double[] Std) LatentFor(IReadOnlyList<PreferencePair> context) => throw new NotSupportedException();
        public double[] StepRewards(IReadOnlyList<float[]> stepFeatures) => throw new NotSupportedException();
        public double SegmentReturn(Segment segment) => throw new NotSupportedException();
        public double[] SegmentReturns(IReadOnlyList<Segment> segments) => throw new NotSupportedException();
        public double PreferRightProbability(Segment left, Segment right) => throw new NotSupportedException();
        public double[] PreferRightProbabilities(IReadOnlyList<PreferencePair> pairs) => population.PreferRightProbabilities(pairs);
        public void Save(string path) => throw new NotSupportedException();
        public void Dispose() { }
    }

    [Fact]
    public void Accuracy_is_reported_per_rater_over_their_decisive_pairs()
    {
        var pairs = new[]
        {
            new PreferencePair(Seg, Seg, PreferenceChoice.Right, "ann"),  // 0.8: right
            new PreferencePair(Seg, Seg, PreferenceChoice.Right, "bob"),  // 0.3: wrong
            new PreferencePair(Seg, Seg, PreferenceChoice.Left, "ann"),   // 0.6: wrong
            new PreferencePair(Seg, Seg, PreferenceChoice.Equal, "cy"),   // tie only: no accuracy
            new PreferencePair(Seg, Seg, PreferenceChoice.Left),          // no rater
        };
        var m = PreferenceMetrics.Evaluate(new FixedModel(0.8, 0.3, 0.6, 0.5, 0.2), pairs);
        Assert.Equal(3, m.PerRater!.Count);
        Assert.Equal(new RaterAccuracy(0.5, 2), m.PerRater["ann"]);
        Assert.Equal(new RaterAccuracy(0, 1), m.PerRater["bob"]);
        Assert.Equal(0, m.PerRater["cy"].Count);
        Assert.Equal(2.0 / 4, m.Accuracy, 12);
        // Decisive predictions 0.8, 0.3, 0.6, 0.2 fall in bins 8, 3, 6, 2 with labels 1, 1, 0, 0.
        Assert.Equal((0.2 + 0.7 + 0.6 + 0.2) / 4, m.ExpectedCalibrationError, 12);
    }

    [Fact]
    public void A_per_rater_model_predicts_known_raters_with_their_own_reward()
    {
        var pairs = new[]
        {
            new PreferencePair(Seg, Seg, PreferenceChoice.Right, "a"),
            new PreferencePair(Seg, Seg, PreferenceChoice.Right, "stranger"),
            new PreferencePair(Seg, Seg, PreferenceChoice.Right, "a"),
        };
        using var model = new PerRaterModel(population: new FixedModel(0.1, 0.1, 0.1), raterA: new FixedModel(0.9, 0.9));
        var m = PreferenceMetrics.Evaluate(model, pairs);
        Assert.Equal(new RaterAccuracy(1, 2), m.PerRater!["a"]);
        Assert.Equal(new RaterAccuracy(0, 1), m.PerRater["stranger"]);
        Assert.Equal((2 * Math.Log(0.9) + Math.Log(0.1)) / 3, m.MeanLogLikelihood, 12);
    }
}
