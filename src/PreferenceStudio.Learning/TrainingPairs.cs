using PreferenceStudio.Environments;

namespace PreferenceStudio.Learning;

/// <summary>The checks every reward-model trainer makes before it starts, so all of them refuse the same bad input the same way.</summary>
internal static class TrainingPairs
{
    /// <summary>
    /// The pairs a model can learn from (incomparable ones dropped), after checking there are some, that they do not
    /// all carry the same answer (such labels cannot tell segments apart: the side a segment is shown on carries no
    /// reward), and that every segment fits the environment. Throws <see cref="RewardTrainingException"/> saying which.
    /// </summary>
    public static List<PreferencePair> Usable(IPreferenceEnvironment env, IReadOnlyList<PreferencePair> train)
    {
        var usable = train.Where(p => p.RightTarget is not null).ToList();
        if (usable.Count == 0)
            throw new RewardTrainingException(train.Count == 0
                ? "No preference pairs to train on."
                : $"None of the {train.Count} pairs can train a reward model: all are labelled incomparable.");
        if (usable.Select(p => p.Label).Distinct().Count() == 1)
            throw new RewardTrainingException(
                $"All {usable.Count} usable pairs are labelled '{usable[0].Label.ToString().ToLowerInvariant()}': such labels cannot tell segments apart " +
                "(the side a segment is shown on carries no reward). A reward model needs pairs with different answers.");
        foreach (var (pair, i) in usable.Select((p, i) => (p, i)))
        {
            if (!double.IsFinite(pair.Weight) || pair.Weight < 0)
                throw new RewardTrainingException($"Training pair {i} has weight {pair.Weight}; a label's weight must be a finite number of 0 or more.");
            var error = env.ValidateSegment(pair.Left) ?? env.ValidateSegment(pair.Right);
            if (error is not null) throw new RewardTrainingException($"Training pair {i} does not fit {env.Name}: {error}.");
        }
        return usable;
    }
}
