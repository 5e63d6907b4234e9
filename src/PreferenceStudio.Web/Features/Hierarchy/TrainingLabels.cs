using PreferenceStudio.Environments.Hierarchy;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Loop;

namespace PreferenceStudio.Web.Features.Hierarchy;

/// <summary>
/// Which label sources a run trained on and how many labels each gave, as recorded in the run's metrics
/// (<c>"sources"</c>). <paramref name="Note"/> says why a source the campaign asked for gave nothing.
/// </summary>
public sealed record LabelSourceReport(string Source, int Clips, int Hierarchy, double HierarchyWeight, int Rankings, string? Note = null)
{
    /// <summary>
    /// Every trainer (Bradley-Terry, regret, VPL) scales a pair's loss by its weight, so <c>"weighted"</c> is true
    /// whenever hierarchy labels trained the run.
    /// </summary>
    public static bool HonoursWeights(string modelType) => RewardModels.Types.Contains(modelType);

    /// <summary>The counts as a run records them (<see cref="RewardModelMetrics.Sources"/>).</summary>
    public LabelSourceCounts ToCounts(string modelType) => new(Source, Clips, Hierarchy, HierarchyWeight, Rankings,
        Weighted: Hierarchy > 0 && HonoursWeights(modelType),
        HierarchyPieceSteps: Hierarchy > 0 ? HierarchyLabeler.DefaultPieceLength : null,
        Note: Note);
}

/// <summary>
/// The pairs a round's reward models train and are tested on. <see cref="Refusal"/> is set when the campaign's
/// label source cannot train at all (no rater ranked the factors of a hierarchy-only campaign); every run then fails
/// with it.
/// </summary>
public sealed record TrainingLabels(List<PreferencePair> Train, List<PreferencePair> Test, LabelSourceReport Sources, string? Refusal)
{
    /// <summary>
    /// The pairs of <see cref="Train"/> labelled by the hierarchical rule from raters' factor rankings rather than
    /// answered by a rater: reliability weighting trains on them unchanged (the rule is not careless or backwards).
    /// </summary>
    public IReadOnlyList<PreferencePair> FromRankings { get; init; } = [];

    public const string NoRankingsMessage = "No rater has ranked the factors yet";

    /// <summary>
    /// Combines clip labels (<paramref name="clipTrain"/>, already split from the held-out <paramref name="test"/>)
    /// with hierarchy labels as the campaign's label source says. Held-out clip labels are the test set in every source.
    /// </summary>
    public static async Task<TrainingLabels> ComposeAsync(StudioDbContext db, Campaign campaign, IPreferenceEnvironment env, int roundIndex,
        List<PreferencePair> clipTrain, List<PreferencePair> test, CancellationToken ct, IReadOnlySet<string>? excludedRaterIds = null)
    {
        int clips = clipTrain.Count(p => p.Label != PreferenceChoice.Incomparable);
        if (!campaign.UsesFactorRankings)
            return new(clipTrain, test, new(campaign.LabelSource, clips, 0, campaign.HierarchyWeight, 0), null);

        bool hierarchyOnly = campaign.LabelSource == LabelSources.Hierarchy;
        HierarchyLabels hierarchy;
        try
        {
            hierarchy = await HierarchyLabelSource.LabelAsync(db, campaign, env, roundIndex, ct, excludedRaterIds);
        }
        catch (InvalidOperationException ex)
        {
            var broken = new LabelSourceReport(campaign.LabelSource, hierarchyOnly ? 0 : clips, 0, campaign.HierarchyWeight, 0, ex.Message);
            return hierarchyOnly ? new(clipTrain, test, broken, ex.Message) : new(clipTrain, test, broken, null);
        }

        if (hierarchy.Rankings == 0)
        {
            if (hierarchyOnly)
            {
                var refusal = NoRankingsMessage + "; this campaign trains only on raters' factor rankings (label source \"hierarchy\"). "
                    + "Ask raters to rank the factors on the rating page (or save a ranking through the API); the next round trains on them.";
                return new(clipTrain, test, new(campaign.LabelSource, 0, 0, campaign.HierarchyWeight, 0, refusal), refusal);
            }
            return new(clipTrain, test, new(campaign.LabelSource, clips, 0, campaign.HierarchyWeight, 0,
                NoRankingsMessage + "; trained on clip labels alone."), null);
        }

        if (hierarchyOnly && hierarchy.Pairs.Count == 0)
        {
            var refusal = $"The raters' factor rankings decided none of the {hierarchy.PairsDrawn} pairs drawn from the rounds' segments "
                + "(every level within its margin); lower the margins or ask for more hierarchy pairs per round.";
            return new(clipTrain, test, new(campaign.LabelSource, 0, 0, campaign.HierarchyWeight, hierarchy.Rankings, refusal), refusal);
        }

        var train = hierarchyOnly ? hierarchy.Pairs : clipTrain.Concat(hierarchy.Pairs).ToList();
        return new(train, test,
            new(campaign.LabelSource, hierarchyOnly ? 0 : clips, hierarchy.Pairs.Count, campaign.HierarchyWeight, hierarchy.Rankings), null)
        { FromRankings = hierarchy.Pairs };
    }
}
