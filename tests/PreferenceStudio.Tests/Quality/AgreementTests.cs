using PreferenceStudio.Core.Quality;

namespace PreferenceStudio.Tests.Quality;

/// <summary>Agreement statistics against values worked out by hand.</summary>
public class AgreementTests
{
    // u1 [a a], u2 [a b], u3 [b b], u4 [a a b], and a single answer that no statistic may use.
    private static readonly string[][] Units = [["a", "a"], ["a", "b"], ["b", "b"], ["a", "a", "b"], ["b"]];

    [Fact]
    public void Krippendorffs_alpha_matches_the_coincidence_matrix_worked_by_hand()
    {
        // Coincidences: o_aa = 2 + 1 (u4: two ordered a-a pairs at 1/2), o_ab = o_ba = 1 + 1, o_bb = 2; n_a = 5, n_b = 4,
        // n = 9. D_o = 4/9, D_e = 2 * 5 * 4 / (9 * 8) = 5/9, alpha = 1 - 0.8 = 0.2.
        Assert.Equal(0.2, Agreement.KrippendorffAlpha(Units)!.Value, 12);
    }

    [Fact]
    public void Fleiss_kappa_matches_the_per_unit_agreement_worked_by_hand()
    {
        // P_i = 1, 0, 1, (4 + 1 - 3) / 6 = 1/3; P_bar = 7/12. Category shares 5/9 and 4/9: P_e = 41/81.
        double expected = (7.0 / 12 - 41.0 / 81) / (1 - 41.0 / 81);
        Assert.Equal(expected, Agreement.FleissKappa(Units)!.Value, 12);
        Assert.Equal(0.15625, expected, 12);
    }

    [Fact]
    public void Perfect_agreement_is_one_and_answers_at_chance_are_near_zero()
    {
        string[][] perfect = [["left", "left", "left"], ["right", "right", "right"], ["equal", "equal"]];
        Assert.Equal(1.0, Agreement.KrippendorffAlpha(perfect)!.Value, 12);
        Assert.Equal(1.0, Agreement.FleissKappa(perfect)!.Value, 12);

        var rng = new Random(3);
        var coin = Enumerable.Range(0, 4000).Select(_ => (IReadOnlyList<string>)Enumerable.Range(0, 3).Select(_ => rng.Next(2) == 0 ? "left" : "right").ToList()).ToList();
        Assert.InRange(Agreement.KrippendorffAlpha(coin)!.Value, -0.05, 0.05);
        Assert.InRange(Agreement.FleissKappa(coin)!.Value, -0.05, 0.05);
    }

    [Fact]
    public void Nothing_to_measure_is_null_rather_than_a_number()
    {
        Assert.Null(Agreement.KrippendorffAlpha([["a"], ["b"]]));
        Assert.Null(Agreement.FleissKappa([["a"], ["b"]]));
        // All answers alike: no disagreement was possible, so agreement cannot be told apart from chance.
        Assert.Null(Agreement.KrippendorffAlpha([["a", "a"], ["a", "a"]]));
        Assert.Null(Agreement.FleissKappa([["a", "a"], ["a", "a"]]));
        Assert.Null(Agreement.Median([]));
    }

    [Fact]
    public void Each_rater_is_compared_with_the_majority_of_the_others()
    {
        (string, string)[][] units =
        [
            [("x", "left"), ("y", "left"), ("z", "right")],     // x: others y,z tie -> not counted; y: ties; z: others left -> miss
            [("x", "left"), ("y", "left"), ("z", "left")],      // all match
            [("x", "right"), ("y", "left"), ("z", "left")],     // x misses; y: others right,left tie; z: tie
            [("x", "left")],                                     // alone: not counted
        ];
        var loo = Agreement.LeaveOneOutMajority(units);
        Assert.Equal((1.0 / 2, 2), loo["x"]);
        Assert.Equal((1.0, 1), loo["y"]);
        Assert.Equal((1.0 / 2, 2), loo["z"]);
        Assert.Equal(2.5, Agreement.Median([4, 1, 3, 2]));
        Assert.Equal(3.0, Agreement.Median([5, 3, 1]));
    }
}
