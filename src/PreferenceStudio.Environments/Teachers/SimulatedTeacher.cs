namespace PreferenceStudio.Environments.Teachers;

/// <summary>
/// A B-Pref simulated teacher: answers preference queries from the environment's true per-step rewards.
/// The steps run in B-Pref's order: skip, equal, myopic weighting, rationality, mistake.
/// </summary>
/// <remarks>
/// Thresholds are fractions of <c>returnScale</c>, the mean absolute true return of one segment in the campaign
/// (B-Pref scales them by the mean segment return; magnitude is used because returns may be negative, as in the
/// delivery gridworld). Estimate it with <see cref="EstimateReturnScale"/>.
/// Deviation from B-Pref's code: an exact tie of the (myopic) returns answers <see cref="PreferenceChoice.Equal"/>
/// instead of always picking the left segment, which would bias a learned reward toward whatever is shown on the left.
/// Answers are a deterministic function of the seed and the order of queries. Safe to call from several threads,
/// but then the order, and so the random draws, is not reproducible.
/// </remarks>
public sealed class SimulatedTeacher
{
    private readonly Random _rng;
    private readonly Lock _gate = new();

    /// <param name="name">A label for the teacher, e.g. a preset name.</param>
    /// <param name="settings">The teacher's parameters.</param>
    /// <param name="returnScale">Mean absolute true return of a segment; thresholds are fractions of it.</param>
    /// <param name="seed">Seeds the teacher's random choices (sampling and mistakes).</param>
    public SimulatedTeacher(string name, TeacherSettings settings, double returnScale, int seed)
    {
        if (!(returnScale >= 0) || double.IsInfinity(returnScale))
            throw new ArgumentOutOfRangeException(nameof(returnScale), returnScale, "returnScale must be a finite number >= 0.");
        Name = name;
        Settings = settings.Validated();
        ReturnScale = returnScale;
        Seed = seed;
        _rng = new Random(seed);
    }

    /// <summary>Names accepted by <see cref="Create"/>.</summary>
    public static IReadOnlyCollection<string> PresetNames => TeacherSettings.Presets.Keys.ToArray();

    public string Name { get; }
    public TeacherSettings Settings { get; }
    public double ReturnScale { get; }
    public int Seed { get; }

    /// <summary>Absolute threshold on max(R1, R2) below which a pair is skipped.</summary>
    public double SkipThreshold => Settings.SkipFraction * ReturnScale;

    /// <summary>Absolute threshold on |R1 - R2| below which the answer is Equal.</summary>
    public double EqualThreshold => Settings.EqualFraction * ReturnScale;

    /// <summary>A standard teacher: oracle, mistake, noisy, skip, myopic, equal, random or adversarial (case-insensitive).</summary>
    /// <exception cref="ArgumentException">The name is not a standard teacher.</exception>
    public static SimulatedTeacher Create(string name, double returnScale, int seed) =>
        TeacherSettings.Presets.TryGetValue(name, out var settings)
            ? new SimulatedTeacher(name.ToLowerInvariant(), settings, returnScale, seed)
            : throw new ArgumentException(
                $"Unknown simulated teacher '{name}'. Known teachers: {string.Join(", ", PresetNames)}.", nameof(name));

    /// <summary>Mean absolute true return over the given segments: the usual <c>returnScale</c>.</summary>
    public static double EstimateReturnScale(IPreferenceEnvironment env, IEnumerable<Segment> segments)
    {
        double sum = 0;
        int count = 0;
        foreach (var segment in segments)
        {
            sum += Math.Abs(env.TrueReturn(segment));
            count++;
        }
        return count == 0 ? 0 : sum / count;
    }

    /// <summary>The true reward of each step of the segment.</summary>
    public static double[] StepRewards(IPreferenceEnvironment env, Segment segment)
    {
        var rewards = new double[segment.Actions.Length];
        for (int t = 0; t < rewards.Length; t++)
            rewards[t] = env.Step(segment.States[t], segment.Actions[t]).Reward;
        return rewards;
    }

    /// <summary>
    /// The true reward of each step for a rater of <paramref name="kind"/> (see <see cref="IRaterKinds"/>); the
    /// environment's own reward when <paramref name="kind"/> is null.
    /// </summary>
    public static double[] StepRewards(IPreferenceEnvironment env, Segment segment, int? kind)
    {
        if (kind is null) return StepRewards(env, segment);
        if (env is not IRaterKinds kinds) throw new ArgumentException($"{env.Name} has no rater kinds.", nameof(kind));
        if (kind < 0 || kind >= kinds.RaterKinds.Count)
            throw new ArgumentOutOfRangeException(nameof(kind), kind, $"{env.Name} has rater kinds 0..{kinds.RaterKinds.Count - 1}.");
        var rewards = new double[segment.Actions.Length];
        for (int t = 0; t < rewards.Length; t++)
            rewards[t] = kinds.KindReward(kind.Value, segment.States[t], segment.Actions[t], segment.States[t + 1]);
        return rewards;
    }

    /// <summary>Answers "which is better, left or right?"; null when the teacher skips the pair.</summary>
    public PreferenceChoice? Answer(IPreferenceEnvironment env, Segment left, Segment right) =>
        Answer(StepRewards(env, left), StepRewards(env, right));

    /// <summary>Answers from the per-step true rewards of each segment; null when the teacher skips the pair.</summary>
    public PreferenceChoice? Answer(IReadOnlyList<double> leftRewards, IReadOnlyList<double> rightRewards)
    {
        if (Settings.Random)
            lock (_gate) return _rng.Next(2) == 0 ? PreferenceChoice.Left : PreferenceChoice.Right;
        if (Settings.Negate)
        {
            leftRewards = leftRewards.Select(r => -r).ToArray();
            rightRewards = rightRewards.Select(r => -r).ToArray();
        }
        double r1 = leftRewards.Sum(), r2 = rightRewards.Sum();

        if (Settings.SkipFraction > 0 && !(Math.Max(r1, r2) > SkipThreshold)) return null;
        if (Math.Abs(r1 - r2) < EqualThreshold) return PreferenceChoice.Equal;

        double m1 = MyopicReturn(leftRewards), m2 = MyopicReturn(rightRewards);

        lock (_gate)
        {
            PreferenceChoice choice;
            if (Settings.IsDeterministic)
            {
                if (m1 == m2) return PreferenceChoice.Equal;
                choice = m2 > m1 ? PreferenceChoice.Right : PreferenceChoice.Left;
            }
            else
            {
                // softmax(beta * [m1, m2])[1], written as a logistic so large returns cannot overflow.
                double pRight = 1.0 / (1.0 + Math.Exp(-Settings.Beta * (m2 - m1)));
                choice = _rng.NextDouble() < pRight ? PreferenceChoice.Right : PreferenceChoice.Left;
            }

            if (Settings.Epsilon > 0 && _rng.NextDouble() < Settings.Epsilon)
                choice = choice == PreferenceChoice.Left ? PreferenceChoice.Right : PreferenceChoice.Left;
            return choice;
        }
    }

    private double MyopicReturn(IReadOnlyList<double> rewards)
    {
        if (Settings.Gamma == 1) return rewards.Sum();
        double total = 0, weight = 1;
        for (int t = rewards.Count - 1; t >= 0; t--)
        {
            total += weight * rewards[t];
            weight *= Settings.Gamma;
        }
        return total;
    }

    public override string ToString() => $"{Name} teacher (scale {ReturnScale:G4}, seed {Seed})";
}
