namespace PreferenceStudio.Learning.QuerySelection;

/// <summary>
/// "disagreement": the candidates on which the ensemble's members disagree most, measured as the standard deviation
/// across members of P(right preferred) (B-Pref's disagreement sampling), highest first; equal scores keep candidate
/// order. Without a model (before the first one is trained), or when the model is not an
/// <see cref="IEnsembleRewardModel"/> with at least two members, there is no disagreement to measure and the selector
/// falls back to <see cref="RandomSelector"/>.
/// </summary>
public sealed class DisagreementSelector : IQuerySelector
{
    public const string SelectorName = "disagreement";

    private readonly RandomSelector _fallback = new();

    public string Name => SelectorName;

    public IReadOnlyList<int> Select(IReadOnlyList<CandidatePair> candidates, int count, QueryContext context, Random rng)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        if (context.Model is not IEnsembleRewardModel { MemberCount: >= 2 } ensemble || candidates.Count == 0)
            return _fallback.Select(candidates, count, context, rng);
        var scores = Disagreement(ensemble, candidates);
        return Enumerable.Range(0, candidates.Count)
            .OrderByDescending(i => scores[i]).ThenBy(i => i)
            .Take(count).ToArray();
    }

    /// <summary>Population standard deviation across members of P(right) for each candidate.</summary>
    public static double[] Disagreement(IEnsembleRewardModel model, IReadOnlyList<CandidatePair> candidates)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(candidates);
        var pairs = candidates.Select(c => new PreferencePair(c.Left, c.Right, Environments.PreferenceChoice.Equal)).ToList();
        var p = model.MemberPreferRightProbabilities(pairs);
        var result = new double[candidates.Count];
        for (int i = 0; i < result.Length; i++)
        {
            double mean = 0, sq = 0;
            for (int m = 0; m < p.Length; m++) mean += p[m][i];
            mean /= p.Length;
            for (int m = 0; m < p.Length; m++) sq += (p[m][i] - mean) * (p[m][i] - mean);
            result[i] = Math.Sqrt(sq / p.Length);
        }
        return result;
    }
}
