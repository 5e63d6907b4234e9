namespace PreferenceStudio.Learning.QuerySelection;

/// <summary>The query strategies a campaign or the simulate verb can name, and the selector each uses to plan a round.</summary>
public static class QuerySelectors
{
    public static readonly IReadOnlyList<string> Names = ["random", "disagreement", "info-gain"];

    /// <summary>
    /// The selector that picks a round's pairs when it is planned. "info-gain" is at heart a per-rater strategy: a
    /// round is planned for everyone at once, so there it scores pairs by what they would tell about a rater the model
    /// knows nothing of yet (the prior), and the studio re-ranks the round's pairs for each rater, with that rater's
    /// labels, when the rater asks for the next pair.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown strategy.</exception>
    public static IQuerySelector Create(string name) => name switch
    {
        "random" => new RandomSelector(),
        // Mutual information rather than METHODS.md's posterior-variance score: on conflicting simulated raters it
        // placed a new rater after 1-2 labels where the variance score in one of three runs never did (README).
        "info-gain" => new Vpl.InformationGainSelector(Vpl.InformationGainSelector.Scoring.MutualInformation),
        "disagreement" => new DisagreementSelector(),
        _ => throw new ArgumentException($"Unknown query strategy '{name}'. Known strategies: {string.Join(", ", Names)}.", nameof(name)),
    };
}
