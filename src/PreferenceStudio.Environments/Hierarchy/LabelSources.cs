namespace PreferenceStudio.Environments.Hierarchy;

/// <summary>
/// The label sources a reward model can train on, in the words campaigns (<c>label_source</c>) and <c>simulate
/// --source</c> both use: raters' clip choices, automatic labels from their factor rankings, or both.
/// </summary>
public static class LabelSources
{
    public const string Clips = "clips";
    public const string Hierarchy = "hierarchy";
    public const string Both = "both";

    public static readonly IReadOnlyList<string> All = [Clips, Hierarchy, Both];

    public static bool UsesClips(string source) => source is Clips or Both;

    public static bool UsesHierarchy(string source) => source is Hierarchy or Both;
}
