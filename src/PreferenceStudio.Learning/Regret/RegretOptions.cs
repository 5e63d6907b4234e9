namespace PreferenceStudio.Learning.Regret;

/// <summary>What the regret model learns and how a segment's score is formed from it.</summary>
public enum RegretForm
{
    /// <summary>
    /// Tabular environments: a reward r_hat(s, a) = w . phi (no bias), score D = sum r_hat + V_hat*(s_k) - V_hat*(s_0).
    /// Knox et al.'s choice; with a few hundred human labels it generalises far better than an MLP.
    /// </summary>
    LinearReward,

    /// <summary>Tabular environments: as <see cref="LinearReward"/> with an MLP reward (RewardModelOptions' architecture).</summary>
    MlpReward,

    /// <summary>
    /// Any environment: a learned optimal advantage A_hat(s, a) over the step features, score D = sum of A_hat
    /// (Knox et al. 2023). Used greedily as a policy, not as a reward.
    /// </summary>
    Advantage,
}

/// <summary>
/// Settings of the regret preference model that <see cref="RewardModelOptions"/> does not cover. The trainer also reads
/// RewardModelOptions: Seed, Device and LabelNoise always; the MLP architecture (HiddenSizes, LeakySlope, Bias,
/// TanhOutput) for <see cref="RegretForm.MlpReward"/> and <see cref="RegretForm.Advantage"/>.
/// </summary>
/// <remarks>
/// Optimisation is full-batch Adam for every form (the authors' choice: a few hundred to a few thousand pairs fit in
/// one batch, and the reward forms need V_hat* over the whole state space at each step anyway), keeping the weights
/// of the lowest training loss seen. RewardModelOptions' LearningRate, Epochs and BatchSize are tuned for mini-batch
/// Bradley-Terry MLPs (3e-3, 100 epochs) and would leave a 6-weight linear model far from converged, so the schedule
/// lives here instead.
/// </remarks>
public sealed record RegretOptions
{
    /// <summary>Null: <see cref="RegretForm.LinearReward"/> for tabular environments with discrete actions, else <see cref="RegretForm.Advantage"/>.</summary>
    public RegretForm? Form { get; init; }

    /// <summary>
    /// Temperature T of the maximum over actions in value iteration. 0 (default): the exact maximum, differentiated by
    /// the envelope theorem (see LearnedValueIteration). T &gt; 0: the soft maximum T * log sum_a exp(Q(s, a) / T), which
    /// must stay small against the per-step reward scale or V_hat stops being V* (it adds up to T * log |A| per step, an
    /// entropy bonus that makes reaching a terminal state look costly).
    /// </summary>
    public double Temperature { get; init; }

    /// <summary>Value-iteration horizon; null = the environment's MaxEpisodeSteps (as RewardTable.Plan uses).</summary>
    public int? Horizon { get; init; }

    /// <summary>Full-batch Adam steps.</summary>
    public int Steps { get; init; } = 500;

    /// <summary>Adam learning rate for the linear reward. The authors used 0.5 with 5,000 steps.</summary>
    public double LinearLearningRate { get; init; } = 0.05;

    /// <summary>Adam learning rate for the MLP reward and the advantage network.</summary>
    public double NetworkLearningRate { get; init; } = 3e-3;

    /// <summary>L2 penalty coefficient on the weights, added to the mean cross-entropy. The authors used none.</summary>
    public double L2 { get; init; }

    internal void Validate()
    {
        if (!(Temperature >= 0) || double.IsInfinity(Temperature)) throw new ArgumentException("The temperature must be a finite number >= 0.");
        if (Horizon is < 1) throw new ArgumentException("The horizon must be at least 1 step.");
        if (Steps < 1) throw new ArgumentException("Steps must be at least 1.");
        if (!(LinearLearningRate > 0) || !(NetworkLearningRate > 0)) throw new ArgumentException("Learning rates must be positive.");
        if (!(L2 >= 0)) throw new ArgumentException("L2 cannot be negative.");
    }
}
