namespace PreferenceStudio.Learning.QuerySelection;

/// <summary>"random": a uniformly random subset of the candidates (B-Pref's baseline), in random order.</summary>
public sealed class RandomSelector : IQuerySelector
{
    public const string SelectorName = "random";

    public string Name => SelectorName;

    public IReadOnlyList<int> Select(IReadOnlyList<CandidatePair> candidates, int count, QueryContext context, Random rng)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var order = Enumerable.Range(0, candidates.Count).ToArray();
        // A partial Fisher-Yates shuffle: only the first `count` places need drawing.
        int take = Math.Min(count, order.Length);
        for (int i = 0; i < take; i++)
        {
            int j = rng.Next(i, order.Length);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order[..take];
    }
}
