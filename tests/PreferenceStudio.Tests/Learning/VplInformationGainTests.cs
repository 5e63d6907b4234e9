using PreferenceStudio.Environments;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.QuerySelection;
using PreferenceStudio.Learning.Vpl;
using Xunit.Abstractions;

namespace PreferenceStudio.Tests.Learning;

[Collection(VplModelCollection.Name)]
public class VplInformationGainTests(VplModelFixture fixture, ITestOutputHelper output)
{
    // Both kinds prefer the coin (coin +1 for both), but they disagree about road (kind 0) versus mud (kind 1).
    private static readonly CandidatePair CoinOrNot = new(TwoKindRaters.Walk(0, 3, 3, 3, 3), TwoKindRaters.Walk(1, 1, 3, 3, 3));
    private static readonly CandidatePair RoadOrMud = new(TwoKindRaters.Walk(4, 3, 3, 3, 3), TwoKindRaters.Walk(3, 7, 0, 3, 3));

    [Fact]
    public void The_hand_made_pairs_are_what_they_claim()
    {
        foreach (int kind in new[] { 0, 1 })
            Assert.True(TwoKindRaters.Return(CoinOrNot.Right, kind) > TwoKindRaters.Return(CoinOrNot.Left, kind));
        Assert.True(TwoKindRaters.Return(RoadOrMud.Left, 0) > TwoKindRaters.Return(RoadOrMud.Right, 0));
        Assert.True(TwoKindRaters.Return(RoadOrMud.Left, 1) < TwoKindRaters.Return(RoadOrMud.Right, 1));
    }

    [Fact]
    public void Asks_the_pair_the_kinds_disagree_about_before_one_they_agree_about()
    {
        var selector = new InformationGainSelector();
        var agreed = TwoKindRaters.RandomPairs(40, new Random(4))
            .Select(p => TwoKindRaters.Label(p.Left, p.Right, 0, "new"))
            .Where(p => p.Label == TwoKindRaters.Label(p.Left, p.Right, 1, "new").Label)
            .Take(3).ToList();
        foreach (var labels in new[] { new List<PreferencePair>(), agreed })
        {
            CandidatePair[] candidates = [CoinOrNot, RoadOrMud];
            var scores = InformationGainSelector.Scores(fixture.Model, candidates, labels);
            output.WriteLine($"{labels.Count} labels: coin-or-not {scores[0]:F3}, road-or-mud {scores[1]:F3}");
            var context = new QueryContext(TwoKindRaters.Env, fixture.Model, "new", labels);
            Assert.Equal([1, 0], selector.Select(candidates, 2, context, new Random(1)));
            Assert.Equal([0, 1], selector.Select([RoadOrMud, CoinOrNot], 2, context, new Random(1)));
        }
    }

    [Fact]
    public void The_chosen_pair_places_a_new_rater_better_than_the_one_passed_over()
    {
        // The point of the score: one answer to the chosen pair should tell the kinds apart, the other should not.
        foreach (int kind in new[] { 0, 1 })
        {
            var probe = TwoKindRaters.RandomPairs(300, new Random(6)).Select(p => TwoKindRaters.Label(p.Left, p.Right, kind, "new")).ToList();
            double Accuracy(CandidatePair c) =>
                PreferenceMetrics.Evaluate(fixture.Model.ForContext([TwoKindRaters.Label(c.Left, c.Right, kind, "new")]), probe).Accuracy;
            output.WriteLine($"kind {kind}: after road-or-mud {Accuracy(RoadOrMud):F3}, after coin-or-not {Accuracy(CoinOrNot):F3}");
            Assert.True(Accuracy(RoadOrMud) > Accuracy(CoinOrNot));
        }
    }

    [Fact]
    public void Mutual_information_asks_what_the_kinds_disagree_about_and_shrinks_once_a_rater_is_placed()
    {
        var selector = new InformationGainSelector(InformationGainSelector.Scoring.MutualInformation);
        var agreed = TwoKindRaters.RandomPairs(40, new Random(4))
            .Select(p => TwoKindRaters.Label(p.Left, p.Right, 0, "new"))
            .Where(p => p.Label == TwoKindRaters.Label(p.Left, p.Right, 1, "new").Label)
            .Take(3).ToList();
        foreach (var labels in new[] { new List<PreferencePair>(), agreed })
        {
            var scores = InformationGainSelector.MutualInformation(fixture.Model, [CoinOrNot, RoadOrMud], labels, new Random(2));
            output.WriteLine($"{labels.Count} labels: mutual information coin-or-not {scores[0]:F4}, road-or-mud {scores[1]:F4}");
            Assert.True(scores[1] > scores[0]);
            Assert.All(scores, v => Assert.InRange(v, 0, Math.Log(2) + 1e-9));
            var context = new QueryContext(TwoKindRaters.Env, fixture.Model, "new", labels);
            Assert.Equal(1, selector.Select([CoinOrNot, RoadOrMud], 1, context, new Random(1)).Single());
        }
        // Once a rater's answers have placed z, an answer tells less than it did before any label.
        var decided = TwoKindRaters.RandomPairs(60, new Random(5)).Select(p => TwoKindRaters.Label(p.Left, p.Right, 1, "new")).ToList();
        var (_, std) = fixture.Model.LatentFor(decided);
        var pinned = InformationGainSelector.MutualInformation(fixture.Model, [RoadOrMud], decided, new Random(3))[0];
        var open = InformationGainSelector.MutualInformation(fixture.Model, [RoadOrMud], [], new Random(3))[0];
        output.WriteLine($"road-or-mud: {open:F4} with no labels, {pinned:F4} after 60 (posterior std {std.Average():F3})");
        Assert.True(pinned < open);
    }

    [Fact]
    public void Score_is_the_methods_formula()
    {
        double[][] std = [[1.0, 0.5], [0.5, 0.5]];
        // Variances: left [1, 0.25], right [0.25, 0.25]; mean over answers of the summed variance 0.875.
        double expected = Math.Log(2 * Math.PI * 0.875)
            - 0.5 * ((Math.Log(2 * Math.PI * 1.0) + Math.Log(2 * Math.PI * 0.25)) + 2 * Math.Log(2 * Math.PI * 0.25));
        Assert.Equal(expected, InformationGainSelector.Score(std), 12);
        // Narrower posteriors after either answer mean more information.
        Assert.True(InformationGainSelector.Score([[0.1, 0.1], [0.1, 0.1]]) > InformationGainSelector.Score([[0.9, 0.9], [0.9, 0.9]]));
    }

    [Fact]
    public void Without_a_per_rater_model_it_picks_at_random_deterministically()
    {
        var candidates = TwoKindRaters.RandomPairs(12, new Random(3)).Select(p => new CandidatePair(p.Left, p.Right)).ToList();
        var selector = new InformationGainSelector();
        var context = new QueryContext(TwoKindRaters.Env, null);
        var first = selector.Select(candidates, 5, context, new Random(10));
        Assert.Equal(first, selector.Select(candidates, 5, context, new Random(10)));
        Assert.Equal(5, first.Distinct().Count());
        Assert.All(first, i => Assert.InRange(i, 0, 11));
        Assert.Equal(12, selector.Select(candidates, 50, context, new Random(10)).Count);
        Assert.Empty(selector.Select([], 3, context, new Random(10)));
        Assert.Equal("info-gain", selector.Name);
    }
}
