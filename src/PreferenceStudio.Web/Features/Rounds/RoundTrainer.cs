using PreferenceStudio.Core.Media.Stores;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Reliability;
using PreferenceStudio.Learning.Loop;
using PreferenceStudio.Learning.Surf;
using PreferenceStudio.Web.Features.Hierarchy;
using PreferenceStudio.Web.Features.Live;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Rounds;

/// <summary>
/// The TrainRound step: trains each of the campaign's reward models on every label so far (held-out pairs excluded;
/// clip labels, raters' factor-hierarchy labels or both, as the campaign's label source says, see <see cref="TrainingLabels"/>),
/// one at a time on the training thread, records each run with its metrics, trains the next policy on the policy's
/// model (see <see cref="RoundPolicyTrainer"/>), and queues the next round. A finished run is reused after a restart
/// instead of being trained again; a failed run is recorded and the campaign goes on (with its previous policy when
/// the failed model is the one that trains the policy).
/// </summary>
public sealed class RoundTrainer(
    IDbContextFactory<StudioDbContext> dbFactory,
    TorchTrainingThread trainingThread,
    RoundPolicyTrainer policyTrainer,
    IMediaStore store,
    CampaignEvents events,
    IOptions<StudioOptions> options,
    ILogger<RoundTrainer> logger)
{
    /// <summary>Reward-model settings for the loop: small MLP over the step features, seeded per round.</summary>
    public static RewardModelOptions ModelOptions(int seed, string device) =>
        new() { Epochs = 200, Seed = seed, Device = device };

    public async Task TrainAsync(Guid campaignId, int roundIndex, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var campaign = await db.Campaigns.FirstAsync(c => c.Id == campaignId, ct);
        var round = await db.Rounds.FirstAsync(r => r.CampaignId == campaignId && r.Index == roundIndex, ct);
        if (round.Status is RoundStatus.Completed) return;
        var env = CampaignEnvironment.Create(campaign);

        var excluded = await Quality.QualityService.ExcludedRaterIdsAsync(db, campaign, ct);
        var (clipTrain, test) = await LoadPairsAsync(db, campaign.Id, roundIndex, ct, excluded,
            await Quality.PracticeAnswers.LabelIdsAsync(db, campaign, ct));
        var labels = await TrainingLabels.ComposeAsync(db, campaign, env, roundIndex, clipTrain, test, ct, excluded);
        RewardModelRun? primary = null;
        foreach (var type in campaign.AllRewardModels())
        {
            var run = await EnsureRunAsync(db, campaign, env, roundIndex, type, labels, ct);
            if (type == campaign.RewardModel) primary = run;
        }

        var next = await policyTrainer.TrainAsync(campaign, env, roundIndex, primary, ct);
        // New policy files, readable by the node that plans the next round (a kept policy was published when made).
        foreach (var path in next.Policies.Select(p => p.CheckpointPath).OfType<string>().Distinct().Where(File.Exists))
            await store.PublishAsync(path, ct);
        bool last = roundIndex + 1 >= campaign.RoundCount;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var existing = await db.Policies.Where(p => p.CampaignId == campaignId && p.RoundIndex == roundIndex + 1)
            .Select(p => p.RaterId).ToListAsync(ct);
        foreach (var policy in next.Policies.Where(p => !existing.Contains(p.RaterId)))
        {
            policy.CampaignId = campaignId;
            policy.RoundIndex = roundIndex + 1;
            policy.RewardModelRunId = primary?.Status == RunStatus.Succeeded ? primary.Id : null;
            db.Policies.Add(policy);
        }
        round.Status = RoundStatus.Completed;
        round.HeldoutAccuracy = primary?.HeldoutAccuracy;
        round.HeldoutLogLik = primary?.HeldoutLogLik;
        round.ScaledReturn = next.ScaledReturn;
        round.MeanReturn = next.MeanReturn;
        if (next.Error is not null) round.Error = next.Error;
        if (last)
        {
            campaign.Status = CampaignStatus.Completed;
            campaign.StatusMessage = $"All {campaign.RoundCount} rounds are done.";
        }
        await db.SaveChangesAsync(ct);
        if (!last) await JobQueue.EnqueueAsync(db, campaignId, JobKind.PrepareRound, roundIndex + 1, ct);
        await tx.CommitAsync(ct);
        await events.PublishAsync(new CampaignChanged(campaignId, CampaignChangeKind.Metrics, roundIndex));
        if (last) await events.PublishAsync(new CampaignChanged(campaignId, CampaignChangeKind.Status, roundIndex));
    }

    /// <summary>Every label of the campaign up to this round, as training and held-out pairs carrying their rater's pseudonym.</summary>
    /// <param name="excluded">Internal ids of raters whose labels do not train (they still measure, as held-out labels).</param>
    /// <param name="practice">Ids of practice answers (<see cref="Quality.PracticeAnswers"/>): they do not train.</param>
    internal static async Task<(List<PreferencePair> Train, List<PreferencePair> Test)> LoadPairsAsync(
        StudioDbContext db, Guid campaignId, int roundIndex, CancellationToken ct, IReadOnlySet<string>? excluded = null, IReadOnlySet<Guid>? practice = null)
    {
        var labels = await db.Labels.AsNoTracking()
            .Where(l => l.CampaignId == campaignId && (l.Comparison!.RoundIndex == null || l.Comparison.RoundIndex <= roundIndex))
            .OrderBy(l => l.Id)
            .Select(l => new
            {
                l.Id, l.Choice, l.RaterId, l.Comparison!.IsHeldOut, l.ComparisonId, l.Comparison.Gold,
                LeftStates = l.Comparison.LeftSegment!.States, LeftActions = l.Comparison.LeftSegment.Actions,
                RightStates = l.Comparison.RightSegment!.States, RightActions = l.Comparison.RightSegment.Actions,
            })
            .ToListAsync(ct);
        // Models, their metrics and checkpoints know raters by their pseudonym in the campaign, never by the id their
        // identity resolves to.
        var names = await Raters.RaterDirectory.PseudonymsAsync(db, campaignId, ct);
        var pairs = labels.Where(l => practice is null || !practice.Contains(l.Id)).Select(l => (l.IsHeldOut, l.RaterId, Pair: new PreferencePair(
            new Segment(l.LeftStates, l.LeftActions), new Segment(l.RightStates, l.RightActions), l.Choice,
            l.RaterId is null ? null : names.GetValueOrDefault(l.RaterId, l.RaterId), Gold: l.Gold, PairKey: l.ComparisonId.ToString("N")))).ToList();
        return (pairs.Where(p => !p.IsHeldOut && (excluded is null || p.RaterId is null || !excluded.Contains(p.RaterId))).Select(p => p.Pair).ToList(),
            pairs.Where(p => p.IsHeldOut).Select(p => p.Pair).ToList());
    }

    /// <summary>The round's succeeded run of <paramref name="type"/>, training it now when there is none.</summary>
    private async Task<RewardModelRun> EnsureRunAsync(StudioDbContext db, Campaign campaign, IPreferenceEnvironment env, int roundIndex,
        string type, TrainingLabels labels, CancellationToken ct)
    {
        var (train, test) = (labels.Train, labels.Test);
        var done = await db.RewardModelRuns
            .Where(r => r.CampaignId == campaign.Id && r.RoundIndex == roundIndex && r.ModelType == type && r.Status == RunStatus.Succeeded)
            .OrderByDescending(r => r.StartedAt).FirstOrDefaultAsync(ct);
        if (done?.CheckpointPath is not null && await store.LocalCopyAsync(done.CheckpointPath, ct) is not null) return done;

        // A run left "Running" by a crash never finished: say so, then train afresh.
        await db.RewardModelRuns
            .Where(r => r.CampaignId == campaign.Id && r.RoundIndex == roundIndex && r.ModelType == type && r.Status == RunStatus.Running)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, RunStatus.Failed)
                .SetProperty(r => r.Error, "interrupted by a restart before it finished")
                .SetProperty(r => r.FinishedAt, DateTimeOffset.UtcNow), ct);

        var run = new RewardModelRun
        {
            CampaignId = campaign.Id, RoundIndex = roundIndex, ModelType = type, Status = RunStatus.Running,
            NTrain = train.Count, NTest = test.Count,
            Metrics = new RewardModelMetrics { Model = type, Sources = labels.Sources.ToCounts(type) }.Serialize(),
        };
        db.RewardModelRuns.Add(run);
        await db.SaveChangesAsync(ct);

        var checkpoint = Path.Combine(options.Value.CheckpointPath, campaign.Id.ToString("N"), $"reward-{type}-{run.Id:N}.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(checkpoint)!);
        var progress = new ThrottledProgress(campaign.Id, roundIndex, type, events);
        int seed = RoundPreparer.RoundSeed(campaign.Seed, roundIndex);
        // SURF pseudo-labels pairs of the campaign's segments so far (those of later rounds do not exist yet when retrained).
        var unlabelled = campaign.Surf
            ? (await db.Segments.AsNoTracking().Where(x => x.CampaignId == campaign.Id && x.RoundId != null)
                .Select(x => new { x.States, x.Actions }).ToListAsync(ct)).Select(x => new Segment(x.States, x.Actions)).ToList()
            : null;
        try
        {
            if (labels.Refusal is not null) throw new InvalidOperationException(labels.Refusal);
            IReadOnlyDictionary<string, double>? reliability = null;
            SurfTrainer? surf = null;
            IRewardModelTrainer Trainer() => unlabelled is null
                ? RewardModels.Trainer(type)
                : surf = new SurfTrainer(RewardModels.Trainer(type), unlabelled, new SurfOptions(), seed);
            var report = await trainingThread.RunAsync(() =>
            {
                var modelOptions = ModelOptions(seed, options.Value.Training.Device);
                IRewardModel trained;
                if (campaign.RaterWeighting == RaterWeighting.Reliability)
                {
                    // Every model type learns each rater's reliability with the reward (Dawid-Skene EM) and weights their labels by it.
                    // Labels drawn from factor rankings by the hierarchical rule join the fit unweighted.
                    var fromRankings = labels.FromRankings.ToHashSet(ReferenceEqualityComparer.Instance);
                    var answered = train.Where(p => !fromRankings.Contains(p)).ToList();
                    var fit = new ReliabilityWeightedTrainer(Trainer())
                        .Train(env, answered, modelOptions, progress, ct, fixedPairs: labels.FromRankings);
                    trained = fit.Model;
                    reliability = fit.Reliability;
                }
                else trained = Trainer().Train(env, train, modelOptions, progress, ct);
                using var model = trained;
                var measured = ModelEvaluation.Evaluate(env, model, type, train, test, seed);
                if (surf is not null)
                    measured = measured with { Metrics = measured.Metrics with { SurfPseudoLabels = surf.PseudoLabels, SurfCrops = surf.Crops } };
                model.Save(checkpoint);
                return measured;
            }, ct);
            await store.PublishAsync(checkpoint, ct);
            var heldout = report.Heldout;
            run.Status = RunStatus.Succeeded;
            run.NTrain = report.TrainCount;
            run.NTest = heldout.DecisiveCount;
            run.HeldoutAccuracy = double.IsFinite(heldout.Accuracy) ? heldout.Accuracy : null;
            run.HeldoutLogLik = double.IsFinite(heldout.MeanLogLikelihood) ? heldout.MeanLogLikelihood : null;
            run.CheckpointPath = checkpoint;
            run.Metrics = (report.Metrics with
            {
                Sources = labels.Sources.ToCounts(type),
                RaterWeighting = campaign.RaterWeighting,
                RaterReliability = reliability is null ? null : new(reliability.ToDictionary(r => r.Key, r => Math.Round(r.Value, 4)), StringComparer.Ordinal),
            }).Serialize();
            run.FinishedAt = DateTimeOffset.UtcNow;
            await db.SaveChangesAsync(ct);
            await events.PublishAsync(new CampaignChanged(campaign.Id, CampaignChangeKind.Metrics, roundIndex, Model: type));
        }
        catch (Exception ex) when (ex is RewardTrainingException or InvalidOperationException or ArgumentException)
        {
            // A model that cannot be trained (too few or one-sided labels, a diverging loss) must not stop the campaign:
            // record why; the policy step falls back to the previous policy when this is the policy's model.
            logger.LogWarning(ex, "Reward model {Type} for round {Round} of {Campaign} failed", type, roundIndex + 1, campaign.Name);
            run.Status = RunStatus.Failed;
            run.Error = ex.Message;
            run.FinishedAt = DateTimeOffset.UtcNow;
            await db.SaveChangesAsync(ct);
            await db.Rounds.Where(r => r.CampaignId == campaign.Id && r.Index == roundIndex)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.Error, $"Reward model {type} failed: {ex.Message}"), ct);
            await events.PublishAsync(new CampaignChanged(campaign.Id, CampaignChangeKind.Failure, roundIndex, ex.Message, Model: type));
        }
        return run;
    }

    /// <summary>Pushes training progress to pages at most a few times a second.</summary>
    private sealed class ThrottledProgress(Guid campaignId, int roundIndex, string model, CampaignEvents events) : IProgress<TrainingProgress>
    {
        private long _lastTicks;

        public void Report(TrainingProgress value)
        {
            long now = Environment.TickCount64;
            if (now - Interlocked.Read(ref _lastTicks) < 250 && value.Epoch != value.Epochs) return;
            Interlocked.Exchange(ref _lastTicks, now);
            _ = events.PublishAsync(new CampaignChanged(campaignId, CampaignChangeKind.Training, roundIndex, Epoch: value.Epoch, Loss: value.Loss, Model: model));
        }
    }
}
