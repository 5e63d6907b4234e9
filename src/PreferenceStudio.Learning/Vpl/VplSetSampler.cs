namespace PreferenceStudio.Learning.Vpl;

/// <summary>One training example of VPL: a rater's context labels and a disjoint set of that rater's target labels.</summary>
internal sealed record VplTrainingSet(int[] Context, int[] Targets);

/// <summary>
/// Draws the context/target sets of one epoch. Every label is a target exactly once per epoch (each rater's labels
/// are shuffled and cut into target sets); each target set gets a context of 1..MaxContext other labels of the same
/// rater, drawn at random, so the encoder learns to infer z from few labels as well as many. A rater with a single
/// label gets an empty context (the encoder's prior answer).
/// </summary>
internal sealed class VplSetSampler(IReadOnlyList<int[]> labelsByRater, int maxContext, int targetSize)
{
    /// <summary>Number of sets in every epoch.</summary>
    public int SetsPerEpoch { get; } = labelsByRater.Sum(r => (r.Length + targetSize - 1) / targetSize);

    public List<VplTrainingSet> Epoch(Random rng)
    {
        var sets = new List<VplTrainingSet>(SetsPerEpoch);
        foreach (var labels in labelsByRater)
        {
            var order = labels.ToArray();
            rng.Shuffle(order);
            for (int start = 0; start < order.Length; start += targetSize)
            {
                int take = Math.Min(targetSize, order.Length - start);
                var targets = order[start..(start + take)];
                var others = order[..start].Concat(order[(start + take)..]).ToArray();
                int size = others.Length == 0 ? 0 : rng.Next(1, Math.Min(maxContext, others.Length) + 1);
                // Partial Fisher-Yates: the first `size` entries become a uniform sample without repeats.
                for (int i = 0; i < size; i++)
                {
                    int j = rng.Next(i, others.Length);
                    (others[i], others[j]) = (others[j], others[i]);
                }
                sets.Add(new VplTrainingSet(others[..size], targets));
            }
        }
        rng.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sets));
        return sets;
    }
}
