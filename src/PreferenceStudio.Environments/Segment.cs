namespace PreferenceStudio.Environments;

/// <summary>
/// A piece of a trajectory: states s_0..s_k and actions a_0..a_{k-1}; States has one more entry than Actions.
/// States are numeric vectors (the delivery gridworld uses [row, col]); actions are discrete indices.
/// </summary>
public sealed record Segment(double[][] States, int[] Actions)
{
    public int Length => Actions.Length;

    /// <summary>Value equality over the contents, so segments can be compared and deduplicated.</summary>
    public bool Equals(Segment? other) =>
        other is not null
        && Actions.AsSpan().SequenceEqual(other.Actions)
        && States.Length == other.States.Length
        && States.Zip(other.States).All(p => p.First.AsSpan().SequenceEqual(p.Second));

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var s in States) foreach (var v in s) hash.Add(v);
        foreach (var a in Actions) hash.Add(a);
        return hash.ToHashCode();
    }
}

/// <summary>The result of one step of an environment's true dynamics.</summary>
public readonly record struct Transition(double[] Next, double Reward, bool Terminal);
