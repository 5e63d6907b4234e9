namespace PreferenceStudio.Learning.QuerySelection;

/// <summary>The query strategies a campaign or the simulate verb can name, and the selector each uses to plan a round.</summary>
public static class QuerySelectors
{
    public static readonly IReadOnlyList<string> Names = ["random", "disagreement", "info-gain"];

    /// <summary>
    /// The selector that picks a round's pairs when it is planned. "info-gain" is a per-rater strategy: a round is
    /// planned for everyone at once, so its pairs are drawn at random and the information-gain selector picks among
    /// them for each rater when the rater asks for the next pair.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown strategy.</exception>
    public static IQuerySelector Create(string name) => name switch
    {
        "random" or "info-gain" => new RandomSelector(),
        "disagreement" => new DisagreementSelector(),
        _ => throw new ArgumentException($"Unknown query strategy '{name}'. Known strategies: {string.Join(", ", Names)}.", nameof(name)),
    };
}
