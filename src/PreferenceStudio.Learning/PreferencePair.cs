using PreferenceStudio.Environments;

namespace PreferenceStudio.Learning;

/// <summary>One labelled comparison: which of two segments a rater (or teacher) preferred.</summary>
/// <param name="Weight">How much the label counts in training relative to a clip label (1). Automatic labels from a
/// rater's factor hierarchy carry the campaign's hierarchy weight; every trainer scales each pair's loss by it.</param>
/// <param name="Gold">The answer fixed in advance for this pair (a gold pair), when there is one.</param>
/// <param name="PairKey">What identifies the pair across raters (a comparison id), so answers of several raters to the
/// same pair can be combined; null: the pair's segments identify it (<see cref="Reliability.PairUnits"/>).</param>
public sealed record PreferencePair(Segment Left, Segment Right, PreferenceChoice Label, string? Rater = null, double Weight = 1.0,
    PreferenceChoice? Gold = null, string? PairKey = null)
{
    /// <summary>
    /// Probability target for "right is preferred": 1 right, 0 left, 0.5 equal; null for incomparable pairs,
    /// which carry no preference and are left out of training and metrics.
    /// </summary>
    public double? RightTarget => Label switch
    {
        PreferenceChoice.Right => 1.0,
        PreferenceChoice.Left => 0.0,
        PreferenceChoice.Equal => 0.5,
        _ => null,
    };
}
