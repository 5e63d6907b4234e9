using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Media;
using PreferenceStudio.Core.Media.Stores;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Rendering;
using Microsoft.Extensions.Options;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Loop;
using PreferenceStudio.Learning.Policies;
using PreferenceStudio.Learning.Policies.Sac;
using PreferenceStudio.Learning.QuerySelection;
using PreferenceStudio.Web.Hosting;
using PreferenceStudio.Web.Features.Live;

namespace PreferenceStudio.Web.Features.Rounds;

/// <summary>
/// The PrepareRound step: rolls out the round's policy, stores rollouts, segments, clips (pending) and pairs in one
/// transaction, renders the clips, then opens the round. Each part checks what is already stored, so a step cut
/// short by a crash resumes where it stopped: nothing is planned twice and a rendered clip is not rendered again.
/// </summary>
public sealed class RoundPreparer(
    IDbContextFactory<StudioDbContext> dbFactory,
    ClipEncoder encoder,
    IMediaStore store,
    TorchTrainingThread trainingThread,
    IOptions<StudioOptions> options,
    CampaignEvents events,
    ILogger<RoundPreparer> logger)
{
    /// <summary>Exploration of the rollouts that make a round's segments (epsilon-greedy around the policy).</summary>
    public const double RolloutEpsilon = 0.2;

    public async Task PrepareAsync(Guid campaignId, int roundIndex, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var campaign = await db.Campaigns.FirstAsync(c => c.Id == campaignId, ct);
        var env = CampaignEnvironment.Create(campaign);

        var round = await db.Rounds.FirstOrDefaultAsync(r => r.CampaignId == campaignId && r.Index == roundIndex, ct);
        if (round is null)
        {
            await events.PublishAsync(new CampaignChanged(campaignId, CampaignChangeKind.Planning, roundIndex,
                $"Planning round {roundIndex + 1}: rolling out the policy and choosing pairs"));
            round = await PlanAsync(db, campaign, env, roundIndex, ct);
            logger.LogInformation("Planned round {Round} of campaign {Campaign}", roundIndex + 1, campaign.Name);
        }
        if (round.Status != RoundStatus.Preparing) return;

        await RenderPendingClipsAsync(campaignId, round, env, ct);

        var failed = await db.Clips.CountAsync(c => c.RoundId == round.Id && c.Status == ClipStatus.Failed, ct);
        // A full disk is the machine's fault, not the clips': the step fails (and is retried, re-rendering them) rather
        // than opening the round without their pairs.
        var diskFull = await db.Clips.CountAsync(c => c.RoundId == round.Id && c.Status == ClipStatus.Failed
            && (c.Error!.Contains("No space left on device") || c.Error!.Contains("ENOSPC") || c.Error!.Contains("Disk quota exceeded")), ct);
        if (diskFull > 0)
            throw new IOException($"The disk holding the media folder ({options.Value.MediaPath}) is full: {diskFull} clip(s) of round "
                + $"{roundIndex + 1} could not be written. Free space there; the step is retried.");
        var usable = await db.Comparisons.CountAsync(x => x.RoundId == round.Id
            && x.LeftClip!.Status == ClipStatus.Rendered && x.RightClip!.Status == ClipStatus.Rendered, ct);
        if (usable == 0)
        {
            var firstError = await db.Clips.Where(c => c.RoundId == round.Id && c.Status == ClipStatus.Failed)
                .Select(c => c.Error).FirstOrDefaultAsync(ct);
            throw new InvalidOperationException($"No clip pair of round {roundIndex + 1} could be rendered: {firstError}");
        }
        await db.Rounds.Where(r => r.Id == round.Id).ExecuteUpdateAsync(u => u
            .SetProperty(r => r.Status, RoundStatus.Open)
            .SetProperty(r => r.OpenedAt, DateTimeOffset.UtcNow)
            .SetProperty(r => r.Error, failed > 0 ? $"{failed} clip(s) failed to render; their pairs are not shown." : null), ct);
        await events.PublishAsync(new CampaignChanged(campaignId, CampaignChangeKind.RoundOpened, roundIndex));
    }

    /// <summary>
    /// PEBBLE's unsupervised pre-training: a SAC agent learns to spread over the state space (state entropy) for the
    /// campaign's exploration steps before anyone has labelled anything, and the first round's clips come from it, so
    /// they show the whole state space (the mountain car's flag included). The agent is saved whole: with the SAC
    /// learner, the first round's training continues from it and its replay buffer. Done once; a re-plan reuses the file.
    /// </summary>
    private async Task<Policy> ExploreAsync(Campaign campaign, IPreferenceEnvironment env, CancellationToken ct)
    {
        var path = Path.Combine(options.Value.CheckpointPath, campaign.Id.ToString("N"), "policy-round1.sac");
        if (await store.LocalCopyAsync(path, ct) is null)
        {
            await trainingThread.RunAsync(() =>
            {
                using var explorer = new SacAgent(env, SacPresets.For(env.Name) with { Seed = RoundSeed(campaign.Seed, 0) });
                explorer.Explore(campaign.ExplorationSteps, null, ct);
                explorer.Save(path);
                return 0;
            }, ct);
            await store.PublishAsync(path, ct);
        }
        return new Policy { CampaignId = campaign.Id, RoundIndex = 0, Kind = SacAgent.AlgorithmName, CheckpointPath = path };
    }

    /// <summary>A seed per campaign and round that is the same in every process and on every machine.</summary>
    public static int RoundSeed(int campaignSeed, int roundIndex) => unchecked(campaignSeed * 1_000_003 + roundIndex);

    private async Task<Round> PlanAsync(StudioDbContext db, Campaign campaign, IPreferenceEnvironment env, int roundIndex, CancellationToken ct)
    {
        Policy policy;
        var personal = new List<Policy>();
        if (roundIndex == 0)
        {
            policy = campaign.ExplorationSteps > 0 && !env.ActionSpace.IsDiscrete
                ? await ExploreAsync(campaign, env, ct)
                : new Policy { CampaignId = campaign.Id, RoundIndex = 0, Kind = "uniform" };
            db.Policies.Add(policy);
        }
        else
        {
            var policies = await db.Policies.Where(p => p.CampaignId == campaign.Id && p.RoundIndex == roundIndex)
                .OrderByDescending(p => p.CreatedAt).ToListAsync(ct);
            policy = policies.FirstOrDefault(p => p.RaterId == null)
                ?? throw new InvalidOperationException($"Round {roundIndex + 1} has no policy; the previous round's training did not finish.");
            if (campaign.PersonalisedPolicies)
            {
                // Policies are per pseudonym; an erased rater gets no more pairs of their own.
                var erased = await Raters.RaterDirectory.ErasedPseudonymsAsync(db, campaign.Id, ct);
                personal = policies.Where(p => p.RaterId != null && !erased.Contains(p.RaterId)).DistinctBy(p => p.RaterId)
                    .OrderBy(p => p.RaterId, StringComparer.Ordinal).ToList();
            }
        }
        var modelPath = campaign.QueryStrategy != "random"
            ? await db.RewardModelRuns.LatestCheckpointAsync(campaign.Id, campaign.RewardModel, roundIndex, ct)
            : null;
        // Checkpoints another node wrote are brought here first (from the shared store).
        if (modelPath is not null) modelPath = await store.LocalCopyAsync(modelPath, ct);
        var policyFiles = new Dictionary<Policy, string?>(ReferenceEqualityComparer.Instance);
        foreach (var p in personal.Prepend(policy))
            policyFiles[p] = p.CheckpointPath is null ? null : await store.LocalCopyAsync(p.CheckpointPath, ct);

        // Seeded by campaign and round, so a re-planned round (after a crash before commit) is the same round.
        // Not HashCode.Combine: it is salted per process, and the same campaign must plan the same round on any run.
        // Planned on the torch thread: a PPO policy and the selector's reward model are TorchSharp modules.
        // A personalised round adds, for each rater with a policy of their own, pairs from that policy for that rater.
        var settings = new RoundPlanSettings(campaign.SegmentLength, campaign.PairsPerRound, RolloutEpsilon);
        var personalSettings = settings with { Pairs = Math.Max(2, campaign.PairsPerRound / (personal.Count + 1)) };
        var device = options.Value.Training.Device;
        var plans = await trainingThread.RunAsync(() =>
        {
            var rng = new Random(RoundSeed(campaign.Seed, roundIndex));
            using var model = modelPath is not null && File.Exists(modelPath) ? RewardModels.Load(modelPath, env, device) : null;
            var selector = QuerySelectors.Create(campaign.QueryStrategy);
            var result = new List<(PlannedRound Plan, Policy Policy)>();
            foreach (var p in personal.Prepend(policy))
            {
                using var rollout = RolloutPolicy.Load(env, p, policyFiles[p]);
                result.Add((RoundPlanner.Plan(env, rollout.Act, p.RaterId is null ? settings : personalSettings, rng, selector,
                    new QueryContext(env, model, p.RaterId)), p));
            }
            return result;
        }, ct);

        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var round = new Round { CampaignId = campaign.Id, Index = roundIndex, Status = RoundStatus.Preparing, PolicyId = policy.Id };
        db.Rounds.Add(round);
        int episodeIndex = 0, ordinal = 0;
        foreach (var (plan, planPolicy) in plans)
        {
            bool uniform = planPolicy.CheckpointPath is null;
            var rollouts = plan.Episodes.Select(e => new Rollout
            {
                CampaignId = campaign.Id, RoundId = round.Id, PolicyId = planPolicy.Id, EpisodeIndex = episodeIndex++,
                Seed = campaign.Seed, States = e.States, Actions = e.Actions, TrueReturn = env.TrueReturn(e),
                Epsilon = uniform ? 1.0 : RolloutEpsilon,
            }).ToList();
            db.Rollouts.AddRange(rollouts);

            var clips = new Clip[plan.Segments.Count];
            var records = new SegmentRecord[plan.Segments.Count];
            for (int i = 0; i < plan.Segments.Count; i++)
            {
                var planned = plan.Segments[i];
                var record = SegmentRecord.From(campaign.Id, planned.Segment);
                record.RoundId = round.Id;
                record.RolloutId = rollouts[planned.Episode].Id;
                record.StartStep = planned.StartStep;
                record.TrueReturn = env.TrueReturn(planned.Segment);
                record.Features = Enumerable.Range(0, planned.Segment.Actions.Length)
                    .Select(t => env.StepFeatures(planned.Segment.States[t], planned.Segment.Actions[t], planned.Segment.States[t + 1]))
                    .ToArray();
                records[i] = record;
                clips[i] = new Clip { SegmentId = record.Id, RoundId = round.Id, Status = ClipStatus.Pending };
            }
            db.Segments.AddRange(records);
            db.Clips.AddRange(clips);
            db.Comparisons.AddRange(plan.Pairs.Select(p => new Comparison
            {
                CampaignId = campaign.Id, RoundId = round.Id, RoundIndex = roundIndex, Ordinal = ordinal++,
                LeftSegmentId = records[p.Left].Id, RightSegmentId = records[p.Right].Id,
                LeftClipId = clips[p.Left].Id, RightClipId = clips[p.Right].Id,
                PolicyId = planPolicy.Id, IsHeldOut = p.HeldOut, ForRaterId = planPolicy.RaterId,
            }));
            if (planPolicy.RaterId is null && campaign.GoldFromTrueReward)
                foreach (var (left, right, answer) in GoldPairs(campaign, roundIndex, records, plan.Pairs))
                    db.Comparisons.Add(new Comparison
                    {
                        CampaignId = campaign.Id, RoundId = round.Id, RoundIndex = roundIndex, Ordinal = ordinal++,
                        LeftSegmentId = records[left].Id, RightSegmentId = records[right].Id,
                        LeftClipId = clips[left].Id, RightClipId = clips[right].Id,
                        PolicyId = planPolicy.Id, Gold = answer, GoldSource = GoldSources.TrueReward,
                    });
        }
        campaign.CurrentRound = roundIndex;
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return round;
    }

    /// <summary>
    /// Gold pairs answered by the environment's true reward: pairs of the round's segments (not already put to raters as
    /// a pair, nor from a held-out pair) whose true returns differ by at least the campaign's margin times the mean absolute segment return, so the
    /// answer is clear to anyone who looks. Seeded by campaign and round like the rest of the plan.
    /// </summary>
    internal static List<(int Left, int Right, PreferenceChoice Answer)> GoldPairs(Campaign campaign, int roundIndex,
        IReadOnlyList<SegmentRecord> segments, IReadOnlyList<PlannedPair> asked)
    {
        var result = new List<(int, int, PreferenceChoice)>();
        if (segments.Count < 2) return result;
        double scale = segments.Average(x => Math.Abs(x.TrueReturn ?? 0));
        double margin = campaign.GoldMargin * Math.Max(scale, 1e-9);
        var taken = asked.Select(p => (Math.Min(p.Left, p.Right), Math.Max(p.Left, p.Right))).ToHashSet();
        // Segments of held-out pairs measure the models on what they never trained on: gold answers train them.
        var heldOut = asked.Where(p => p.HeldOut).SelectMany(p => new[] { p.Left, p.Right }).ToHashSet();
        var rng = new Random(unchecked(RoundSeed(campaign.Seed, roundIndex) * 31 + 7));
        for (int attempt = 0; attempt < 50 * campaign.GoldPairsPerRound && result.Count < campaign.GoldPairsPerRound; attempt++)
        {
            int a = rng.Next(segments.Count), b = rng.Next(segments.Count);
            if (a == b || heldOut.Contains(a) || heldOut.Contains(b) || !taken.Add((Math.Min(a, b), Math.Max(a, b)))) continue;
            double d = (segments[b].TrueReturn ?? 0) - (segments[a].TrueReturn ?? 0);
            if (Math.Abs(d) < margin) continue;
            result.Add((a, b, d > 0 ? PreferenceChoice.Right : PreferenceChoice.Left));
        }
        return result;
    }

    /// <summary>
    /// Renders the round's clips not rendered yet, several at once; a clip that fails is marked with ffmpeg's message.
    /// Clips that failed in an earlier try of this step are tried again: the fault (a full disk, a missing ffmpeg)
    /// may have been mended since.
    /// </summary>
    private async Task RenderPendingClipsAsync(Guid campaignId, Round round, IPreferenceEnvironment env, CancellationToken ct)
    {
        var roundId = round.Id;
        List<(Guid Id, Segment Segment)> pending;
        int total, done;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            pending = (await db.Clips.Where(c => c.RoundId == roundId && (c.Status == ClipStatus.Pending || c.Status == ClipStatus.Failed))
                    .Select(c => new { c.Id, c.Segment!.States, c.Segment.Actions }).ToListAsync(ct))
                .Select(c => (c.Id, new Segment(c.States, c.Actions))).ToList();
            total = await db.Clips.CountAsync(c => c.RoundId == roundId, ct);
        }
        done = total - pending.Count;
        if (pending.Count == 0) return;
        // Researchers watch the clips being made; a message every half second at most keeps the pages calm.
        var lastReport = DateTime.MinValue;
        async Task ReportAsync(bool force)
        {
            if (!force && DateTime.UtcNow - lastReport < TimeSpan.FromMilliseconds(500)) return;
            lastReport = DateTime.UtcNow;
            await events.PublishAsync(new CampaignChanged(campaignId, CampaignChangeKind.Rendering, round.Index,
                $"Rendering round {round.Index + 1}'s clips: {done} of {total}", Done: done, Total: total));
        }
        await ReportAsync(force: true);
        var renderer = FrameRenderers.For(env);
        // Several clips per ffmpeg process, one process per core (ClipEncoder.EncodeManyAsync). Each result is stored
        // as soon as it is known, so clips finished before a crash are not rendered again; a clip that fails (ffmpeg's
        // error, a missing ffmpeg, a renderer that throws) is marked failed with the message and the round goes on.
        var finished = Channel.CreateUnbounded<ClipEncodeResult>(new UnboundedChannelOptions { SingleReader = true });
        var recorder = Task.Run(async () =>
        {
            await foreach (var result in finished.Reader.ReadAllAsync(ct))
            {
                await RecordAsync(pending[result.Index].Id, result, ct);
                done++;
                await ReportAsync(force: done == total);
            }
        }, ct);
        try
        {
            await encoder.EncodeManyAsync(pending.Select(p => p.Segment).ToList(), renderer, Environment.ProcessorCount,
                result => finished.Writer.TryWrite(result), ct);
        }
        finally
        {
            finished.Writer.TryComplete();
            await recorder;
        }
    }

    private async Task RecordAsync(Guid clipId, ClipEncodeResult result, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (result.Clip is { } encoded)
        {
            // Readable by every node before the clip is marked rendered (and served).
            await store.PublishAsync(encoded.Path, ct);
            await store.PublishAsync(encoded.PosterPath, ct);
            await db.Clips.Where(c => c.Id == clipId).ExecuteUpdateAsync(u => u
                .SetProperty(c => c.Status, ClipStatus.Rendered)
                .SetProperty(c => c.FileName, Path.GetFileName(encoded.Path))
                .SetProperty(c => c.PosterFileName, Path.GetFileName(encoded.PosterPath))
                .SetProperty(c => c.Sha256, encoded.Sha256)
                .SetProperty(c => c.Frames, encoded.Frames)
                .SetProperty(c => c.Width, encoded.Width)
                .SetProperty(c => c.Height, encoded.Height)
                .SetProperty(c => c.Error, (string?)null)
                .SetProperty(c => c.RenderedAt, DateTimeOffset.UtcNow), ct);
            return;
        }
        logger.LogWarning("Clip {Clip} failed to render: {Error}", clipId, result.Error);
        await db.Clips.Where(c => c.Id == clipId).ExecuteUpdateAsync(u => u
            .SetProperty(c => c.Status, ClipStatus.Failed)
            .SetProperty(c => c.Error, result.Error), ct);
    }
}
