using PreferenceStudio.Environments.Planning;

namespace PreferenceStudio.Environments.Teachers;

/// <summary>
/// The true regret-based score of segments (Knox et al. 2022; METHODS.md section 1):
/// D(seg) = R(seg) + V*(s_k) - V*(s_0) under the environment's true reward, with V* from <see cref="ValueIteration"/>
/// (gamma = 1, horizon <see cref="IPreferenceEnvironment.MaxEpisodeSteps"/>). A "regret teacher" prefers the segment with
/// the higher score; humans in the delivery study agree with it far more often than with partial return.
/// </summary>
/// <remarks>
/// D equals the sum of the optimal advantages A*(s_t, a_t) along the segment, so it is 0 for an optimal segment and
/// negative otherwise. Steps taken in a terminal state earn 0 (absorbing), so padding with such steps changes nothing.
/// Build once per environment: V* is solved in the constructor.
/// </remarks>
public sealed class RegretScores
{
    private readonly ITabularEnvironment _env;
    private readonly double[] _values;

    public RegretScores(ITabularEnvironment env, int? horizon = null)
    {
        ArgumentNullException.ThrowIfNull(env);
        _env = env;
        _values = ValueIteration.Solve(env, (s, a) => env.Step(env.StateAt(s), a).Reward, 1.0, horizon ?? env.MaxEpisodeSteps).Values;
    }

    /// <summary>V*(s) under the true reward.</summary>
    public double OptimalValue(double[] state) => _values[_env.StateIndex(state)];

    /// <summary>D(seg) = R(seg) + V*(s_k) - V*(s_0).</summary>
    public double Score(Segment segment)
    {
        ArgumentNullException.ThrowIfNull(segment);
        return _env.TrueReturn(segment) + OptimalValue(segment.States[^1]) - OptimalValue(segment.States[0]);
    }

    /// <summary>
    /// The deterministic regret teacher's answer: the segment with the higher score, <see cref="PreferenceChoice.Equal"/>
    /// when the scores differ by less than <paramref name="tolerance"/>.
    /// </summary>
    public PreferenceChoice Label(Segment left, Segment right, double tolerance = 1e-9)
    {
        double d = Score(right) - Score(left);
        return Math.Abs(d) < tolerance ? PreferenceChoice.Equal : d > 0 ? PreferenceChoice.Right : PreferenceChoice.Left;
    }

    /// <summary>
    /// A Boltzmann-rational regret teacher's answer: Right with probability sigmoid(beta * (D(right) - D(left))), the
    /// regret preference model's own likelihood.
    /// </summary>
    public PreferenceChoice SampleLabel(Segment left, Segment right, double beta, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (!(beta > 0) || double.IsInfinity(beta)) throw new ArgumentOutOfRangeException(nameof(beta), beta, "beta must be a finite positive number.");
        double p = 1.0 / (1.0 + Math.Exp(-beta * (Score(right) - Score(left))));
        return rng.NextDouble() < p ? PreferenceChoice.Right : PreferenceChoice.Left;
    }
}
