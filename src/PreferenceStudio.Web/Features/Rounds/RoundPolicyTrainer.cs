using PreferenceStudio.Core.Media.Stores;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Policies;
using PreferenceStudio.Web.Features.Live;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Rounds;

/// <summary>The policies a round's training produced for the next round, with their evaluation.</summary>
/// <param name="Error">Why the policy could not be trained (the previous one is kept), or null.</param>
public sealed record NextPolicies(IReadOnlyList<Policy> Policies, double? ScaledReturn, double? MeanReturn, string? Error = null);

/// <summary>
/// Trains the next round's policy on the learned reward of the campaign's policy model: value iteration in tabular
/// environments (one policy per rater too when the campaign is personalised and the model is per-rater), PPO within
/// the campaign's step budget in continuous ones. PPO writes a checkpoint as it goes at a path fixed by campaign and
/// round, so a restart resumes from it. When the reward model or the policy training failed, the previous policy is kept.
/// </summary>
public sealed class RoundPolicyTrainer(
    IDbContextFactory<StudioDbContext> dbFactory,
    TorchTrainingThread trainingThread,
    IMediaStore store,
    CampaignEvents events,
    IOptions<StudioOptions> options,
    ILogger<RoundPolicyTrainer> logger)
{
    /// <summary>Episodes of the true-reward evaluation of a continuous policy.</summary>
    public const int EvaluationEpisodes = 10;

    public async Task<NextPolicies> TrainAsync(Campaign campaign, IPreferenceEnvironment env, int roundIndex, RewardModelRun? run, CancellationToken ct)
    {
        string folder = Path.Combine(options.Value.CheckpointPath, campaign.Id.ToString("N"));
        string device = options.Value.Training.Device;
        // The reward model's checkpoint, brought from the shared store if another worker trained it.
        if (run is not { Status: RunStatus.Succeeded, CheckpointPath: { } recorded } || await store.LocalCopyAsync(recorded, ct) is not { } checkpoint)
            return await KeepPreviousAsync(campaign, env, roundIndex, null, ct);
        try
        {
            return env switch
            {
                ITabularEnvironment tabular => await trainingThread.RunAsync(() => PlanTabular(campaign, tabular, checkpoint, folder, roundIndex, device), ct),
                _ when !env.ActionSpace.IsDiscrete && campaign.PolicyLearner == PolicyLearners.Sac =>
                    await TrainSacAsync(campaign, env, checkpoint, folder, roundIndex, device, ct),
                _ when !env.ActionSpace.IsDiscrete => await TrainPpoAsync(campaign, env, checkpoint, folder, roundIndex, device, ct),
                _ => throw new PolicyTrainingException($"{env.Name} has discrete actions but no tabular planner; the studio cannot train its policy."),
            };
        }
        catch (Exception ex) when (ex is PolicyTrainingException or RewardTrainingException)
        {
            logger.LogWarning(ex, "Policy training for round {Round} of {Campaign} failed", roundIndex + 2, campaign.Name);
            await events.PublishAsync(new CampaignChanged(campaign.Id, CampaignChangeKind.Failure, roundIndex, ex.Message));
            return await KeepPreviousAsync(campaign, env, roundIndex, "Policy training failed: " + ex.Message, ct);
        }
    }

    private static NextPolicies PlanTabular(Campaign campaign, ITabularEnvironment env, string checkpoint, string folder, int roundIndex, string device)
    {
        using var model = RewardModels.Load(checkpoint, env, device);
        var shared = RewardTable.Plan(model, env).Policy;
        var path = Path.Combine(folder, $"policy-round{roundIndex + 2}.json");
        PolicyFiles.Write(path, shared);
        double scaled = ScaledReturn.Compute(env, shared);
        var policies = new List<Policy> { new() { Kind = "value-iteration", CheckpointPath = path, ScaledReturn = scaled } };
        if (campaign.PersonalisedPolicies && model is IPerRaterRewardModel perRater)
        {
            foreach (var rater in perRater.Raters.Order(StringComparer.Ordinal))
            {
                var own = RewardTable.Plan(perRater.ForRater(rater), env).Policy;
                var ownPath = Path.Combine(folder, $"policy-round{roundIndex + 2}-rater-{Safe(rater)}.json");
                PolicyFiles.Write(ownPath, own);
                policies.Add(new Policy { Kind = "value-iteration", CheckpointPath = ownPath, RaterId = rater, ScaledReturn = ScaledReturn.Compute(env, own) });
            }
        }
        return new NextPolicies(policies, scaled, null);
    }

    private async Task<NextPolicies> TrainPpoAsync(Campaign campaign, IPreferenceEnvironment env, string checkpoint, string folder,
        int roundIndex, string device, CancellationToken ct)
    {
        var path = Path.Combine(folder, $"policy-round{roundIndex + 2}.ppo");
        var progress = new ThrottledPolicyProgress(campaign.Id, roundIndex, events);
        return await trainingThread.RunAsync(() =>
        {
            using var model = RewardModels.Load(checkpoint, env, device);
            if (AdvantageGreedy(env, model, checkpoint) is { } greedy) return greedy;
            var ppo = PpoOptionsFor(campaign, roundIndex);
            var policies = new List<Policy>();
            double? meanReturn = null;
            var previous = Path.Combine(folder, $"policy-round{roundIndex + 1}.ppo");
            var shared = TrainOne(env, model, ppo, null, path, previous, progress, ct);
            policies.Add(shared.Policy);
            meanReturn = shared.Policy.MeanReturn;
            if (campaign.PersonalisedPolicies && model is IPerRaterRewardModel perRater)
            {
                // One policy per rater on that rater's reward, each within the same step budget.
                foreach (var rater in perRater.Raters.Order(StringComparer.Ordinal))
                {
                    var raterPath = Path.Combine(folder, $"policy-round{roundIndex + 2}-rater-{Safe(rater)}.ppo");
                    var raterPrevious = Path.Combine(folder, $"policy-round{roundIndex + 1}-rater-{Safe(rater)}.ppo");
                    var own = TrainOne(env, perRater.ForRater(rater), ppo, rater, raterPath,
                        File.Exists(raterPrevious + ".partial") ? raterPrevious : previous, progress, ct);
                    policies.Add(own.Policy);
                }
            }
            return new NextPolicies(policies, null, meanReturn);
        }, ct);
    }

    /// <summary>
    /// Knox et al. 2023: a learned optimal advantage is best used greedily as the policy, not as a reward to train one
    /// on; the policy is the reward model itself. Null for any other model.
    /// </summary>
    private static NextPolicies? AdvantageGreedy(IPreferenceEnvironment env, IRewardModel model, string checkpoint)
    {
        if (model is not Learning.Regret.RegretRewardModel { Form: Learning.Regret.RegretForm.Advantage } advantage) return null;
        var greedy = Learning.Policies.PolicyEvaluation.Evaluate(env, s => advantage.GreedyAction(s), EvaluationEpisodes);
        return new NextPolicies([new Policy { Kind = RolloutPolicy.AdvantageGreedy, CheckpointPath = checkpoint, MeanReturn = greedy.MeanReturn }],
            null, greedy.MeanReturn);
    }

    /// <summary>
    /// SAC (PEBBLE): the agent that rolled out this round (the explorer before round 1, else the last round's agent;
    /// a fresh one when there is none) loads with its whole replay buffer, relabels it with the new reward, trains for the
    /// campaign's step budget and is saved whole as the next round's policy. A file already written (a restart after
    /// training) is used as it is; a restart during training trains again from the previous agent.
    /// </summary>
    private async Task<NextPolicies> TrainSacAsync(Campaign campaign, IPreferenceEnvironment env, string checkpoint, string folder,
        int roundIndex, string device, CancellationToken ct)
    {
        var path = Path.Combine(folder, $"policy-round{roundIndex + 2}.sac");
        string? previous = null;
        if (!File.Exists(path))
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var recorded = await db.Policies.AsNoTracking()
                .Where(p => p.CampaignId == campaign.Id && p.RoundIndex == roundIndex && p.RaterId == null && p.Kind == Learning.Policies.Sac.SacAgent.AlgorithmName)
                .OrderByDescending(p => p.CreatedAt).Select(p => p.CheckpointPath).FirstOrDefaultAsync(ct);
            if (recorded is not null) previous = await store.LocalCopyAsync(recorded, ct);
        }
        return await trainingThread.RunAsync(() =>
        {
            using var model = RewardModels.Load(checkpoint, env, device);
            if (AdvantageGreedy(env, model, checkpoint) is { } greedy) return greedy;
            if (!File.Exists(path))
            {
                using var agent = previous is not null
                    ? Learning.Policies.Sac.SacAgent.Load(previous, env)
                    : new Learning.Policies.Sac.SacAgent(env, SacPresets.For(env.Name) with { Seed = RoundPreparer.RoundSeed(campaign.Seed, roundIndex) });
                agent.UseReward(model);
                agent.Train(campaign.PolicySteps, null, ct);
                agent.Save(path);
            }
            using var trained = Learning.Policies.Sac.SacAgent.Load(path, env);
            var evaluation = Learning.Policies.PolicyEvaluation.Evaluate(env, s => trained.Act(s, deterministic: true), EvaluationEpisodes);
            return new NextPolicies([new Policy { Kind = Learning.Policies.Sac.SacAgent.AlgorithmName, CheckpointPath = path, MeanReturn = evaluation.MeanReturn }],
                null, evaluation.MeanReturn);
        }, ct);
    }

    /// <summary>
    /// Trains one policy unless its final file exists. Training continues from <paramref name="previous"/>'s training
    /// checkpoint (the last round's policy, its value function and normalisers) when there is one, for the campaign's
    /// step budget on top of the steps that checkpoint had; the starting count is written beside the checkpoint, so a
    /// restart mid-training resumes towards the same total.
    /// </summary>
    private static (Policy Policy, Learning.Policies.PolicyEvaluationResult Evaluation) TrainOne(IPreferenceEnvironment env, IRewardModel reward, PpoOptions ppo,
        string? rater, string path, string previous, IProgress<PolicyTrainingProgress> progress, CancellationToken ct)
    {
        if (!File.Exists(path))
        {
            string partial = path + ".partial", startFile = path + ".start";
            if (!File.Exists(startFile))
            {
                long start = 0;
                if (File.Exists(previous + ".partial") && File.Exists(previous))
                {
                    File.Copy(previous + ".partial", partial, overwrite: true);
                    using var before = GaussianPolicy.Load(previous, env);
                    start = before.TrainedSteps;
                }
                File.WriteAllText(startFile, start.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }
            long total = long.Parse(File.ReadAllText(startFile), System.Globalization.CultureInfo.InvariantCulture) + ppo.TotalSteps;
            var result = new PpoTrainer().Train(env, new LearnedRewardSource(reward), ppo with { TotalSteps = total, CheckpointPath = partial },
                null, progress, ct, resumeFrom: partial);
            using (result.Policy)
            {
                var temp = path + ".tmp";
                result.Policy.Save(temp);
                File.Move(temp, path, overwrite: true);
            }
        }
        using var policy = GaussianPolicy.Load(path, env);
        var evaluation = Learning.Policies.PolicyEvaluation.Evaluate(env, policy, EvaluationEpisodes);
        return (new Policy { Kind = GaussianPolicy.AlgorithmName, CheckpointPath = path, RaterId = rater, MeanReturn = evaluation.MeanReturn }, evaluation);
    }

    /// <summary>PPO settings of a campaign round: the campaign's step budget, seeded by campaign and round.</summary>
    public static PpoOptions PpoOptionsFor(Campaign campaign, int roundIndex) =>
        PpoPresets.For(campaign.Environment) with { TotalSteps = campaign.PolicySteps, Seed = RoundPreparer.RoundSeed(campaign.Seed, roundIndex) };

    /// <summary>No new reward to train on: the next round rolls out the latest policy again (uniform when none).</summary>
    private async Task<NextPolicies> KeepPreviousAsync(Campaign campaign, IPreferenceEnvironment env, int roundIndex, string? error, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var previous = await db.Policies.AsNoTracking()
            .Where(p => p.CampaignId == campaign.Id && p.RoundIndex <= roundIndex && p.RaterId == null)
            .OrderByDescending(p => p.RoundIndex).FirstOrDefaultAsync(ct);
        var copy = new Policy
        {
            Kind = previous?.Kind ?? "uniform",
            CheckpointPath = previous?.CheckpointPath,
            ScaledReturn = previous?.ScaledReturn ?? (env is ITabularEnvironment ? 0 : null),
            MeanReturn = previous?.MeanReturn,
        };
        return new NextPolicies([copy], copy.ScaledReturn, copy.MeanReturn, error);
    }

    private static string Safe(string rater) => string.Concat(rater.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' ? ch : '_'));

    /// <summary>Pushes policy-training progress to pages at most a few times a second.</summary>
    private sealed class ThrottledPolicyProgress(Guid campaignId, int roundIndex, CampaignEvents events) : IProgress<PolicyTrainingProgress>
    {
        private long _lastTicks;

        public void Report(PolicyTrainingProgress value)
        {
            long now = Environment.TickCount64;
            if (now - Interlocked.Read(ref _lastTicks) < 250 && value.Steps < value.TotalSteps) return;
            Interlocked.Exchange(ref _lastTicks, now);
            _ = events.PublishAsync(new CampaignChanged(campaignId, CampaignChangeKind.PolicyTraining, roundIndex,
                Message: $"{value.Steps:N0} / {value.TotalSteps:N0} steps, mean episode return {value.MeanEpisodeReturn:0.0}",
                Done: (int)Math.Min(value.Steps, int.MaxValue), Total: (int)Math.Min(value.TotalSteps, int.MaxValue)));
        }
    }
}
