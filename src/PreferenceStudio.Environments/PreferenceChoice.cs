namespace PreferenceStudio.Environments;

/// <summary>A rater's answer to "which of these two segments is better?".</summary>
public enum PreferenceChoice
{
    /// <summary>The left segment (seg1) is preferred.</summary>
    Left,

    /// <summary>The right segment (seg2) is preferred.</summary>
    Right,

    /// <summary>Both are equally good; trains as the soft target (0.5, 0.5).</summary>
    Equal,

    /// <summary>The rater cannot compare them; carries no preference and is left out of training.</summary>
    Incomparable,
}
