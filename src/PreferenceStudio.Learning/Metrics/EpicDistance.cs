using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Planning;

namespace PreferenceStudio.Learning.Metrics;

/// <summary>
/// States, actions and transitions that EPIC averages over: <see cref="Coverage"/> is where the canonical rewards are
/// correlated (real transitions), <see cref="Expectation"/> the (A, S') draws from D_A x D_S that estimate
/// E[R(x, A, S')] for every state x, shared by all x.
/// </summary>
public sealed record EpicSamples(IReadOnlyList<EpicTransition> Coverage, IReadOnlyList<(double[] Action, double[] Next)> Expectation);

/// <summary>
/// EPIC pseudometric between two rewards (Gleave et al. 2020; METHODS.md section 4): canonicalise each,
/// C(R)(s,a,s') = R(s,a,s') + gamma E[R(s',A,S')] - E[R(s,A,S')] - gamma E[R(S,A,S')] with S, S' ~ D_S and A ~ D_A
/// independent, then D = sqrt((1 - rho) / 2) with rho the Pearson correlation of the canonical rewards over the
/// coverage transitions. 0 for rewards equal up to positive scale and potential shaping, 1 for opposite rewards.
/// gamma defaults to 1: the studio's tasks are undiscounted. See <see cref="EpicReward"/> for how rewards are read on
/// the transitions that canonicalisation invents. NaN when either canonical reward is constant over the coverage
/// (correlation undefined).
/// </summary>
public static class EpicDistance
{
    private const int Chunk = 1 << 16;

    /// <summary>
    /// Exact EPIC over a tabular environment: D_S uniform over its valid states (terminal ones included), D_A uniform
    /// over its actions, coverage every valid (s, a) with its true successor, equally weighted.
    /// </summary>
    public static double Tabular(ITabularEnvironment env, EpicReward first, EpicReward second, double gamma = 1.0)
    {
        ArgumentNullException.ThrowIfNull(env);
        var table = TransitionTable.Build(env);
        var states = Enumerable.Range(0, table.StateCount).Where(table.IsValid).Select(env.StateAt).ToList();
        var actions = Enumerable.Range(0, table.ActionCount).Select(a => new double[] { a }).ToList();
        var coverage = new List<EpicTransition>(states.Count * actions.Count);
        foreach (var s in states)
            foreach (var a in actions)
                coverage.Add(new EpicTransition(s, a, env.Step(s, a).Next));
        var expectation = actions.SelectMany(a => states.Select(s2 => (a, s2))).ToList();
        return Distance(first, second, new EpicSamples(coverage, expectation), gamma);
    }

    /// <summary>EPIC from samples (any environment), e.g. made by <see cref="Sample"/>.</summary>
    public static double Sampled(EpicReward first, EpicReward second, EpicSamples samples, double gamma = 1.0) =>
        Distance(first, second, samples, gamma);

    /// <summary>
    /// Samples for <see cref="Sampled"/>: D_S uniform over the states visited by <paramref name="rollouts"/> (random
    /// rollouts from <see cref="IPreferenceEnvironment.SampleStart"/> when none are given), D_A uniform
    /// (<see cref="ActionSpace.Sample"/>); <paramref name="transitions"/> coverage transitions (s ~ D_S, a ~ D_A, true
    /// successor) and <paramref name="expectationSamples"/> (A, S') draws.
    /// </summary>
    public static EpicSamples Sample(IPreferenceEnvironment env, Random rng, int transitions = 1000, int expectationSamples = 256,
        IReadOnlyList<Segment>? rollouts = null)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(rng);
        ArgumentOutOfRangeException.ThrowIfLessThan(transitions, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(expectationSamples, 1);
        var pool = new List<double[]>();
        if (rollouts is not null) foreach (var r in rollouts) pool.AddRange(r.States);
        else
            for (int attempt = 0; attempt < 10 * transitions && pool.Count < transitions; attempt++)
                pool.AddRange(Rollouts.CollectRandom(env, 1, rng)[0].States);
        if (pool.Count == 0) throw new ArgumentException("EPIC needs at least one state to sample from.", nameof(rollouts));

        var coverage = new List<EpicTransition>(transitions);
        for (int i = 0; i < transitions; i++)
        {
            var s = pool[rng.Next(pool.Count)];
            var a = env.ActionSpace.Sample(rng);
            coverage.Add(new EpicTransition(s, a, env.Step(s, a).Next));
        }
        var expectation = new List<(double[], double[])>(expectationSamples);
        for (int j = 0; j < expectationSamples; j++) expectation.Add((env.ActionSpace.Sample(rng), pool[rng.Next(pool.Count)]));
        return new EpicSamples(coverage, expectation);
    }

