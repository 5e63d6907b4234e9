namespace PreferenceStudio.Learning.Vpl;

/// <summary>
/// VPL-specific settings (Poddar et al. 2024; METHODS.md section 1). The decoder r(s, z) takes its widths, activation,
/// learning rate, epochs and seed from <see cref="RewardModelOptions"/>; these settings shape the latent and how the
/// encoder is trained. Defaults are the authors' (latent 32, 3 x 256 LeakyReLU(0.2), beta annealed over 4 cosine
/// cycles) except two, changed where the latent collapsed on an independent population (README, "Per-rater models on
/// an independent population"): context sets of up to 128 pairs, not 16 (<see cref="MaxContext"/>), and beta 0.1,
/// not 1 (<see cref="Beta"/>).
/// </summary>
public sealed record VplOptions
{
    /// <summary>Size of the per-rater latent z.</summary>
    public int LatentSize { get; init; } = 32;

    /// <summary>Widths of the pair-embedding layers of the set encoder (each Linear + LeakyReLU).</summary>
    public IReadOnlyList<int> EncoderHiddenSizes { get; init; } = [256, 256, 256];

    /// <summary>Negative slope of the encoder's LeakyReLU activations.</summary>
    public double EncoderLeakySlope { get; init; } = 0.2;

    /// <summary>Largest weight of KL(q(z | context) || N(0, I)), reached at the end of each annealing cycle.</summary>
    /// <remarks>
    /// The KL of a whole set is weighed against the reconstruction loss of its target pairs, averaged per pair; at 1,
    /// telling two kinds apart (about 0.7 nats a set) cost as much as it gained on 16 noisy target labels and the
    /// latent collapsed to the prior on some seeded populations; at 0.1 it did not on those tried. Much lower (0.01)
    /// also kept the latent but no longer narrowed a rater's posterior as their labels grow, which the information-gain
    /// queries rely on.
    /// </remarks>
    public double Beta { get; init; } = 0.1;

    /// <summary>Cosine annealing cycles of beta over the whole run, each rising from 0 to <see cref="Beta"/>.</summary>
    public int AnnealCycles { get; init; } = 4;

    /// <summary>
    /// Largest context set. Each training set draws its size uniformly from 1 to this (bounded by the rater's other
    /// labels), so the encoder learns to place a rater from a handful of labels as well as from many.
    /// </summary>
    /// <remarks>
    /// The authors' 16 made the latent collapse on raters whose single labels say little about their kind (short
    /// segments, Boltzmann answers): no set of 16 told the kinds apart, the decoder learnt to ignore z, the KL term fell
    /// to 1e-4 within 10 epochs and the per-rater accuracy equalled one Bradley-Terry model's, although evaluation
    /// reads all of a rater's labels. Training on sets as large as those read at evaluation fixed it (README,
    /// "Per-rater models on an independent population").
    /// </remarks>
    public int MaxContext { get; init; } = 128;

    /// <summary>Labels per target set: the pairs the decoder must explain from the context's latent.</summary>
    public int TargetSize { get; init; } = 16;

    internal void Validate()
    {
        if (LatentSize < 1) throw new ArgumentException("The VPL latent size must be at least 1.");
        if (EncoderHiddenSizes.Count == 0 || EncoderHiddenSizes.Any(h => h < 1))
            throw new ArgumentException("The VPL encoder needs at least one hidden layer, each of positive width.");
        if (!(Beta >= 0) || double.IsInfinity(Beta)) throw new ArgumentException("VPL beta must be a finite number >= 0.");
        if (AnnealCycles < 1) throw new ArgumentException("VPL needs at least one annealing cycle.");
        if (MaxContext < 1) throw new ArgumentException("VPL context sets need room for at least one pair.");
        if (TargetSize < 1) throw new ArgumentException("VPL target sets need at least one pair.");
    }
}
