using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.QuerySelection;

namespace PreferenceStudio.Tests.Learning;

public class QuerySelectionTests
{
    private static readonly Segment Seg = Segment.Discrete([[0, 0]], []);

    /// <summary>An ensemble whose members give fixed P(right) per candidate: [member][candidate].</summary>
    private sealed class FixedEnsemble(double[][] members) : IEnsembleRewardModel
    {
        public int MemberCount => members.Length;
        public string ModelType => "fixed";
        public string EnvironmentName => "none";
        public double[][] MemberPreferRightProbabilities(IReadOnlyList<PreferencePair> pairs) => members.Select(m => m[..pairs.Count]).ToArray();
        public double[] StepRewards(IReadOnlyList<float[]> stepFeatures) => throw new NotSupportedException();
        public double SegmentReturn(Segment segment) => throw new NotSupportedException();
        public double[] SegmentReturns(IReadOnlyList<Segment> segments) => throw new NotSupportedException();
        public double PreferRightProbability(Segment left, Segment right) => throw new NotSupportedException();
        public double[] PreferRightProbabilities(IReadOnlyList<PreferencePair> pairs) => throw new NotSupportedException();
        public void Save(string path) => throw new NotSupportedException();
        public void Dispose() { }
    }

    private static List<CandidatePair> Candidates(int n) => Enumerable.Range(0, n).Select(_ => new CandidatePair(Seg, Seg)).ToList();

    private static QueryContext Context(IRewardModel? model) => new(DeliveryGridworld.Standard, model);

    [Fact]
    public void Disagreement_asks_first_about_the_pair_the_members_disagree_on_most()
    {
        // Candidate 2 splits the members (std 0.4), candidate 0 a little (std 0.05), 1 and 3 not at all; candidate 3's
        // members are all sure but agree, so confidence alone must not rank it.
        var model = new FixedEnsemble([
            [0.50, 0.7, 0.1, 0.99],
            [0.60, 0.7, 0.9, 0.99],
            [0.55, 0.7, 0.5, 0.99],
        ]);
        var picked = new DisagreementSelector().Select(Candidates(4), 2, Context(model), new Random(1));
        Assert.Equal([2, 0], picked);
        var scores = DisagreementSelector.Disagreement(model, Candidates(4));
        Assert.Equal(Math.Sqrt(0.32 / 3), scores[2], 12);
        Assert.Equal(0, scores[3], 12);
    }

    [Fact]
    public void Disagreement_falls_back_to_random_without_an_ensemble()
    {
        var candidates = Candidates(20);
        var random = new RandomSelector().Select(candidates, 5, Context(null), new Random(9));
        Assert.Equal(random, new DisagreementSelector().Select(candidates, 5, Context(null), new Random(9)));
        var single = new FixedEnsemble([[0.1, 0.9]]);
        Assert.Equal(random, new DisagreementSelector().Select(candidates, 5, Context(single), new Random(9)));
    }

    [Fact]
    public void Random_picks_distinct_candidates_deterministically_per_seed()
    {
        var candidates = Candidates(50);
        var a = new RandomSelector().Select(candidates, 10, Context(null), new Random(4));
        Assert.Equal(10, a.Distinct().Count());
        Assert.All(a, i => Assert.InRange(i, 0, 49));
        Assert.Equal(a, new RandomSelector().Select(candidates, 10, Context(null), new Random(4)));
        Assert.NotEqual(a, new RandomSelector().Select(candidates, 10, Context(null), new Random(5)));
        Assert.Equal(3, new RandomSelector().Select(Candidates(3), 10, Context(null), new Random(4)).Count);
    }

    [Fact]
    public void A_trained_ensemble_never_disagrees_about_a_segment_against_itself()
    {
        var options = new RewardModelOptions { Device = "cpu", Seed = 2, Epochs = 10, HiddenSizes = [16], EnsembleSize = 3 };
        using var model = new BradleyTerryTrainer().Train(DeliveryGridworld.Standard, OraclePairs.Make(100, seed: 51), options);
        var pairs = OraclePairs.Make(10, seed: 52);
        var candidates = pairs.Select(p => new CandidatePair(p.Left, p.Right)).ToList();
        candidates.Insert(0, new CandidatePair(pairs[0].Left, pairs[0].Left));
        var picked = new DisagreementSelector().Select(candidates, candidates.Count, Context(model), new Random(1));
        var scores = DisagreementSelector.Disagreement((IEnsembleRewardModel)model, candidates);
        Assert.Equal(0, scores[0]);
        // Other pairs whose segments have the same step features tie with it at 0; every pair with any spread comes first.
        int disagreeing = scores.Count(s => s > 0);
        Assert.True(disagreeing >= 5, $"only {disagreeing} of {candidates.Count} pairs split the members");
        Assert.All(picked.Take(disagreeing), i => Assert.True(scores[i] > 0));
        Assert.Equal(0, picked[disagreeing]);
    }
}
