namespace PreferenceStudio.Environments;

/// <summary>
/// An environment the studio can run a preference campaign on: deterministic dynamics, a true reward used only for
/// evaluation and simulated teachers, and per-step features that reward models learn from.
/// </summary>
public interface IPreferenceEnvironment
{
    /// <summary>Identifier used in the exchange format and the API, e.g. "delivery-gridworld".</summary>
    string Name { get; }

    string DisplayName { get; }

    /// <summary>Number of discrete actions; actions are indices 0..ActionCount-1.</summary>
    int ActionCount { get; }

    IReadOnlyList<string> ActionNames { get; }

    /// <summary>Length of the per-step feature vector a reward model reads (see <see cref="StepFeatures"/>).</summary>
    int FeatureSize { get; }

    IReadOnlyList<string> FeatureNames { get; }

    /// <summary>Default number of actions per segment shown to raters.</summary>
    int DefaultSegmentLength { get; }

    /// <summary>Longest episode a rollout may take before it is cut.</summary>
    int MaxEpisodeSteps { get; }

    /// <summary>A start state drawn from the environment's start distribution.</summary>
    double[] SampleStart(Random rng);

    bool IsTerminal(double[] state);

    Transition Step(double[] state, int action);

    /// <summary>Features of the step s --a--> s'. The reward model's input for that step.</summary>
    float[] StepFeatures(double[] state, int action, double[] next);

    /// <summary>Null when the state is a legal state of this environment, else a message saying what is wrong.</summary>
    string? ValidateState(double[] state);

    /// <summary>Sum of the true reward over a segment (the partial return).</summary>
    double TrueReturn(Segment segment)
    {
        double total = 0;
        for (int t = 0; t < segment.Actions.Length; t++)
            total += Step(segment.States[t], segment.Actions[t]).Reward;
        return total;
    }

    /// <summary>
    /// Null when the segment is well formed for this environment: states valid, one more state than actions,
    /// each action leading from its state to the next one under the true dynamics. Else what is wrong.
    /// Terminal states are absorbing (<see cref="Step"/> leaves the agent there with reward 0), so actions after one
    /// are legal as long as they stay put: the delivery study's data records such moves (449 of its 19,260 segments).
    /// </summary>
    string? ValidateSegment(Segment segment)
    {
        if (segment.States.Length == 0) return "a segment needs at least one state";
        if (segment.States.Length != segment.Actions.Length + 1)
            return $"states must have one more entry than actions (got {segment.States.Length} states, {segment.Actions.Length} actions)";
        for (int t = 0; t < segment.States.Length; t++)
        {
            var error = ValidateState(segment.States[t]);
            if (error is not null) return $"state {t}: {error}";
        }
        for (int t = 0; t < segment.Actions.Length; t++)
        {
            int a = segment.Actions[t];
            if (a < 0 || a >= ActionCount) return $"action {t} is {a}; actions are 0..{ActionCount - 1} ({string.Join(", ", ActionNames)})";
            var next = Step(segment.States[t], a).Next;
            if (!next.AsSpan().SequenceEqual(segment.States[t + 1]))
                return $"action {t} ({ActionNames[a]}) from [{string.Join(", ", segment.States[t])}] leads to [{string.Join(", ", next)}], not [{string.Join(", ", segment.States[t + 1])}]";
        }
        return null;
    }
}

/// <summary>
/// An environment with a finite, enumerable state space and known dynamics, so value iteration and exact
/// evaluation (V*, scaled return) are possible.
/// </summary>
public interface ITabularEnvironment : IPreferenceEnvironment
{
    int StateCount { get; }

    int StateIndex(double[] state);

    double[] StateAt(int index);

    /// <summary>States an episode may start in (uniform start distribution).</summary>
    IReadOnlyList<int> StartStates { get; }
}
