namespace PreferenceStudio.Learning.Policies.Sac;

/// <summary>
/// Soft actor-critic settings (Haarnoja et al. 2018, with the learned temperature of the second paper), as PEBBLE
/// (Lee et al. 2021) runs it: twin Q networks with Polyak-averaged targets, a tanh-squashed Gaussian actor, the
/// temperature tuned towards an entropy of minus the action dimension. Widths are smaller than PEBBLE's 3 x 1024
/// because the tasks here have 2-4 observations and training runs on two CPU cores.
/// </summary>
public sealed record SacOptions
{
    /// <summary>Hidden layer widths of the actor and of each critic.</summary>
    public IReadOnlyList<int> HiddenSizes { get; init; } = [64, 64];

    public double ActorLearningRate { get; init; } = 3e-4;

    public double CriticLearningRate { get; init; } = 1e-3;

    public double AlphaLearningRate { get; init; } = 3e-4;

    /// <summary>Starting temperature (PEBBLE's init_temperature).</summary>
    public double InitialAlpha { get; init; } = 0.1;

    public double Gamma { get; init; } = 0.99;

    /// <summary>
    /// Rewards summed into each critic target (n-step returns; 1 is SAC's one-step target). Longer targets carry a distant
    /// reward back in fewer updates, at the price of some bias from the older actions in the buffer.
    /// </summary>
    public int NSteps { get; init; } = 1;

    /// <summary>Polyak rate of the target critics.</summary>
    public double Tau { get; init; } = 0.005;

    public int BatchSize { get; init; } = 128;

    /// <summary>Uniformly random actions before the first update.</summary>
    public int LearningStarts { get; init; } = 1_000;

    /// <summary>Transitions the replay buffer keeps (oldest dropped first).</summary>
    public int BufferCapacity { get; init; } = 200_000;

    /// <summary>Environment steps collected between bursts of updates; the burst has the same number of updates.</summary>
    public int TrainEvery { get; init; } = 50;

    /// <summary>The k of the k-nearest-neighbour state-entropy estimate of unsupervised exploration (PEBBLE: 5).</summary>
    public int EntropyNeighbours { get; init; } = 5;

    /// <summary>Buffer states the k-NN distance of each batch state is measured against (a random sample).</summary>
    public int EntropySample { get; init; } = 1_024;

    /// <summary>Seeds the networks, the replay sampling and the exploration noise.</summary>
    public int Seed { get; init; } = 1;

    public void Validate()
    {
        if (HiddenSizes.Count == 0 || HiddenSizes.Any(h => h < 1)) throw new ArgumentException("SAC needs at least one hidden layer of positive width.");
        if (!(ActorLearningRate > 0 && CriticLearningRate > 0 && AlphaLearningRate > 0)) throw new ArgumentException("SAC learning rates must be positive.");
        if (!(InitialAlpha > 0)) throw new ArgumentException("The initial temperature must be positive.");
        if (!(Gamma is > 0 and < 1)) throw new ArgumentException($"Gamma must lie in (0, 1); got {Gamma}.");
        if (!(Tau is > 0 and <= 1)) throw new ArgumentException($"Tau must lie in (0, 1]; got {Tau}.");
        if (NSteps < 1) throw new ArgumentException("NSteps must be at least 1.");
        if (BatchSize < 2) throw new ArgumentException("The batch needs at least two transitions.");
        if (LearningStarts < 0) throw new ArgumentException("LearningStarts cannot be negative.");
        if (BufferCapacity < BatchSize) throw new ArgumentException("The replay buffer must hold at least one batch.");
        if (TrainEvery < 1) throw new ArgumentException("TrainEvery must be at least 1.");
        if (EntropyNeighbours < 1 || EntropySample <= EntropyNeighbours) throw new ArgumentException("The entropy sample must hold more states than k.");
    }
}
