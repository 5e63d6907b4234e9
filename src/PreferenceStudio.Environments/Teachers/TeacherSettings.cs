namespace PreferenceStudio.Environments.Teachers;

/// <summary>
/// Parameters of a B-Pref simulated teacher (Lee et al. 2021; METHODS.md section 2).
/// </summary>
/// <param name="Beta">Rationality. <see cref="double.PositiveInfinity"/> (or any value &lt;= 0, as in B-Pref's code)
/// answers deterministically; a finite positive beta samples the answer from softmax(beta * [R1, R2]).</param>
/// <param name="Gamma">Myopia: the reward at step t of a segment of H steps is weighted by gamma^(H-1-t). 1 = not myopic.</param>
/// <param name="Epsilon">Probability of flipping a Left/Right answer (a mistake).</param>
/// <param name="SkipFraction">The pair is skipped unless max(R1, R2) &gt; SkipFraction * returnScale.</param>
/// <param name="EqualFraction">The answer is Equal when |R1 - R2| &lt; EqualFraction * returnScale.</param>
/// <param name="Random">Answers left or right at random, whatever the clips show (a careless crowd worker).</param>
/// <param name="Negate">Answers by the negated true reward (an adversarial or confused rater: reliably backwards).</param>
public sealed record TeacherSettings(double Beta, double Gamma, double Epsilon, double SkipFraction, double EqualFraction,
    bool Random = false, bool Negate = false)
{
    /// <summary>True when the teacher answers without sampling (B-Pref's beta = inf).</summary>
    public bool IsDeterministic => double.IsPositiveInfinity(Beta) || Beta <= 0;

    /// <summary>Throws when a value is outside its meaningful range.</summary>
    public TeacherSettings Validated()
    {
        if (double.IsNaN(Beta)) throw new ArgumentException("Beta must be a number (use +infinity for a rational teacher).");
        if (!(Gamma > 0 && Gamma <= 1)) throw new ArgumentException($"Gamma must be in (0, 1]; got {Gamma}.");
        if (!(Epsilon >= 0 && Epsilon <= 1)) throw new ArgumentException($"Epsilon must be in [0, 1]; got {Epsilon}.");
        if (!(SkipFraction >= 0)) throw new ArgumentException($"SkipFraction must be >= 0; got {SkipFraction}.");
        if (!(EqualFraction >= 0)) throw new ArgumentException($"EqualFraction must be >= 0; got {EqualFraction}.");
        return this;
    }

    /// <summary>The standard B-Pref teachers by name (METHODS.md section 2 table).</summary>
    public static IReadOnlyDictionary<string, TeacherSettings> Presets { get; } =
        new Dictionary<string, TeacherSettings>(StringComparer.OrdinalIgnoreCase)
        {
            ["oracle"] = new(double.PositiveInfinity, 1, 0, 0, 0),
            ["mistake"] = new(double.PositiveInfinity, 1, 0.1, 0, 0),
            ["noisy"] = new(1, 1, 0, 0, 0),
            ["skip"] = new(double.PositiveInfinity, 1, 0, 0.1, 0),
            ["myopic"] = new(double.PositiveInfinity, 0.9, 0, 0, 0),
            ["equal"] = new(double.PositiveInfinity, 1, 0, 0, 0.1),
            ["random"] = new(double.PositiveInfinity, 1, 0, 0, 0, Random: true),
            ["adversarial"] = new(double.PositiveInfinity, 1, 0, 0, 0, Negate: true),
        };
}
