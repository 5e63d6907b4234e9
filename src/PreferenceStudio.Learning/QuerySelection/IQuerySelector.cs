using PreferenceStudio.Environments;

namespace PreferenceStudio.Learning.QuerySelection;

/// <summary>A pair of segments that could be shown to a rater.</summary>
public sealed record CandidatePair(Segment Left, Segment Right);

/// <summary>
/// What a selector may use: the environment, the current reward model (null before the first one is trained), the
/// rater the query is for (null when the query goes to whoever comes) and that rater's labelled pairs so far.
/// </summary>
public sealed record QueryContext(
    IPreferenceEnvironment Environment,
    IRewardModel? Model,
    string? Rater = null,
    IReadOnlyList<PreferencePair>? RaterLabels = null);

/// <summary>
/// Picks which candidate pairs to ask about next (random, ensemble disagreement, VPL information gain). Runs on the
/// training thread when it evaluates a model.
/// </summary>
public interface IQuerySelector
{
    /// <summary>Identifier used by campaigns and the CLI's --strategy, e.g. "random", "disagreement", "info-gain".</summary>
    string Name { get; }

    /// <summary>
    /// Indices into <paramref name="candidates"/> of the <paramref name="count"/> pairs to ask (fewer when there are
    /// fewer candidates), best first, without repeats. Deterministic for a given <paramref name="rng"/> state.
    /// </summary>
    IReadOnlyList<int> Select(IReadOnlyList<CandidatePair> candidates, int count, QueryContext context, Random rng);
}
