using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Loop;
using PreferenceStudio.Web.Features.Live;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Rounds;

/// <summary>
/// The TrainRound step: trains the campaign's reward model on every label so far (held-out pairs excluded), records the
/// run, plans the next policy on the learned reward, and queues the next round. A finished run is reused after a
/// restart instead of being trained again; a failed run is recorded and the campaign goes on with its previous policy.
/// </summary>
public sealed class RoundTrainer(
    IDbContextFactory<StudioDbContext> dbFactory,
    TorchTrainingThread trainingThread,
    CampaignEvents events,
    IOptions<StudioOptions> options,
    ILogger<RoundTrainer> logger)
{
    /// <summary>Reward-model settings for the tabular loop: small MLP over the 6 step features, seeded per round.</summary>
    public static RewardModelOptions ModelOptions(int seed, string device) =>
        new() { Epochs = 200, Seed = seed, Device = device };

    public async Task TrainAsync(Guid campaignId, int roundIndex, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var campaign = await db.Campaigns.FirstAsync(c => c.Id == campaignId, ct);
        var round = await db.Rounds.FirstAsync(r => r.CampaignId == campaignId && r.Index == roundIndex, ct);
        if (round.Status is RoundStatus.Completed) return;
        if (EnvironmentRegistry.Get(campaign.Environment) is not ITabularEnvironment env)
            throw new NotSupportedException($"Environment {campaign.Environment} has no policy trainer yet.");

        var run = await db.RewardModelRuns
            .Where(r => r.CampaignId == campaignId && r.RoundIndex == roundIndex && r.Status == RunStatus.Succeeded)
            .OrderByDescending(r => r.StartedAt).FirstOrDefaultAsync(ct);
        int[]? policyActions;
        double scaledReturn;
        if (run?.CheckpointPath is not null && File.Exists(run.CheckpointPath))
        {
            // Trained before a restart: plan from the saved model rather than training the same step twice.
            (policyActions, scaledReturn) = await trainingThread.RunAsync(() =>
            {
                using var model = BradleyTerryRewardModel.Load(run.CheckpointPath, env, options.Value.Training.Device);
                var plan = RewardTable.Plan(model, env);
                return ((int[]?)plan.Policy, ScaledReturn.Compute(env, plan.Policy));
            }, ct);
        }
        else
        {
            (run, policyActions, scaledReturn) = await TrainNewAsync(db, campaign, env, roundIndex, ct);
        }

        string? policyPath = null;
        if (policyActions is not null)
        {
            policyPath = Path.Combine(options.Value.CheckpointPath, campaign.Id.ToString("N"), $"policy-round{roundIndex + 2}.json");
            PolicyFiles.Write(policyPath, policyActions);
        }
        bool last = roundIndex + 1 >= campaign.RoundCount;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var policyExists = await db.Policies.AnyAsync(p => p.CampaignId == campaignId && p.RoundIndex == roundIndex + 1, ct);
        if (!policyExists)
        {
            db.Policies.Add(new Policy
            {
                CampaignId = campaignId, RoundIndex = roundIndex + 1, Kind = policyActions is null ? "uniform" : "value-iteration",
                CheckpointPath = policyPath, RewardModelRunId = run?.Id, ScaledReturn = scaledReturn,
            });
        }
        round.Status = RoundStatus.Completed;
        round.HeldoutAccuracy = run?.HeldoutAccuracy;
        round.HeldoutLogLik = run?.HeldoutLogLik;
        round.ScaledReturn = scaledReturn;
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

    private async Task<(RewardModelRun? Run, int[]? Policy, double ScaledReturn)> TrainNewAsync(
        StudioDbContext db, Campaign campaign, ITabularEnvironment env, int roundIndex, CancellationToken ct)
    {
        // A run left "Running" by a crash never finished: say so, then train afresh.
        await db.RewardModelRuns
            .Where(r => r.CampaignId == campaign.Id && r.RoundIndex == roundIndex && r.Status == RunStatus.Running)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, RunStatus.Failed)
                .SetProperty(r => r.Error, "interrupted by a restart before it finished")
                .SetProperty(r => r.FinishedAt, DateTimeOffset.UtcNow), ct);

        var labels = await db.Labels.AsNoTracking()
            .Where(l => l.CampaignId == campaign.Id && (l.Comparison!.RoundIndex == null || l.Comparison.RoundIndex <= roundIndex))
            .Select(l => new
            {
                l.Choice, l.Comparison!.IsHeldOut,
                LeftStates = l.Comparison.LeftSegment!.States, LeftActions = l.Comparison.LeftSegment.Actions,
                RightStates = l.Comparison.RightSegment!.States, RightActions = l.Comparison.RightSegment.Actions,
            })
            .ToListAsync(ct);
        var pairs = labels.Select(l => (l.IsHeldOut, Pair: new PreferencePair(
            new Segment(l.LeftStates, l.LeftActions), new Segment(l.RightStates, l.RightActions), l.Choice))).ToList();
        var train = pairs.Where(p => !p.IsHeldOut).Select(p => p.Pair).ToList();
        var test = pairs.Where(p => p.IsHeldOut).Select(p => p.Pair).ToList();

        var run = new RewardModelRun
        {
            CampaignId = campaign.Id, RoundIndex = roundIndex, ModelType = campaign.RewardModel, Status = RunStatus.Running,
            NTrain = train.Count, NTest = test.Count,
        };
        db.RewardModelRuns.Add(run);
        await db.SaveChangesAsync(ct);

        var checkpoint = Path.Combine(options.Value.CheckpointPath, campaign.Id.ToString("N"), $"reward-{run.Id:N}.bin");
        Directory.CreateDirectory(Path.GetDirectoryName(checkpoint)!);
        var progress = new ThrottledProgress(campaign.Id, roundIndex, events);
        try
        {
            var result = await trainingThread.RunAsync(() =>
            {
                var learned = RoundLearner.Learn(env, new BradleyTerryTrainer(), train, test,
                    ModelOptions(RoundPreparer.RoundSeed(campaign.Seed, roundIndex), options.Value.Training.Device), progress, ct);
                using (learned.Model) learned.Model.Save(checkpoint);
                return learned;
            }, ct);
            var heldout = result.Heldout;
            run.Status = RunStatus.Succeeded;
            run.NTrain = result.TrainCount;
            run.NTest = heldout.DecisiveCount;
            run.HeldoutAccuracy = double.IsNaN(heldout.Accuracy) ? null : heldout.Accuracy;
            run.HeldoutLogLik = double.IsNaN(heldout.MeanLogLikelihood) ? null : heldout.MeanLogLikelihood;
            run.CheckpointPath = checkpoint;
            run.Metrics = JsonSerializer.Serialize(new
            {
                heldout_accuracy = run.HeldoutAccuracy,
                heldout_loglik = run.HeldoutLogLik,
                n_train = result.TrainCount,
                n_test = heldout.Count,
                n_test_decisive = heldout.DecisiveCount,
                scaled_return = result.Evaluation.ScaledReturn,
                policy_value = result.Evaluation.PolicyValue,
                optimal_value = result.Evaluation.OptimalValue,
                uniform_value = result.Evaluation.UniformValue,
            });
            run.FinishedAt = DateTimeOffset.UtcNow;
            await db.SaveChangesAsync(ct);
            return (run, result.Policy, result.Evaluation.ScaledReturn);
        }
        catch (Exception ex) when (ex is RewardTrainingException or InvalidOperationException or ArgumentException)
        {
            // A model that cannot be trained (too few or one-sided labels, a diverging loss) must not stop the campaign:
            // record why, and let the next round use the previous policy.
            logger.LogWarning(ex, "Reward model for round {Round} of {Campaign} failed", roundIndex + 1, campaign.Name);
            run.Status = RunStatus.Failed;
            run.Error = ex.Message;
            run.FinishedAt = DateTimeOffset.UtcNow;
            await db.SaveChangesAsync(ct);
            await db.Rounds.Where(r => r.CampaignId == campaign.Id && r.Index == roundIndex)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.Error, "Reward model failed: " + ex.Message), ct);
            await events.PublishAsync(new CampaignChanged(campaign.Id, CampaignChangeKind.Failure, roundIndex, ex.Message));
            var previous = await PreviousPolicyAsync(db, campaign, roundIndex, ct);
            // The uniform policy's scaled return is 0 by definition.
            return (null, previous, previous is null ? 0 : ScaledReturn.Compute(env, previous));
        }
    }

    /// <summary>The latest learned policy before this round, or null for the uniform policy when none was learned.</summary>
    private static async Task<int[]?> PreviousPolicyAsync(StudioDbContext db, Campaign campaign, int roundIndex, CancellationToken ct)
    {
        var path = await db.Policies.Where(p => p.CampaignId == campaign.Id && p.RoundIndex <= roundIndex && p.CheckpointPath != null)
            .OrderByDescending(p => p.RoundIndex).Select(p => p.CheckpointPath).FirstOrDefaultAsync(ct);
        return path is not null && File.Exists(path) ? PolicyFiles.Read(path) : null;
    }

    /// <summary>Pushes training progress to pages at most a few times a second.</summary>
    private sealed class ThrottledProgress(Guid campaignId, int roundIndex, CampaignEvents events) : IProgress<TrainingProgress>
    {
        private long _lastTicks;

        public void Report(TrainingProgress value)
        {
            long now = Environment.TickCount64;
            if (now - Interlocked.Read(ref _lastTicks) < 250 && value.Epoch != value.Epochs) return;
            Interlocked.Exchange(ref _lastTicks, now);
            _ = events.PublishAsync(new CampaignChanged(campaignId, CampaignChangeKind.Training, roundIndex, Epoch: value.Epoch, Loss: value.Loss));
        }
    }
}
