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
}
