namespace PreferenceStudio.Environments;

/// <summary>
/// The actions an environment accepts. Every action is a vector of doubles so one <see cref="Segment"/> type serves
/// both kinds: a discrete action is the one-element vector [index] (0..Count-1); a continuous action has
/// <see cref="Dimensions"/> entries, each within [Low, High].
/// </summary>
public sealed record ActionSpace
{
    private ActionSpace(int count, int dimensions, double[] low, double[] high, IReadOnlyList<string> names)
    {
        Count = count;
        Dimensions = dimensions;
        Low = low;
        High = high;
        Names = names;
    }

    /// <summary>Number of discrete actions; 0 for a continuous space.</summary>
    public int Count { get; }

    /// <summary>Entries in an action vector (1 for a discrete space).</summary>
    public int Dimensions { get; }

    /// <summary>Lowest value of each entry (discrete: 0).</summary>
    public double[] Low { get; }

    /// <summary>Highest value of each entry (discrete: Count - 1).</summary>
    public double[] High { get; }

    /// <summary>Discrete: one name per action. Continuous: one name per dimension (e.g. "torque").</summary>
    public IReadOnlyList<string> Names { get; }

    public bool IsDiscrete => Count > 0;

    public static ActionSpace Discrete(params string[] names)
    {
        if (names.Length == 0) throw new ArgumentException("A discrete action space needs at least one action.", nameof(names));
        return new ActionSpace(names.Length, 1, [0], [names.Length - 1], names);
    }

    public static ActionSpace Continuous(double[] low, double[] high, params string[] names)
    {
        if (low.Length == 0 || low.Length != high.Length || names.Length != low.Length)
            throw new ArgumentException("A continuous action space needs one low, one high and one name per dimension.");
        if (low.Zip(high).Any(p => !(p.First < p.Second)))
            throw new ArgumentException("Each dimension's low must be below its high.");
        return new ActionSpace(0, low.Length, low, high, names);
    }

    /// <summary>Null when <paramref name="action"/> is an action of this space, else what is wrong with it.</summary>
    public string? Validate(double[] action)
    {
        if (action.Length != Dimensions)
            return IsDiscrete
                ? $"an action is one index 0..{Count - 1}; got {action.Length} numbers"
                : $"an action has {Dimensions} numbers ({string.Join(", ", Names)}); got {action.Length}";
        if (IsDiscrete)
        {
            double a = action[0];
            if (a != Math.Floor(a) || a < 0 || a >= Count) return $"action {a} is not one of 0..{Count - 1} ({string.Join(", ", Names)})";
            return null;
        }
        for (int i = 0; i < action.Length; i++)
            if (!double.IsFinite(action[i]) || action[i] < Low[i] || action[i] > High[i])
                return $"{Names[i]} is {action[i]}; it must lie in [{Low[i]}, {High[i]}]";
        return null;
    }

    /// <summary>An action drawn uniformly from the space.</summary>
    public double[] Sample(Random rng)
    {
        if (IsDiscrete) return [rng.Next(Count)];
        var a = new double[Dimensions];
        for (int i = 0; i < a.Length; i++) a[i] = Low[i] + rng.NextDouble() * (High[i] - Low[i]);
        return a;
    }

    /// <summary>Each entry clamped into [Low, High]: policies with unbounded outputs act through this.</summary>
    public double[] Clip(double[] action)
    {
        var a = new double[action.Length];
        for (int i = 0; i < a.Length; i++) a[i] = Math.Clamp(action[i], Low[Math.Min(i, Low.Length - 1)], High[Math.Min(i, High.Length - 1)]);
        return a;
    }
}
