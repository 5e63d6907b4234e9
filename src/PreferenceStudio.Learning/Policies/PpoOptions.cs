namespace PreferenceStudio.Learning.Policies;

/// <summary>
/// PPO settings. The defaults follow the RL Zoo's tuned PPO for Pendulum (4 envs x 1024 steps, gamma 0.9,
/// lambda 0.95, 10 epochs, minibatch 64, lr 1e-3, clip 0.2, no entropy bonus) with 64x64 tanh networks.
/// </summary>
public sealed record PpoOptions
{
    /// <summary>Environment steps to train for; training stops at the first iteration boundary at or past it.</summary>
    public long TotalSteps { get; init; } = 200_000;

    /// <summary>Episodes run side by side (one shared, stateless environment); their policy calls are batched.</summary>
    public int Envs { get; init; } = 4;

    /// <summary>Steps per environment per rollout; a rollout is Envs x StepsPerEnv steps.</summary>
    public int StepsPerEnv { get; init; } = 1024;

    /// <summary>Passes over each rollout.</summary>
    public int Epochs { get; init; } = 10;

    public int MinibatchSize { get; init; } = 64;

    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Decay the learning rate linearly to 0 over <see cref="TotalSteps"/> (CleanRL's default; off in the RL Zoo).</summary>
    public bool AnnealLearningRate { get; init; }

    public double Gamma { get; init; } = 0.9;

    /// <summary>GAE lambda.</summary>
    public double Lambda { get; init; } = 0.95;

    /// <summary>PPO's probability-ratio clip epsilon.</summary>
    public double ClipRange { get; init; } = 0.2;

    public double EntropyCoefficient { get; init; }

    public double ValueCoefficient { get; init; } = 0.5;

    /// <summary>Global L2 norm the gradient of policy and value parameters is clipped to.</summary>
    public double MaxGradNorm { get; init; } = 0.5;

    /// <summary>Initial log standard deviation of the raw action (in half action ranges): 0 means std = half the range.</summary>
    public double InitialLogStd { get; init; }

    public int[] HiddenSizes { get; init; } = [64, 64];

    /// <summary>
    /// Generalized state-dependent exploration (gSDE, Raffin et al. 2022): noise phi(s) W with W redrawn every
    /// <see cref="SdeSampleFrequency"/> steps, instead of independent noise each step. The RL Zoo uses it for
    /// pendulum and mountain car.
    /// </summary>
    public bool StateDependentExploration { get; init; }

    /// <summary>Steps between redraws of the gSDE noise matrix; 0 or less redraws only at episode and rollout starts.</summary>
    public int SdeSampleFrequency { get; init; } = 4;

    public bool NormalizeObservations { get; init; } = true;

    /// <summary>Divide rewards by the running std of the discounted return (SB3's VecNormalize), clipped to +-10.</summary>
    public bool NormalizeRewards { get; init; } = true;

    /// <summary>Stop an iteration's epochs early once the approximate KL divergence exceeds this; null never stops.</summary>
    public double? TargetKl { get; init; }

    public int Seed { get; init; } = 1;

    /// <summary>Where to write training checkpoints; null writes none.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Write a checkpoint every this many iterations (and after the last one).</summary>
    public int CheckpointEvery { get; init; } = 10;

    public int RolloutSteps => Envs * StepsPerEnv;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting out of range.</summary>
    public void Validate()
    {
        static void Check(bool ok, string message)
        {
            if (!ok) throw new ArgumentException(message);
        }
        Check(TotalSteps > 0, "TotalSteps must be positive.");
        Check(Envs > 0, "Envs must be positive.");
        Check(StepsPerEnv > 0, "StepsPerEnv must be positive.");
        Check(Epochs > 0, "Epochs must be positive.");
        Check(MinibatchSize > 0 && MinibatchSize <= RolloutSteps, $"MinibatchSize must lie in 1..{RolloutSteps} (Envs x StepsPerEnv).");
        Check(LearningRate > 0 && double.IsFinite(LearningRate), "LearningRate must be positive.");
        Check(Gamma is >= 0 and <= 1, "Gamma must lie in [0, 1].");
        Check(Lambda is >= 0 and <= 1, "Lambda must lie in [0, 1].");
        Check(ClipRange > 0, "ClipRange must be positive.");
        Check(EntropyCoefficient >= 0 && ValueCoefficient >= 0, "Loss coefficients must not be negative.");
        Check(MaxGradNorm > 0, "MaxGradNorm must be positive.");
        Check(double.IsFinite(InitialLogStd), "InitialLogStd must be finite.");
        Check(HiddenSizes.Length > 0 && HiddenSizes.All(h => h > 0), "HiddenSizes needs at least one positive width.");
        Check(TargetKl is null or > 0, "TargetKl must be positive.");
        Check(CheckpointEvery > 0, "CheckpointEvery must be positive.");
    }
}

/// <summary>Progress after one PPO iteration (rollout plus update).</summary>
/// <param name="Steps">Environment steps so far, including those before a resume.</param>
/// <param name="MeanEpisodeReturn">Mean true return of the last (up to 20) finished episodes; NaN before the first.</param>
/// <param name="MeanEpisodeRewardSourceReturn">The same episodes' return under the reward being optimised.</param>
/// <param name="ApproxKl">Mean of (ratio - 1) - log ratio over the update's minibatches.</param>
public sealed record PolicyTrainingProgress(
    int Iteration,
    long Steps,
    long TotalSteps,
    double MeanEpisodeReturn,
    double MeanEpisodeRewardSourceReturn,
    int EpisodesFinished,
    double PolicyLoss,
    double ValueLoss,
    double Entropy,
    double ApproxKl,
    double ClipFraction,
    double ActionStd,
    TimeSpan Elapsed);

/// <summary>What a PPO run produced.</summary>
/// <param name="StartSteps">Steps already done when the run began (from a resumed checkpoint; 0 for a fresh run).</param>
public sealed record PpoTrainingResult(GaussianPolicy Policy, long Steps, int Iterations, long StartSteps, PolicyTrainingProgress? Last, TimeSpan Elapsed);

/// <summary>Policy training cannot go on: a non-finite loss, reward or parameter, a malformed checkpoint.</summary>
public sealed class PolicyTrainingException(string message, Exception? inner = null) : Exception(message, inner);
