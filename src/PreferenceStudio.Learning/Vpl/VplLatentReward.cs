using PreferenceStudio.Environments;

namespace PreferenceStudio.Learning.Vpl;

/// <summary>
/// The reward of one latent z of a <see cref="VplRewardModel"/>: one rater's reward. Shares the owner's weights, so
/// <see cref="Dispose"/> does nothing and the view must not outlive its owner.
/// </summary>
internal sealed class VplLatentReward(VplRewardModel owner, float[] z, string description) : IRewardModel
{
    public string ModelType => VplRewardModel.TypeName;

    public string EnvironmentName => owner.EnvironmentName;

    /// <summary>The latent this view scores with.</summary>
    public IReadOnlyList<float> Latent => z;

    public double[] StepRewards(IReadOnlyList<float[]> stepFeatures)
    {
        ArgumentNullException.ThrowIfNull(stepFeatures);
        return owner.StepRewards(stepFeatures, z);
    }

    public double SegmentReturn(Segment segment) => SegmentReturns([segment])[0];

    public double[] SegmentReturns(IReadOnlyList<Segment> segments)
    {
        ArgumentNullException.ThrowIfNull(segments);
        return owner.SegmentReturns(segments, z);
    }

    public double PreferRightProbability(Segment left, Segment right) =>
        PreferRightProbabilities([new PreferencePair(left, right, PreferenceChoice.Equal)])[0];

    public double[] PreferRightProbabilities(IReadOnlyList<PreferencePair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        return owner.PreferRightProbabilities(pairs, z);
    }

    /// <summary>A view has no file of its own: save the <see cref="VplRewardModel"/>, which keeps every training rater's latent.</summary>
    public void Save(string path) =>
        throw new NotSupportedException($"The VPL reward of {description} is a view of a VPL model; save the VplRewardModel itself (it stores every training rater's latent).");

    public void Dispose()
    {
    }

    public override string ToString() => $"VPL reward of {description}";
}
