using PreferenceStudio.Environments.Planning;

namespace PreferenceStudio.Environments.Teachers;

/// <summary>Settings of a simulated rater population (<see cref="RaterPopulation"/>).</summary>
/// <param name="KindSizes">Raters of each kind (their count is the number of kinds); unequal sizes are the point.</param>
/// <param name="MinLabels">Fewest labels a rater gives; each rater's count is uniform in [MinLabels, MaxLabels].</param>
/// <param name="Beta">Boltzmann rationality of an ordinary rater, per standard deviation of their kind's segment returns.</param>
/// <param name="NoisyShare">Share of raters (in every kind) who answer with <see cref="NoisyBeta"/> instead.</param>
/// <param name="Pool">Segments the pairs are drawn from (random rollouts cut to <see cref="SegmentLength"/>).</param>
public sealed record PopulationSettings(
    int[] KindSizes,
    int MinLabels = 40,
    int MaxLabels = 100,
    int SegmentLength = 3,
    double Beta = 2,
    double NoisyShare = 0.2,
    double NoisyBeta = 0.5,
    int Pool = 600,
    int Seed = 1)
{
    public void Validate()
    {
        if (KindSizes.Length < 1 || KindSizes.Any(k => k < 1)) throw new ArgumentException("Each kind needs at least one rater.");
        if (MinLabels < 2 || MaxLabels < MinLabels) throw new ArgumentException("Labels per rater: at least 2, and the most at least the fewest.");
        if (SegmentLength < 1) throw new ArgumentException("Segments need at least one step.");
        if (!(Beta > 0) || !(NoisyBeta >= 0) || double.IsInfinity(Beta)) throw new ArgumentException("Beta must be positive and finite, the noisy raters' beta at least 0.");
        if (NoisyShare is < 0 or > 1) throw new ArgumentException("The noisy share lies in [0, 1].");
        if (Pool < 4) throw new ArgumentException("The pool needs at least 4 segments.");
    }
}

/// <summary>One simulated rater: their kind, how rational they are, and what they answered.</summary>
public sealed record PopulationRater(string Name, int Kind, double Beta, bool Noisy, IReadOnlyList<PopulationLabel> Labels);

/// <summary>One answer, with what the rater's kind truly prefers (by its reward, for oracle accuracy).</summary>
public sealed record PopulationLabel(Segment Left, Segment Right, PreferenceChoice Answer, PreferenceChoice? KindPrefers);

/// <summary>A population and the facts needed to judge a model on it.</summary>
/// <param name="KindWeights">Each kind's weight on each reward factor (factor order of the environment), scaled so its segment returns have standard deviation 1 on the pool.</param>
public sealed record Population(IPreferenceEnvironment Environment, PopulationSettings Settings, double[][] KindWeights, IReadOnlyList<PopulationRater> Raters)
{
    /// <summary>The segments every pair was drawn from.</summary>
    public IReadOnlyList<Segment> Segments { get; init; } = [];

    /// <summary>
    /// A further answer of <paramref name="rater"/> (a new query), drawn as the population's answers were: Boltzmann
    /// on the rater's kind's reward at the rater's beta. For asking raters who were held out of training.
    /// </summary>
    public PopulationLabel Ask(PopulationRater rater, Segment left, Segment right, Random rng)
    {
        var (answer, prefers) = RaterPopulation.Answer(KindWeights[rater.Kind], rater.Beta, Environment.SegmentFactors(left), Environment.SegmentFactors(right), rng);
        return new PopulationLabel(left, right, answer, prefers);
    }

    /// <summary>Accuracy of predicting each decisive answer by what the rater's own kind prefers: what a model that knows the kinds can reach.</summary>
    public double OracleAccuracy => Score(l => l.KindPrefers);

    /// <summary>Accuracy of one reward for everybody: the kinds' rewards averaged, weighted by kind size.</summary>
    public double PooledAccuracy
    {
        get
        {
            var mean = new double[KindWeights[0].Length];
            for (int k = 0; k < KindWeights.Length; k++)
                for (int f = 0; f < mean.Length; f++) mean[f] += KindWeights[k][f] * Settings.KindSizes[k] / Settings.KindSizes.Sum();
            return Score(l => RaterPopulation.Prefers(Environment, mean, l.Left, l.Right));
        }
    }

    private double Score(Func<PopulationLabel, PreferenceChoice?> predict)
    {
        double hits = 0;
        int n = 0;
        foreach (var label in Raters.SelectMany(r => r.Labels).Where(l => l.Answer is PreferenceChoice.Left or PreferenceChoice.Right))
        {
            var p = predict(label);
            hits += p == label.Answer ? 1 : p is PreferenceChoice.Left or PreferenceChoice.Right ? 0 : 0.5;
            n++;
        }
        return n == 0 ? double.NaN : hits / n;
    }
}

