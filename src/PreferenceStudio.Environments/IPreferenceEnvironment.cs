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

    /// <summary>The actions the environment accepts (discrete indices as one-element vectors, or continuous controls).</summary>
    ActionSpace ActionSpace { get; }

    /// <summary>Number of discrete actions; 0 in a continuous environment.</summary>
    int ActionCount => ActionSpace.Count;

    IReadOnlyList<string> ActionNames => ActionSpace.Names;

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

    /// <summary>One step of the true dynamics. Deterministic: the same state and action always give the same result.</summary>
    Transition Step(double[] state, double[] action);

    /// <summary>Features of the step s --a--> s'. The reward model's input for that step.</summary>
    float[] StepFeatures(double[] state, double[] action, double[] next);

    /// <summary>
    /// The named reward factors a rater can rank (HERON), each with the direction that is better. For the delivery
    /// gridworld these are its six reward features; for control tasks the terms of the true reward.
    /// </summary>
    IReadOnlyList<RewardFactor> Factors { get; }

    /// <summary>Factor values of the step s --a--> s', in <see cref="Factors"/> order.</summary>
    double[] StepFactors(double[] state, double[] action, double[] next);

    /// <summary>Factor values of a segment: each factor summed over its steps.</summary>
    double[] SegmentFactors(Segment segment)
    {
        var total = new double[Factors.Count];
        for (int t = 0; t < segment.Actions.Length; t++)
        {
            var f = StepFactors(segment.States[t], segment.Actions[t], segment.States[t + 1]);
            for (int i = 0; i < total.Length; i++) total[i] += f[i];
        }
        return total;
    }

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
            var a = segment.Actions[t];
            var actionError = ActionSpace.Validate(a);
            if (actionError is not null) return $"action {t}: {actionError}";
            var next = Step(segment.States[t], a).Next;
            if (!next.AsSpan().SequenceEqual(segment.States[t + 1]))
                return $"action {t} ({Describe(a)}) from [{string.Join(", ", segment.States[t])}] leads to [{string.Join(", ", next)}], not [{string.Join(", ", segment.States[t + 1])}]";
        }
        return null;
    }

    /// <summary>An action as a person reads it: "up" in a discrete environment, "torque=0.5" in a continuous one.</summary>
    string Describe(double[] action) =>
        ActionSpace.IsDiscrete
            ? ActionSpace.Names[(int)action[0]]
            : string.Join(", ", action.Select((v, i) => $"{ActionSpace.Names[i]}={v}"));
}

/// <summary>Which way a reward factor is better.</summary>
public enum FactorDirection
{
    HigherIsBetter,
    LowerIsBetter,
}

/// <summary>A named term of the task's reward that raters can rank, with a one-line description for the rating page.</summary>
public sealed record RewardFactor(string Name, string Description, FactorDirection Direction);

/// <summary>
/// An environment with a finite, enumerable state space and known dynamics, so value iteration and exact
/// evaluation (V*, scaled return) are possible.
/// </summary>
public interface ITabularEnvironment : IPreferenceEnvironment
{
    /// <summary>One step with a discrete action index (the tabular planners' view of <see cref="IPreferenceEnvironment.Step"/>).</summary>
    Transition Step(double[] state, int action) => Step(state, [action]);

    /// <summary>Step features of a discrete action index.</summary>
    float[] StepFeatures(double[] state, int action, double[] next) => StepFeatures(state, [(double)action], next);

    int StateCount { get; }

    int StateIndex(double[] state);

    double[] StateAt(int index);

    /// <summary>States an episode may start in (uniform start distribution).</summary>
    IReadOnlyList<int> StartStates { get; }
}