    /// <summary>sqrt((1 - rho) / 2) for a Pearson correlation rho, clamped into [0, 1] against rounding.</summary>
    public static double FromCorrelation(double rho) => Math.Sqrt(Math.Clamp((1 - rho) / 2, 0, 1));

    private static double Distance(EpicReward first, EpicReward second, EpicSamples samples, double gamma)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentNullException.ThrowIfNull(samples);
        if (!(gamma is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, "gamma must lie in [0, 1].");
        if (samples.Coverage.Count < 2 || samples.Expectation.Count == 0) throw new ArgumentException("EPIC needs at least two coverage transitions and one expectation sample.", nameof(samples));
        return FromCorrelation(Pearson(Canonical(first, samples, gamma), Canonical(second, samples, gamma)));
    }

    /// <summary>
    /// C(R) on each coverage transition. E[R(S,A,S')] is estimated as the mean of E[R(x,A,S')] over the coverage's
    /// start states; it is a constant, so it moves no correlation and is kept only to follow the definition.
    /// </summary>
    private static double[] Canonical(EpicReward reward, EpicSamples samples, double gamma)
    {
        var coverage = samples.Coverage;
        var direct = EvaluateChunked(reward, coverage);

        var index = new Dictionary<double[], int>(StateComparer.Instance);
        foreach (var t in coverage)
        {
            index.TryAdd(t.State, index.Count);
            index.TryAdd(t.Next, index.Count);
        }
        var xs = new double[index.Count][];
        foreach (var (state, i) in index) xs[i] = state;
        // A reward that ignores s' needs each distinct action once per state, not every (A, S') draw.
        var draws = reward.IgnoresNext
            ? samples.Expectation.GroupBy(e => e.Action, StateComparer.Instance).Select(g => (g.First().Action, g.First().Next, Weight: (double)g.Count())).ToList()
            : samples.Expectation.Select(e => (e.Action, e.Next, Weight: 1.0)).ToList();
        double totalWeight = draws.Sum(d => d.Weight);
        var triples = new List<EpicTransition>(xs.Length * draws.Count);
        foreach (var x in xs)
            foreach (var (a, s2, _) in draws)
                triples.Add(new EpicTransition(x, a, s2));
        var values = EvaluateChunked(reward, triples);
        var mean = new double[xs.Length];
        for (int i = 0; i < xs.Length; i++)
        {
            double sum = 0;
            for (int j = 0; j < draws.Count; j++) sum += draws[j].Weight * values[i * draws.Count + j];
            mean[i] = sum / totalWeight;
        }
        double constant = coverage.Average(t => mean[index[t.State]]);

        var canonical = new double[coverage.Count];
        for (int k = 0; k < coverage.Count; k++)
            canonical[k] = direct[k] + gamma * mean[index[coverage[k].Next]] - mean[index[coverage[k].State]] - gamma * constant;
        return canonical;
    }

    private static double[] EvaluateChunked(EpicReward reward, IReadOnlyList<EpicTransition> transitions)
    {
        if (transitions.Count <= Chunk) return reward.Evaluate(transitions);
        var result = new double[transitions.Count];
        for (int start = 0; start < transitions.Count; start += Chunk)
        {
            int count = Math.Min(Chunk, transitions.Count - start);
            var part = new EpicTransition[count];
            for (int i = 0; i < count; i++) part[i] = transitions[start + i];
            reward.Evaluate(part).CopyTo(result, start);
        }
        return result;
    }

    private static double Pearson(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        // Relative threshold: a reward that is constant up to rounding has no direction to correlate.
        double scale = Math.Max(x.Sum(v => v * v), 1e-300) * 1e-24;
        double scaleY = Math.Max(y.Sum(v => v * v), 1e-300) * 1e-24;
        if (sxx <= scale || syy <= scaleY) return double.NaN;
        return sxy / Math.Sqrt(sxx * syy);
    }

    /// <summary>Value equality of state (or action) vectors, so each distinct state's expectation is computed once.</summary>
    private sealed class StateComparer : IEqualityComparer<double[]>
    {
        public static readonly StateComparer Instance = new();

        public bool Equals(double[]? a, double[]? b) => ReferenceEquals(a, b) || (a is not null && b is not null && a.AsSpan().SequenceEqual(b));

        public int GetHashCode(double[] v)
        {
            var hash = new HashCode();
            foreach (var x in v) hash.Add(x);
            return hash.ToHashCode();
        }
    }
}