/// <summary>
/// A rater population for testing per-rater reward models, independent of the kinds `studio bench vpl` uses: every
/// kind weighs the environment's reward factors (<see cref="IPreferenceEnvironment.SegmentFactors"/>) linearly; kind 0
/// follows each factor's stated direction, every other kind reverses a different half of the factors (so kinds
/// conflict), and each kind draws its own magnitudes. Raters answer random pairs of short segments from random
/// rollouts with Boltzmann choices, P(right) = sigmoid(beta * (R(right) - R(left))), each kind's returns scaled to
/// standard deviation 1 on the pool so beta means the same for every kind. A share of raters is noisy (a lower beta).
/// Exact ties of the kind's return are answered "equal".
/// </summary>
public static class RaterPopulation
{
    public static Population Generate(IPreferenceEnvironment env, PopulationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var rng = new Random(settings.Seed);
        var pool = new List<Segment>();
        while (pool.Count < settings.Pool)
            foreach (var trajectory in Rollouts.CollectRandom(env, 8, rng))
                pool.AddRange(SegmentCutter.Cut(env, trajectory, settings.SegmentLength));
        pool = pool.Take(settings.Pool).ToList();
        var factors = pool.Select(env.SegmentFactors).ToArray();

        int kinds = settings.KindSizes.Length, f = env.Factors.Count;
        var weights = new double[kinds][];
        var flipped = Enumerable.Range(0, f).ToArray();
        for (int k = 0; k < kinds; k++)
        {
            // Kind 0 agrees with the stated directions; each other kind reverses a freshly drawn half of the factors.
            rng.Shuffle(flipped);
            var reversed = k == 0 ? [] : flipped.Take(Math.Max(1, f / 2)).ToHashSet();
            weights[k] = Enumerable.Range(0, f).Select(i =>
            {
                double sign = env.Factors[i].Direction == FactorDirection.HigherIsBetter ? 1 : -1;
                double magnitude = Math.Exp(0.5 * Normal(rng)) / (Std(factors.Select(x => x[i])) + 1e-9);
                return (reversed.Contains(i) ? -sign : sign) * magnitude;
            }).ToArray();
            double scale = Std(factors.Select(x => Dot(weights[k], x)));
            if (scale > 0) weights[k] = weights[k].Select(w => w / scale).ToArray();
        }

        var raters = new List<PopulationRater>();
        int index = 0;
        for (int k = 0; k < kinds; k++)
        {
            int noisy = (int)Math.Round(settings.NoisyShare * settings.KindSizes[k]);
            for (int j = 0; j < settings.KindSizes[k]; j++)
            {
                bool isNoisy = j < noisy;
                double beta = isNoisy ? settings.NoisyBeta : settings.Beta;
                int count = rng.Next(settings.MinLabels, settings.MaxLabels + 1);
                var labels = new List<PopulationLabel>(count);
                for (int n = 0; n < count; n++)
                {
                    int a = rng.Next(pool.Count), b = rng.Next(pool.Count - 1);
                    if (b >= a) b++;
                    var (answer, prefers) = Answer(weights[k], beta, factors[a], factors[b], rng);
                    labels.Add(new PopulationLabel(pool[a], pool[b], answer, prefers));
                }
                raters.Add(new PopulationRater($"p{index++:000}", k, beta, isNoisy, labels));
            }
        }
        // Rater names carry no kind: shuffle who gets which name.
        var names = raters.Select(r => r.Name).ToArray();
        rng.Shuffle(names);
        return new Population(env, settings, weights, raters.Select((r, i) => r with { Name = names[i] }).OrderBy(r => r.Name, StringComparer.Ordinal).ToList())
        {
            Segments = pool,
        };
    }

    /// <summary>
    /// A Boltzmann answer to one pair by a linear reward: P(right) = sigmoid(beta (R(right) - R(left))); an exact tie is
    /// "equal" (and draws nothing from <paramref name="rng"/>). Also returns what the reward itself prefers.
    /// </summary>
    public static (PreferenceChoice Answer, PreferenceChoice Prefers) Answer(double[] weights, double beta, double[] leftFactors, double[] rightFactors, Random rng)
    {
        double d = Dot(weights, rightFactors) - Dot(weights, leftFactors);
        var prefers = d > 0 ? PreferenceChoice.Right : d < 0 ? PreferenceChoice.Left : PreferenceChoice.Equal;
        var answer = d == 0 ? PreferenceChoice.Equal
            : rng.NextDouble() < 1 / (1 + Math.Exp(-beta * d)) ? PreferenceChoice.Right : PreferenceChoice.Left;
        return (answer, prefers);
    }

    /// <summary>What a linear reward with <paramref name="weights"/> prefers between two segments.</summary>
    public static PreferenceChoice Prefers(IPreferenceEnvironment env, double[] weights, Segment left, Segment right)
    {
        double d = Dot(weights, env.SegmentFactors(right)) - Dot(weights, env.SegmentFactors(left));
        return d > 0 ? PreferenceChoice.Right : d < 0 ? PreferenceChoice.Left : PreferenceChoice.Equal;
    }

    private static double Dot(double[] w, double[] x)
    {
        double s = 0;
        for (int i = 0; i < w.Length; i++) s += w[i] * x[i];
        return s;
    }

    private static double Std(IEnumerable<double> values)
    {
        var v = values.ToArray();
        double mean = v.Average();
        return Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length);
    }

    private static double Normal(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
