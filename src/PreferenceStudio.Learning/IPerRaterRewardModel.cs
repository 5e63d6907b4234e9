namespace PreferenceStudio.Learning;

/// <summary>
/// A reward model that gives each rater their own reward (VPL): a latent z per rater, inferred from that rater's
/// labelled pairs. As an <see cref="IRewardModel"/> it answers for the population (the prior mean latent); per-rater
/// answers come from <see cref="ForRater"/> or <see cref="ForContext"/>.
/// </summary>
public interface IPerRaterRewardModel : IRewardModel
{
    /// <summary>Raters whose latent was inferred during training.</summary>
    IReadOnlyCollection<string> Raters { get; }

    /// <summary>The reward of a rater seen in training. Throws <see cref="ArgumentException"/> for an unknown rater.</summary>
    IRewardModel ForRater(string rater);

    /// <summary>The reward of a rater described only by labelled pairs (a new rater): z = encoder mean on them.</summary>
    IRewardModel ForContext(IReadOnlyList<PreferencePair> context);

    /// <summary>Posterior mean and standard deviation of a rater's latent: the rater's uncertainty.</summary>
    (double[] Mean, double[] Std) Latent(string rater);

    /// <summary>Posterior mean and standard deviation of the latent given labelled pairs.</summary>
    (double[] Mean, double[] Std) LatentFor(IReadOnlyList<PreferencePair> context);
}

/// <summary>A reward model made of several members (an ensemble), whose spread says how sure it is about a pair.</summary>
public interface IEnsembleRewardModel : IRewardModel
{
    int MemberCount { get; }

    /// <summary>P(right preferred) under each member: [member][pair].</summary>
    double[][] MemberPreferRightProbabilities(IReadOnlyList<PreferencePair> pairs);
}
