namespace PreferenceStudio.Learning.Surf;

/// <summary>
/// SURF's semi-supervised augmentation of reward learning (Park et al. 2022; METHODS.md section 7).
/// </summary>
/// <param name="Threshold">A pair of unlabelled segments gets a pseudo-label only when the model's confidence,
/// max(P(right), 1 - P(right)), is at least this (SURF's tau).</param>
/// <param name="UnlabelledRatio">Unlabelled pairs drawn per labelled pair (SURF's mu).</param>
/// <param name="PseudoWeight">Training weight of one pseudo-label against one real label (SURF's lambda).</param>
/// <param name="CropsPerPair">Temporally cropped copies of each labelled pair added to training (0: no cropping).</param>
/// <param name="CropFraction">A crop keeps between (1 - this) and all of a segment's steps at a random offset, the
/// length drawn for each segment of the pair on its own.</param>
public sealed record SurfOptions(
    double Threshold = 0.95,
    int UnlabelledRatio = 4,
    double PseudoWeight = 1.0,
    int CropsPerPair = 1,
    double CropFraction = 0.2)
{
    public SurfOptions Validated()
    {
        if (!(Threshold is >= 0.5 and < 1)) throw new ArgumentException($"The SURF confidence threshold must lie in [0.5, 1); got {Threshold}.");
        if (UnlabelledRatio < 0) throw new ArgumentException("The SURF unlabelled ratio cannot be negative.");
        if (!(PseudoWeight > 0) || double.IsInfinity(PseudoWeight)) throw new ArgumentException("The SURF pseudo-label weight must be a positive number.");
        if (CropsPerPair < 0) throw new ArgumentException("Crops per pair cannot be negative.");
        if (!(CropFraction is >= 0 and < 1)) throw new ArgumentException($"The crop fraction must lie in [0, 1); got {CropFraction}.");
        return this;
    }
}
