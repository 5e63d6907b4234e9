using PreferenceStudio.Core.Media.Stores;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.QuerySelection;
using PreferenceStudio.Learning.Vpl;
using PreferenceStudio.Web.Features.Rounds;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Rating;

/// <summary>
/// Orders a round's open pairs for one rater by VPL information gain (campaigns with query strategy "info-gain"):
/// the pair whose answer would tell the most about this rater's latent, given the labels the rater gave so far, comes
/// first. Uses the campaign's latest trained per-rater model; before one exists the order is left as it is.
/// </summary>
public sealed class PersonalQueries(IDbContextFactory<StudioDbContext> dbFactory,
    [FromKeyedServices(PersonalQueries.InferenceThread)] TorchTrainingThread inferenceThread, IMediaStore store, IOptions<StudioOptions> options)
{
    /// <summary>The service key of the torch thread that runs rater-facing inference, apart from training.</summary>
    public const string InferenceThread = "inference";

    // The latest model, loaded once and used for every rater until a newer run replaces it. Touched on the inference thread only.
    private (string Path, IRewardModel Model)? _cached;

    /// <summary>Pairs considered per request: enough choice to matter, few enough to score in milliseconds.</summary>
    public const int CandidatePool = 30;

    /// <summary>The candidates, most informative about <paramref name="rater"/> first (models know raters by pseudonym).</summary>
    public async Task<IReadOnlyList<Guid>> RankAsync(Campaign campaign, Raters.RaterRef rater, IReadOnlyList<Guid> candidates, CancellationToken ct)
    {
        if (campaign.QueryStrategy != InformationGainSelector.SelectorName || candidates.Count < 2) return candidates;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var recorded = await db.RewardModelRuns.LatestCheckpointAsync(campaign.Id, campaign.RewardModel, beforeRound: null, ct);
        // A web node reads the checkpoint a worker published (from the shared store, once).
        var path = recorded is null ? null : await store.LocalCopyAsync(recorded, ct);
        if (path is null) return candidates;

        var pairs = await db.Comparisons.AsNoTracking().Where(c => candidates.Contains(c.Id))
            .Select(c => new { c.Id, LS = c.LeftSegment!.States, LA = c.LeftSegment.Actions, RS = c.RightSegment!.States, RA = c.RightSegment.Actions })
            .ToListAsync(ct);
        var byId = pairs.ToDictionary(p => p.Id);
        var ordered = candidates.Where(byId.ContainsKey).ToList();
        var labels = await db.Labels.AsNoTracking().Where(l => l.CampaignId == campaign.Id && l.RaterId == rater.Id)
            .OrderBy(l => l.Id)
            .Select(l => new { l.Choice, LS = l.Comparison!.LeftSegment!.States, LA = l.Comparison.LeftSegment.Actions, RS = l.Comparison.RightSegment!.States, RA = l.Comparison.RightSegment.Actions })
            .ToListAsync(ct);
        var context = labels.Select(l => new PreferencePair(new Segment(l.LS, l.LA), new Segment(l.RS, l.RA), l.Choice, rater.Pseudonym)).ToList();
        var candidatePairs = ordered.Select(id => new CandidatePair(new Segment(byId[id].LS, byId[id].LA), new Segment(byId[id].RS, byId[id].RA))).ToList();
        var env = CampaignEnvironment.Create(campaign);
        var device = options.Value.Training.Device;

        var order = await inferenceThread.RunAsync(() =>
        {
            if (_cached is not { } cached || cached.Path != path)
            {
                _cached?.Model.Dispose();
                _cached = null;
                _cached = (path, RewardModels.Load(path, env, device));
            }
            return QuerySelectors.Create(InformationGainSelector.SelectorName).Select(candidatePairs, candidatePairs.Count,
                new QueryContext(env, _cached.Value.Model, rater.Pseudonym, context), new Random(0));
        }, ct);
        return order.Select(i => ordered[i]).ToList();
    }
}
