using PreferenceStudio.Environments;

namespace PreferenceStudio.Learning;

/// <summary>
/// A learned reward model together with its preference likelihood. Bradley-Terry (partial return), regret and VPL
/// models differ in how a segment is scored and how the score becomes P(right preferred); callers only use this.
/// </summary>
public interface IRewardModel : IDisposable
{
    /// <summary>Short identifier written to checkpoints and reports, e.g. "bt".</summary>
    string ModelType { get; }

    /// <summary>Name of the environment the model was trained on.</summary>
    string EnvironmentName { get; }

    /// <summary>Learned reward of single steps, one per feature vector (<see cref="IPreferenceEnvironment.StepFeatures"/>).</summary>
    double[] StepRewards(IReadOnlyList<float[]> stepFeatures);

    /// <summary>Learned (undiscounted) return of a segment.</summary>
    double SegmentReturn(Segment segment);

    /// <summary>Learned returns of many segments, evaluated in one batch.</summary>
    double[] SegmentReturns(IReadOnlyList<Segment> segments);

    /// <summary>The model's probability that a rater prefers <paramref name="right"/> over <paramref name="left"/>.</summary>
    double PreferRightProbability(Segment left, Segment right);

    /// <summary>P(right preferred) for many pairs, evaluated in one batch; the labels are ignored.</summary>
    double[] PreferRightProbabilities(IReadOnlyList<PreferencePair> pairs);

    /// <summary>Writes a checkpoint (architecture and weights) to one file.</summary>
    void Save(string path);
}

/// <summary>Progress of a training run, reported once per epoch.</summary>
/// <param name="Epoch">1-based epoch just finished.</param>
/// <param name="Epochs">Total epochs planned.</param>
/// <param name="Loss">Mean training loss over the epoch.</param>
/// <param name="Elapsed">Time since training started.</param>
public sealed record TrainingProgress(int Epoch, int Epochs, double Loss, TimeSpan Elapsed)
{
    /// <summary>Per-rater models: the epoch's mean KL(q(z | context) || prior) per target pair, before its beta weight.</summary>
    public double? Kl { get; init; }

    /// <summary>Per-rater models: the epoch's mean reconstruction loss (BCE) per target pair.</summary>
    public double? Reconstruction { get; init; }
}

/// <summary>Trains a reward model from labelled comparisons.</summary>
public interface IRewardModelTrainer
{
    /// <summary>Short identifier of the models it produces, e.g. "bt".</summary>
    string ModelType { get; }

    /// <summary>
    /// Trains on <paramref name="train"/> (incomparable pairs are skipped). Synchronous and CPU/GPU bound: call it on
    /// the <see cref="TorchTrainingThread"/>. Throws <see cref="RewardTrainingException"/> when nothing can be learned.
    /// </summary>
    IRewardModel Train(
        IPreferenceEnvironment env,
        IReadOnlyList<PreferencePair> train,
        RewardModelOptions options,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default);
}

/// <summary>Training cannot go on: no usable pairs, a non-finite loss, a malformed checkpoint.</summary>
public sealed class RewardTrainingException(string message, Exception? inner = null) : Exception(message, inner);
