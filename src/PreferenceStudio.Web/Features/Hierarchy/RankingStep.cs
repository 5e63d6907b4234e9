using PreferenceStudio.Environments;

namespace PreferenceStudio.Web.Features.Hierarchy;

/// <summary>
/// The rating page's view of a campaign before it serves a pair: whether raters rank the environment's reward factors
/// there (<paramref name="UsesRankings"/>), the factors in the environment's order, and the rater's current ranking.
/// </summary>
public sealed record RankingStep(Guid CampaignId, string CampaignName, bool UsesRankings, IReadOnlyList<RewardFactor> Factors, RankingView? Current);
