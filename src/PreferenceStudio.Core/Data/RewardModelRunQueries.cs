using Microsoft.EntityFrameworkCore;

namespace PreferenceStudio.Core.Data;

/// <summary>Lookups of reward-model runs shared by round planning and per-rater query ranking.</summary>
public static class RewardModelRunQueries
{
    /// <summary>
    /// The checkpoint of the campaign's latest succeeded run of <paramref name="modelType"/>, optionally only among rounds
    /// before <paramref name="beforeRound"/>; null when there is none.
    /// </summary>
    public static Task<string?> LatestCheckpointAsync(this IQueryable<RewardModelRun> runs, Guid campaignId, string modelType,
        int? beforeRound, CancellationToken ct) =>
        runs.Where(r => r.CampaignId == campaignId && r.ModelType == modelType && r.Status == RunStatus.Succeeded && r.CheckpointPath != null
                        && (beforeRound == null || r.RoundIndex < beforeRound))
            .OrderByDescending(r => r.RoundIndex).Select(r => r.CheckpointPath).FirstOrDefaultAsync(ct);
}
