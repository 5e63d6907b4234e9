using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Hierarchy;

namespace PreferenceStudio.Tests.Hierarchy;

public class RankingStatisticsTests
{
    private static readonly string[] Factors = ["angle", "velocity", "torque"];

    private static IReadOnlyList<string> R(params string[] order) => order;

    [Fact]
    public void Identical_rankings_agree_completely()
    {
        var rankings = new[] { R("angle", "velocity", "torque"), R("angle", "velocity", "torque"), R("angle", "velocity", "torque") };
        Assert.Equal(1.0, RankingStatistics.KendallW(Factors, rankings)!.Value, 12);
    }

    [Fact]
    public void Two_opposite_rankings_have_no_agreement()
    {
        // Rank sums are 1 + 3 = 4 for every factor, the mean: S = 0.
        var rankings = new[] { R("angle", "velocity", "torque"), R("torque", "velocity", "angle") };
        Assert.Equal(0.0, RankingStatistics.KendallW(Factors, rankings)!.Value, 12);
    }

    [Fact]
    public void A_partial_agreement_matches_the_hand_computed_coefficient()
    {
        // Rank sums: angle 1+1+2 = 4, velocity 2+2+1 = 5, torque 3+3+3 = 9; mean m(n+1)/2 = 6; S = 4 + 1 + 9 = 14.
        // W = 12 * 14 / (3² * (3³ - 3)) = 168 / 216 = 7/9.
        var rankings = new[] { R("angle", "velocity", "torque"), R("angle", "velocity", "torque"), R("velocity", "angle", "torque") };
        Assert.Equal(7.0 / 9.0, RankingStatistics.KendallW(Factors, rankings)!.Value, 12);
    }

    [Fact]
    public void Agreement_is_undefined_for_fewer_than_two_raters()
    {
        Assert.Null(RankingStatistics.KendallW(Factors, []));
        Assert.Null(RankingStatistics.KendallW(Factors, [R("angle", "velocity", "torque")]));
        var summary = RankingStatistics.Summarise(Factors, [R("torque", "angle", "velocity")]);
        Assert.Equal(1, summary.Raters);
        Assert.Null(summary.KendallW);
    }

    [Fact]
    public void Summary_counts_first_places_and_mean_ranks_in_the_environments_order()
    {
        var rankings = new[] { R("angle", "velocity", "torque"), R("velocity", "angle", "torque"), R("angle", "torque", "velocity") };
        var summary = RankingStatistics.Summarise(Factors, rankings);

        Assert.Equal(3, summary.Raters);
        Assert.Equal(Factors, summary.Factors.Select(f => f.Factor));
        Assert.Equal([2, 1, 0], summary.Factors.Select(f => f.RankedFirst));
        // Rank sums: angle 1+2+1 = 4, velocity 2+1+3 = 6, torque 3+3+2 = 8.
        Assert.Equal(4.0 / 3, summary.Factors[0].MeanRank!.Value, 12);
        Assert.Equal(2.0, summary.Factors[1].MeanRank!.Value, 12);
        Assert.Equal(8.0 / 3, summary.Factors[2].MeanRank!.Value, 12);
        // Around a mean of 6: S = 4 + 0 + 4 = 8, W = 12 * 8 / (3² * (3³ - 3)) = 96 / 216 = 4/9.
        Assert.Equal(4.0 / 9.0, summary.KendallW!.Value, 12);
    }

    [Fact]
    public void No_rankings_give_no_mean_rank()
    {
        var summary = RankingStatistics.Summarise(Factors, []);
        Assert.Equal(0, summary.Raters);
        Assert.All(summary.Factors, f => { Assert.Equal(0, f.RankedFirst); Assert.Null(f.MeanRank); });
    }

    [Fact]
    public void A_ranking_that_is_not_a_permutation_of_the_factors_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => RankingStatistics.KendallW(Factors, [R("angle", "angle", "torque"), R("angle", "velocity", "torque")]));
        Assert.Contains("exactly once", e.Message);
        Assert.Throws<ArgumentException>(() => RankingStatistics.Summarise(Factors, [R("angle", "velocity")]));
    }

    [Fact]
    public void The_version_in_force_is_the_latest_created_at_or_before_the_answer()
    {
        var t0 = new DateTimeOffset(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);
        var versions = new[] { t0, t0.AddMinutes(10), t0.AddMinutes(20) };

        Assert.Equal(0, RankingStatistics.VersionInForce(versions, t0));
        Assert.Equal(0, RankingStatistics.VersionInForce(versions, t0.AddMinutes(9)));
        Assert.Equal(1, RankingStatistics.VersionInForce(versions, t0.AddMinutes(10)));
        Assert.Equal(2, RankingStatistics.VersionInForce(versions, t0.AddHours(1)));
        // Answered before the rater ever ranked, or with no time: judged by the current version.
        Assert.Equal(2, RankingStatistics.VersionInForce(versions, t0.AddMinutes(-1)));
        Assert.Equal(2, RankingStatistics.VersionInForce(versions, null));
        Assert.Equal(-1, RankingStatistics.VersionInForce([], t0));
    }

    [Fact]
    public void Consistency_counts_only_sided_choices_the_hierarchy_decided()
    {
        var labels = new (PreferenceChoice, PreferenceChoice?)[]
        {
            (PreferenceChoice.Left, PreferenceChoice.Left),
            (PreferenceChoice.Right, PreferenceChoice.Left),   // overruled the hierarchy
            (PreferenceChoice.Right, PreferenceChoice.Right),
            (PreferenceChoice.Left, null),                     // no level decided: not counted
            (PreferenceChoice.Equal, PreferenceChoice.Right),  // no side stated: not counted
            (PreferenceChoice.Incomparable, PreferenceChoice.Left),
        };
        var c = RankingStatistics.Consistency(labels);
        Assert.Equal(3, c.Decided);
        Assert.Equal(1, c.Disagreements);
        Assert.Equal(1.0 / 3, c.Rate!.Value, 12);
        Assert.Null(RankingStatistics.Consistency([(PreferenceChoice.Left, null)]).Rate);
    }
}
