namespace PreferenceStudio.Environments;

/// <summary>
/// A piece of a trajectory: states s_0..s_k and actions a_0..a_{k-1}; States has one more entry than Actions.
/// States are numeric vectors (the delivery gridworld uses [row, col]); each action is a vector too: [index] in a
/// discrete environment, the control values in a continuous one (see <see cref="ActionSpace"/>).
/// </summary>
public sealed record Segment(double[][] States, double[][] Actions)
{
    public int Length => Actions.Length;

    /// <summary>A segment of a discrete environment from action indices.</summary>
    public static Segment Discrete(double[][] states, IEnumerable<int> actions) =>
        new(states, actions.Select(a => new double[] { a }).ToArray());

    /// <summary>Action t as an index (discrete environments).</summary>
    public int ActionIndex(int t) => (int)Actions[t][0];

    /// <summary>All actions as indices (discrete environments).</summary>
    public int[] ActionIndices() => Actions.Select(a => (int)a[0]).ToArray();

    /// <summary>Value equality over the contents, so segments can be compared and deduplicated.</summary>
    public bool Equals(Segment? other) =>
        other is not null
        && SameRows(States, other.States)
        && SameRows(Actions, other.Actions);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var s in States) foreach (var v in s) hash.Add(v);
        foreach (var a in Actions) foreach (var v in a) hash.Add(v);
        return hash.ToHashCode();
    }

    private static bool SameRows(double[][] a, double[][] b) =>
        a.Length == b.Length && a.Zip(b).All(p => p.First.AsSpan().SequenceEqual(p.Second));
}

/// <summary>The result of one step of an environment's true dynamics.</summary>
public readonly record struct Transition(double[] Next, double Reward, bool Terminal);
