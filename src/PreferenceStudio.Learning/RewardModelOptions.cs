namespace PreferenceStudio.Learning;

/// <summary>
/// Architecture and optimisation settings of an MLP reward model. The defaults suit tabular environments with a few
/// binary features; <see cref="BPref"/> gives the B-Pref settings (3 x 256, tanh output, lr 3e-4).
/// </summary>
public sealed record RewardModelOptions
{
    /// <summary>Hidden layer widths, input to output.</summary>
    public IReadOnlyList<int> HiddenSizes { get; init; } = [64, 64];

    /// <summary>Negative slope of the LeakyReLU activations.</summary>
    public double LeakySlope { get; init; } = 0.01;

    /// <summary>
    /// Bias terms in the layers. Without them the network maps all-zero features to exactly 0 reward, which anchors
    /// the reward of steps with no features (the delivery gridworld's absorbing steps) at 0.
    /// </summary>
    public bool Bias { get; init; } = true;

    /// <summary>Squash the per-step reward into (-1, 1), as B-Pref does.</summary>
    public bool TanhOutput { get; init; }

    /// <summary>Adam learning rate. 3e-3 rather than B-Pref's 3e-4: with a few hundred pairs 3e-4 needs far more epochs.</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Passes over the training pairs.</summary>
    public int Epochs { get; init; } = 100;

    public int BatchSize { get; init; } = 128;

    /// <summary>L2 penalty (Adam weight decay); small, so reward scale is kept in check without bias.</summary>
    public double WeightDecay { get; init; } = 1e-4;

    /// <summary>
    /// Christiano et al.'s assumption that 10% of labels are uniformly random: P = 0.9 * sigmoid(d) + 0.05.
    /// Off by default; when on, the trained model's probabilities include the mixing too.
    /// </summary>
    public bool LabelNoise { get; init; }

    /// <summary>
    /// Members of the Bradley-Terry ensemble (1 = the plain model). Members differ in initial weights and batch order
    /// (and training pairs with <see cref="Bootstrap"/>); they train together as one batched network. Where steps have
    /// few distinct feature vectors (the delivery gridworld) three members cost about as much as one; on continuous
    /// features the work grows with the member count. The ensemble's reward is the members' mean.
    /// </summary>
    public int EnsembleSize { get; init; } = 3;

    /// <summary>Each member of an ensemble of two or more trains on its own bootstrap resample of the pairs.</summary>
    public bool Bootstrap { get; init; }

    /// <summary>
    /// On the CPU, a batch of pairs with dense step features runs through the network in chunks of about this many
    /// steps per member and side, their gradients summed before the one optimiser step, so activations stay small
    /// enough for the caches and the C heap to reuse (see <see cref="BradleyTerryTrainer"/>). The result is the
    /// unchunked one up to the order of float additions. 0 runs each batch whole (as on a GPU, where chunks only add
    /// launches).
    /// </summary>
    public int ChunkSteps { get; init; } = 800;

    /// <summary>Seeds weight initialisation and batch order: same seed, same data, same device => same model.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>"auto" (CUDA when available), "cpu" or "cuda".</summary>
    public string Device { get; init; } = "auto";

    /// <summary>B-Pref's reward-model settings (3 members of 3 x 256, tanh output, lr 3e-4).</summary>
    public static RewardModelOptions BPref => new() { HiddenSizes = [256, 256, 256], TanhOutput = true, LearningRate = 3e-4 };

    internal void Validate()
    {
        if (HiddenSizes.Any(h => h < 1)) throw new ArgumentException("Hidden layer sizes must be positive.");
        if (!(LearningRate > 0)) throw new ArgumentException("The learning rate must be positive.");
        if (Epochs < 1) throw new ArgumentException("Epochs must be at least 1.");
        if (BatchSize < 1) throw new ArgumentException("The batch size must be at least 1.");
        if (EnsembleSize < 1) throw new ArgumentException("The ensemble needs at least one member.");
        if (WeightDecay < 0) throw new ArgumentException("Weight decay cannot be negative.");
        if (ChunkSteps < 0) throw new ArgumentException("ChunkSteps cannot be negative (0 runs each batch whole).");
    }
}
