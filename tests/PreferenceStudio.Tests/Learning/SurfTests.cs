using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Surf;

namespace PreferenceStudio.Tests.Learning;

public class SurfTests
{
    [Fact]
    public void Pseudo_labels_keep_only_pairs_at_or_beyond_the_threshold_and_take_the_models_side()
    {
        double[] p = [0.99, 0.5, 0.02, 0.94, 0.96, 0.05, 0.051, 0.95];
        var candidates = OraclePairs.Make(p.Length, seed: 3).Select((pair, i) => pair with { Label = PreferenceChoice.Equal, PairKey = $"c{i}" }).ToList();
        using var model = new FixedProbabilities(p);
        var labels = SurfTrainer.PseudoLabel(model, candidates, threshold: 0.95, weight: 0.5);

        Assert.Equal(["c0", "c2", "c4", "c5", "c7"], labels.Select(l => l.PairKey));
        Assert.Equal([PreferenceChoice.Right, PreferenceChoice.Left, PreferenceChoice.Right, PreferenceChoice.Left, PreferenceChoice.Right],
            labels.Select(l => l.Label));
        Assert.All(labels, l => Assert.Equal(0.5, l.Weight));
        // A stricter threshold keeps a subset.
        var strict = SurfTrainer.PseudoLabel(model, candidates, threshold: 0.98, weight: 1);
        Assert.Equal(["c0", "c2"], strict.Select(l => l.PairKey));
    }

    [Fact]
    public void Pseudo_labels_of_a_trained_model_are_all_confident()
    {
        var env = DeliveryGridworld.Standard;
        var train = OraclePairs.Make(150, seed: 4);
        using var model = RewardModels.Trainer("bt").Train(env, train, new RewardModelOptions { Epochs = 60, Device = "cpu", Seed = 2 });
        var candidates = OraclePairs.Make(400, seed: 5);
        var labels = SurfTrainer.PseudoLabel(model, candidates, threshold: 0.9, weight: 1);
        var probabilities = model.PreferRightProbabilities(labels);
        Assert.NotEmpty(labels);
        Assert.True(labels.Count < candidates.Count, "some pairs must be too close to call");
        for (int i = 0; i < labels.Count; i++)
            Assert.True(labels[i].Label == PreferenceChoice.Right ? probabilities[i] >= 0.9 : probabilities[i] <= 0.1,
                $"pseudo-label {labels[i].Label} with P(right) {probabilities[i]:F3}");
        int confident = model.PreferRightProbabilities(candidates).Count(q => q >= 0.9 || q <= 0.1);
        Assert.Equal(confident, labels.Count);
    }

    [Fact]
    public void Crops_are_contiguous_pieces_of_each_segment_within_the_allowed_length()
    {
        var rng = new Random(9);
        var pairs = OraclePairs.Make(40, seed: 6, length: 10);
        Assert.Contains(pairs, p => p.Left.Length == 10);
        var lengths = new HashSet<int>();
        foreach (var pair in pairs)
        {
            var crop = SurfTrainer.Crop(pair, 0.3, rng);
            Assert.Equal(pair.Label, crop.Label);
            foreach (var (piece, whole) in new[] { (crop.Left, pair.Left), (crop.Right, pair.Right) })
            {
                Assert.InRange(piece.Length, (int)Math.Ceiling(0.7 * whole.Length), whole.Length);
                // Some offset of the whole segment holds the piece step for step (gridworld states repeat, so try each).
                bool Matches(int o) => Enumerable.Range(0, piece.Length + 1).All(t => whole.States[o + t].AsSpan().SequenceEqual(piece.States[t]))
                    && Enumerable.Range(0, piece.Length).All(t => whole.Actions[o + t].AsSpan().SequenceEqual(piece.Actions[t]));
                Assert.Contains(Enumerable.Range(0, whole.Length - piece.Length + 1), Matches);
                if (whole.Length == 10) lengths.Add(piece.Length);
            }
        }
        // Lengths vary over the whole allowed range.
        Assert.Equal([7, 8, 9, 10], lengths.Order());
    }

    [Fact]
    public void Surf_trainer_adds_crops_and_pseudo_labels_and_returns_a_model_of_the_inner_type()
    {
        var env = DeliveryGridworld.Standard;
        var train = OraclePairs.Make(80, seed: 7);
        var pool = OraclePairs.Make(200, seed: 8).SelectMany(p => new[] { p.Left, p.Right }).ToList();
        var surf = new SurfTrainer(RewardModels.Trainer("bt"), pool, new SurfOptions(Threshold: 0.9), seed: 1);
        using var model = surf.Train(env, train, new RewardModelOptions { Epochs = 40, Device = "cpu" });
        Assert.Equal("bt", model.ModelType);
        Assert.Equal(train.Count(p => p.RightTarget is not null), surf.Crops);
        Assert.InRange(surf.PseudoLabels, 1, 4 * 80);
    }

    /// <summary>A model whose P(right) for the i-th pair asked is a fixed list's i-th value.</summary>
    private sealed class FixedProbabilities(double[] probabilities) : IRewardModel
    {
        public string ModelType => "fixed";
        public string EnvironmentName => DeliveryGridworld.Standard.Name;
        public double[] PreferRightProbabilities(IReadOnlyList<PreferencePair> pairs) => probabilities.Take(pairs.Count).ToArray();
        public double[] StepRewards(IReadOnlyList<float[]> stepFeatures) => throw new NotSupportedException();
        public double SegmentReturn(Segment segment) => throw new NotSupportedException();
        public double[] SegmentReturns(IReadOnlyList<Segment> segments) => throw new NotSupportedException();
        public double PreferRightProbability(Segment left, Segment right) => throw new NotSupportedException();
        public void Save(string path) => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }
}
