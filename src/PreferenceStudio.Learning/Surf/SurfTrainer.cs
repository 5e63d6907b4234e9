using PreferenceStudio.Environments;

namespace PreferenceStudio.Learning.Surf;

/// <summary>
/// Wraps any reward-model trainer with SURF (Park et al. 2022): temporal cropping of the labelled pairs, and
/// pseudo-labels on pairs of unlabelled segments the model is confident about. SURF interleaves the two inside each
/// training step; here it is done in two passes so that it works unchanged for every model type: train on the labels
/// and their crops, pseudo-label unlabelled pairs with that model, train again on labels, crops and pseudo-labels.
/// The cost is a second training run. For a per-rater model each pseudo-labelled pair is given to a rater of the
/// labelled pairs and labelled by that rater's reward.
/// </summary>
public sealed class SurfTrainer(IRewardModelTrainer inner, IReadOnlyList<Segment> unlabelled, SurfOptions options, int seed) : IRewardModelTrainer
{
    private readonly SurfOptions _options = options.Validated();

    public string ModelType => inner.ModelType;

    /// <summary>Pseudo-labels the last <see cref="Train"/> added.</summary>
    public int PseudoLabels { get; private set; }

    /// <summary>Cropped pairs the last <see cref="Train"/> added.</summary>
    public int Crops { get; private set; }

    public IRewardModel Train(IPreferenceEnvironment env, IReadOnlyList<PreferencePair> train, RewardModelOptions options,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        var rng = new Random(seed);
        var labelled = train.Where(p => p.RightTarget is not null).ToList();
        var crops = Enumerable.Range(0, _options.CropsPerPair).SelectMany(_ => labelled.Select(p => Crop(p, _options.CropFraction, rng))).ToList();
        Crops = crops.Count;
        var augmented = train.Concat(crops).ToList();
        var first = inner.Train(env, augmented, options, null, cancellationToken);
        List<PreferencePair> pseudo;
        try
        {
            var raters = labelled.Select(p => p.Rater).Distinct().ToList();
            var candidates = RandomPairs(unlabelled, labelled.Count * _options.UnlabelledRatio, raters, rng);
            pseudo = PseudoLabel(first, candidates, _options.Threshold, _options.PseudoWeight);
        }
        finally
        {
            first.Dispose();
        }
        PseudoLabels = pseudo.Count;
        return inner.Train(env, augmented.Concat(pseudo).ToList(), options, progress, cancellationToken);
    }

    /// <summary>
    /// The pairs <paramref name="model"/> is confident about, labelled with its answer: Right when P(right) &gt;= tau,
    /// Left when P(right) &lt;= 1 - tau, each with <paramref name="weight"/>; the rest are dropped. A pair with a
    /// rater is judged by that rater's reward when the model is per-rater.
    /// </summary>
    public static List<PreferencePair> PseudoLabel(IRewardModel model, IReadOnlyList<PreferencePair> candidates, double threshold, double weight)
    {
        var result = new List<PreferencePair>();
        foreach (var group in candidates.GroupBy(p => p.Rater))
        {
            var pairs = group.ToList();
            var judge = group.Key is { } rater && model is IPerRaterRewardModel perRater && perRater.Raters.Contains(rater)
                ? perRater.ForRater(rater)
                : model;
            var p = judge.PreferRightProbabilities(pairs);
            for (int i = 0; i < pairs.Count; i++)
            {
                if (p[i] >= threshold) result.Add(pairs[i] with { Label = PreferenceChoice.Right, Weight = weight });
                else if (p[i] <= 1 - threshold) result.Add(pairs[i] with { Label = PreferenceChoice.Left, Weight = weight });
            }
        }
        return result;
    }

    /// <summary>The pair with each segment cut to its own random length in [(1 - fraction) L, L] at a random offset.</summary>
    public static PreferencePair Crop(PreferencePair pair, double fraction, Random rng) =>
        pair with { Left = Cut(pair.Left, fraction, rng), Right = Cut(pair.Right, fraction, rng) };

    private static Segment Cut(Segment segment, double fraction, Random rng)
    {
        int shortest = Math.Max(1, (int)Math.Ceiling(segment.Length * (1 - fraction)));
        int take = rng.Next(shortest, segment.Length + 1);
        int start = rng.Next(segment.Length - take + 1);
        return new Segment(segment.States[start..(start + take + 1)], segment.Actions[start..(start + take)]);
    }

    private static List<PreferencePair> RandomPairs(IReadOnlyList<Segment> segments, int count, IReadOnlyList<string?> raters, Random rng)
    {
        var pairs = new List<PreferencePair>(count);
        if (segments.Count < 2 || raters.Count == 0) return pairs;
        for (int k = 0; k < count; k++)
        {
            int a = rng.Next(segments.Count), b;
            do b = rng.Next(segments.Count); while (b == a);
            // The label is a placeholder: PseudoLabel replaces it or drops the pair.
            pairs.Add(new PreferencePair(segments[a], segments[b], PreferenceChoice.Equal, raters[rng.Next(raters.Count)]));
        }
        return pairs;
    }
}
