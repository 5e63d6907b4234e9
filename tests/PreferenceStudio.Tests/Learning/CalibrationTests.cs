using PreferenceStudio.Learning;

namespace PreferenceStudio.Tests.Learning;

public class CalibrationTests
{
    [Fact]
    public void Calibration_error_weights_each_bin_gap_by_its_share_of_pairs()
    {
        // Bin 9: two at 0.95, half right -> gap 0.45, weight 2/4. Bin 1: 0.15, left -> 0.15, 1/4. Bin 5: 0.55, right -> 0.45, 1/4.
        double ece = PreferenceMetrics.CalibrationError([0.95, 0.95, 0.15, 0.55], [1, 0, 0, 1]);
        Assert.Equal(0.45 * 0.5 + 0.15 * 0.25 + 0.45 * 0.25, ece, 12);
    }

    [Fact]
    public void Certain_right_answers_are_perfectly_calibrated_and_bin_edges_are_closed_on_the_right()
    {
        Assert.Equal(0, PreferenceMetrics.CalibrationError([1.0, 0.0, 1.0], [1, 0, 1]), 12);
        // 0.1 and 0.19 share bin 1 (mean 0.145 vs share 0.5); 0.2 opens bin 2 on its own.
        Assert.Equal(Math.Abs(0.145 - 0.5) * 2 / 3 + 0.2 / 3, PreferenceMetrics.CalibrationError([0.1, 0.19, 0.2], [1, 0, 0]), 12);
        Assert.True(double.IsNaN(PreferenceMetrics.CalibrationError([], [])));
    }

    [Fact]
    public void Labels_drawn_from_the_predicted_probabilities_give_a_small_error_and_overconfidence_a_large_one()
    {
        var rng = new Random(8);
        var p = Enumerable.Range(0, 20000).Select(_ => rng.NextDouble()).ToArray();
        var y = p.Select(x => rng.NextDouble() < x ? 1.0 : 0.0).ToArray();
        Assert.True(PreferenceMetrics.CalibrationError(p, y) < 0.02);
        var overconfident = p.Select(x => x > 0.5 ? 1.0 : 0.0).ToArray();
        Assert.True(PreferenceMetrics.CalibrationError(overconfident, y) > 0.2);
    }
}
