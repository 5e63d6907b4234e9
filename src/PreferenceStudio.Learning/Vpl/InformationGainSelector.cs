using PreferenceStudio.Environments;
using PreferenceStudio.Learning.QuerySelection;

namespace PreferenceStudio.Learning.Vpl;

/// <summary>
/// VPL's active query selection ("info-gain"; Poddar et al. 2024, METHODS.md section 1): asks the rater the pairs
/// whose possible answers would tell the most about their latent z. For each candidate and each answer (left, right)
/// the encoder gives q(z | rater's labels so far + that candidate with that answer), and the candidate scores
/// <c>log(2 pi mean_labels(sum var)) - mean_labels(sum log(2 pi var))</c>, sums over latent dimensions, means over
/// the two answers, var the posterior variances. Higher is better. Without a per-rater model (none trained yet, or
/// another model type) it falls back to a random choice.
/// </summary>
/// <remarks>
/// One guard beyond the formula: with a <see cref="VplRewardModel"/>, a candidate whose two segments have the same
/// step features scores negative infinity (asked last), because every answer gives the encoder the same input and so
/// no information about z; the variances the formula would read for it are extrapolations.
/// </remarks>
public sealed class InformationGainSelector : IQuerySelector
{
    /// <summary>How a candidate's information about z is scored.</summary>
    public enum Scoring
    {
        /// <summary>METHODS.md's formula over the posterior variances of q(z | labels + the candidate's answer).</summary>
        PosteriorVariance,

        /// <summary>
        /// The mutual information between the answer and z (BALD): H[E_z P(right | z)] - E_z H[P(right | z)], z drawn
        /// from q(z | the rater's labels), or, before the rater has answered anything, the latents of the raters the
        /// model was trained on. It asks where plausible raters would answer differently, which does not depend on
        /// the encoder's variance tracking that uncertainty (it narrows onto one kind instead; README, "Measured").
        /// </summary>
        MutualInformation,
    }

    /// <summary>Latent draws per candidate scoring under <see cref="Scoring.MutualInformation"/>.</summary>
    public const int LatentSamples = 16;

    public InformationGainSelector(Scoring scoring = Scoring.PosteriorVariance) => Method = scoring;

    public Scoring Method { get; }

    /// <summary>The <see cref="Name"/> of this selector.</summary>
    public const string SelectorName = "info-gain";

    public string Name => SelectorName;

    public IReadOnlyList<int> Select(IReadOnlyList<CandidatePair> candidates, int count, QueryContext context, Random rng)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        int take = Math.Min(count, candidates.Count);
        if (take == 0) return [];
        if (context.Model is not IPerRaterRewardModel model)
        {
            var order = Enumerable.Range(0, candidates.Count).ToArray();
            rng.Shuffle(order);
            return order[..take];
        }
        var scores = Method == Scoring.MutualInformation && model is VplRewardModel vpl
            ? MutualInformation(vpl, candidates, context.RaterLabels ?? [], new Random(rng.Next()))
            : Scores(model, candidates, context.RaterLabels ?? [], context.Rater);
        // Stable order: equal scores keep the candidates' own order, so the choice is deterministic.
        return Enumerable.Range(0, candidates.Count)
            .OrderByDescending(i => double.IsNaN(scores[i]) ? double.NegativeInfinity : scores[i])
            .ThenBy(i => i)
            .Take(take)
            .ToArray();
    }

    /// <summary>The score of every candidate for a rater who has given <paramref name="raterLabels"/> so far.</summary>
    public static double[] Scores(IPerRaterRewardModel model, IReadOnlyList<CandidatePair> candidates, IReadOnlyList<PreferencePair> raterLabels, string? rater = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(raterLabels);
        if (model is VplRewardModel vpl)
        {
            var stds = vpl.PosteriorStdWithEach(raterLabels, candidates.Select(c => (c.Left, c.Right)).ToList());
            return stds.Select(s => s is null ? double.NegativeInfinity : Score(s)).ToArray();
        }
        return candidates.Select(c => Score(
        [
            model.LatentFor([.. raterLabels, new PreferencePair(c.Left, c.Right, PreferenceChoice.Left, rater)]).Std,
            model.LatentFor([.. raterLabels, new PreferencePair(c.Left, c.Right, PreferenceChoice.Right, rater)]).Std,
        ])).ToArray();
    }

    /// <summary>Mutual information between each candidate's answer and the rater's latent (see <see cref="Scoring.MutualInformation"/>).</summary>
    public static double[] MutualInformation(VplRewardModel model, IReadOnlyList<CandidatePair> candidates, IReadOnlyList<PreferencePair> raterLabels, Random rng)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(candidates);
        var latents = new List<double[]>();
        if (raterLabels.Any(p => p.RightTarget is not null))
        {
            var (mean, std) = model.LatentFor(raterLabels);
            for (int s = 0; s < LatentSamples; s++)
                latents.Add(mean.Select((m, d) => m + std[d] * Gaussian(rng)).ToArray());
        }
        else latents.AddRange(model.RaterLatents.Select(r => r.Mean));
        if (latents.Count == 0) latents.Add(new double[model.LatentSize]);

        var pairs = candidates.Select(c => new PreferencePair(c.Left, c.Right, PreferenceChoice.Equal)).ToList();
        var sum = new double[candidates.Count];
        var entropySum = new double[candidates.Count];
        foreach (var z in latents)
        {
            var p = model.ForLatent(z).PreferRightProbabilities(pairs);
            for (int i = 0; i < p.Length; i++)
            {
                sum[i] += p[i];
                entropySum[i] += Entropy(p[i]);
            }
        }
        return sum.Select((s, i) => Entropy(s / latents.Count) - entropySum[i] / latents.Count).ToArray();
    }

    private static double Entropy(double p)
    {
        p = Math.Clamp(p, 1e-12, 1 - 1e-12);
        return -(p * Math.Log(p) + (1 - p) * Math.Log(1 - p));
    }

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    /// <summary>
    /// METHODS.md's score from the posterior standard deviations under each possible answer ([answer][dimension]):
    /// log(2 pi * mean over answers of sum over dimensions of var) - mean over answers of sum over dimensions of log(2 pi var).
    /// </summary>
    public static double Score(IReadOnlyList<double[]> stdByAnswer)
    {
        ArgumentNullException.ThrowIfNull(stdByAnswer);
        if (stdByAnswer.Count == 0) throw new ArgumentException("A score needs the posterior of at least one answer.", nameof(stdByAnswer));
        double meanSumVar = 0, meanSumLog = 0;
        foreach (var std in stdByAnswer)
        {
            double sumVar = 0, sumLog = 0;
            foreach (double s in std)
            {
                double v = s * s;
                sumVar += v;
                sumLog += Math.Log(2 * Math.PI * v);
            }
            meanSumVar += sumVar / stdByAnswer.Count;
            meanSumLog += sumLog / stdByAnswer.Count;
        }
        return Math.Log(2 * Math.PI * meanSumVar) - meanSumLog;
    }
}
