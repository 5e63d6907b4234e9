using PreferenceStudio.Environments;
using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Features.Access;
using PreferenceStudio.Web.Features.Hierarchy;
using PreferenceStudio.Web.Features.Live;
using PreferenceStudio.Web.Features.Rounds;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Campaigns;

/// <summary>Creates campaigns, starts and pauses them, and reads their state for the admin page and the API.</summary>
public sealed class CampaignService(IDbContextFactory<StudioDbContext> dbFactory, CampaignEvents events, WorkerSignal worker, RoundFactors roundFactors)
{
    /// <summary>The campaigns <paramref name="user"/> may see (an admin all, a researcher their memberships), newest first, with their role in each.</summary>
    public async Task<IReadOnlyList<CampaignSummary>> ListAsync(ClaimsPrincipal user, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var userId = user.UserId() ?? "";
        bool admin = user.IsAdmin();
        return await CampaignAccess.Visible(db, user)
            .OrderByDescending(c => c.CreatedAt)
            .Select(c => new CampaignSummary(c.Id, c.Name, c.Environment, c.Status, c.CurrentRound, c.RoundCount, c.JoinCode,
                db.Labels.Count(l => l.CampaignId == c.Id), c.CreatedAt, c.StatusMessage, c.LabelSource,
                db.CampaignRaters.Count(r => r.CampaignId == c.Id && r.ErasedAt == null),
                admin ? CampaignRole.Owner : db.CampaignMembers.Where(m => m.CampaignId == c.Id && m.UserId == userId).Select(m => (CampaignRole?)m.Role).FirstOrDefault()))
            .ToListAsync(ct);
    }

    public async Task<CampaignDetail?> GetAsync(Guid id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var c = await db.Campaigns.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id, ct);
        if (c is null) return null;
        var labels = await db.Labels.CountAsync(l => l.CampaignId == id, ct);
        var raters = await db.CampaignRaters.CountAsync(r => r.CampaignId == id && r.ErasedAt == null, ct);
        var rounds = await db.Rounds.Where(r => r.CampaignId == id).OrderBy(r => r.Index)
            .Select(r => new RoundSummary(
                r.Index, r.Status,
                db.Comparisons.Count(x => x.RoundId == r.Id),
                db.Labels.Count(l => l.Comparison!.RoundId == r.Id && l.Comparison.Gold == null),
                c.LabelsPerRound,
                r.HeldoutAccuracy, r.HeldoutLogLik, r.ScaledReturn,
                db.Clips.Count(k => k.RoundId == r.Id && k.Status == ClipStatus.Failed),
                r.Error, r.MeanReturn,
                db.Clips.Count(k => k.RoundId == r.Id),
                db.Clips.Count(k => k.RoundId == r.Id && k.Status == ClipStatus.Rendered)))
            .ToListAsync(ct);
        return new CampaignDetail(ToSummary(c, labels, raters), ToSettings(c), rounds, await RunsAsync(db, id, ct));
    }

    /// <summary>Every reward-model run of the campaign, oldest first, with its metrics.</summary>
    public async Task<IReadOnlyList<RunSummary>?> ListRunsAsync(Guid campaignId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Campaigns.AnyAsync(c => c.Id == campaignId, ct)) return null;
        return await RunsAsync(db, campaignId, ct);
    }

    /// <summary>
    /// Raters' factor rankings in the campaign: first places, mean ranks, agreement (Kendall's W) and how often each
    /// rater's clip choices went against their own hierarchy; null when there is no such campaign.
    /// </summary>
    public async Task<RankingStats?> RankingStatsAsync(Guid campaignId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var campaign = await db.Campaigns.AsNoTracking().FirstOrDefaultAsync(c => c.Id == campaignId, ct);
        return campaign is null ? null : await RankingStatsQuery.ReadAsync(db, roundFactors, campaign, ct);
    }

    /// <summary>The checkpoint file of a succeeded run, or null when there is none.</summary>
    public async Task<RewardModelRun?> FindRunAsync(Guid campaignId, Guid runId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.RewardModelRuns.AsNoTracking().FirstOrDefaultAsync(r => r.CampaignId == campaignId && r.Id == runId, ct);
    }

    private static async Task<IReadOnlyList<RunSummary>> RunsAsync(StudioDbContext db, Guid campaignId, CancellationToken ct)
    {
        var runs = await db.RewardModelRuns.AsNoTracking().Where(r => r.CampaignId == campaignId)
            .OrderBy(r => r.RoundIndex).ThenBy(r => r.StartedAt).ToListAsync(ct);
        return runs.Select(r => new RunSummary(r.Id, r.RoundIndex, r.ModelType, r.Status, r.NTrain, r.HeldoutAccuracy, r.HeldoutLogLik,
            PreferenceStudio.Learning.Loop.RewardModelMetrics.Parse(r.Metrics), r.Error, r.StartedAt, r.FinishedAt,
            r.Status == RunStatus.Succeeded && r.CheckpointPath is not null ? $"/api/v1/campaigns/{campaignId}/runs/{r.Id}/checkpoint" : null)).ToList();
    }

    /// <summary>Creates a draft campaign; <paramref name="ownerUserId"/> (the researcher creating it) becomes its first owner.</summary>
    public async Task<Campaign> CreateAsync(CampaignSettings settings, string? ownerUserId, CancellationToken ct = default)
    {
        var errors = CampaignSettingsValidator.Validate(settings);
        if (errors.Count > 0) throw new CampaignValidationException(errors);
        var plan = settings.PolicyPlan(EnvironmentRegistry.Create(settings.Environment, settings.EnvironmentParameters));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var campaign = new Campaign
        {
            Name = settings.Name.Trim(),
            Environment = settings.Environment,
            Board = settings.Board,
            SegmentLength = settings.SegmentLength,
            PairsPerRound = settings.PairsPerRound,
            LabelsPerRound = settings.LabelsPerRound,
            RoundCount = settings.Rounds,
            Seed = settings.Seed,
            EnvironmentParameters = new Dictionary<string, double>(settings.EnvironmentParameters ?? []),
            RewardModel = settings.RewardModel,
            ComparisonModels = (settings.ComparisonModels ?? []).Where(m => m != settings.RewardModel).Distinct().ToArray(),
            QueryStrategy = settings.QueryStrategy,
            PersonalisedPolicies = settings.PersonalisedPolicies,
            PolicySteps = plan.PolicySteps,
            PolicyLearner = plan.Learner,
            ExplorationSteps = plan.ExplorationSteps,
            Surf = settings.Surf,
            LabelSource = settings.LabelSource,
            HierarchyWeight = settings.HierarchyWeight,
            HierarchyPairsPerRound = settings.HierarchyPairsPerRound,
            LabelsPerPair = settings.LabelsPerPair,
            ServingLeaseSeconds = settings.ServingLeaseSeconds,
            GoldRate = settings.GoldRate,
            GoldFromTrueReward = settings.GoldFromTrueReward,
            GoldMargin = settings.GoldMargin,
            GoldPairsPerRound = settings.GoldPairsPerRound,
            PracticeGoldPairs = settings.PracticeGoldPairs,
            MinGoldAccuracy = settings.MinGoldAccuracy,
            ExcludeFlaggedRaters = settings.ExcludeFlaggedRaters,
            RaterWeighting = settings.RaterWeighting,
            FastAnswerSeconds = settings.FastAnswerSeconds,
        };
        settings.RaterSettings().ApplyTo(campaign);
        db.Campaigns.Add(campaign);
        if (ownerUserId is not null) Members.CampaignMembers.AddOwner(db, campaign.Id, ownerUserId);
        await db.SaveChangesAsync(ct);
        await events.PublishAsync(new CampaignChanged(campaign.Id, CampaignChangeKind.Status));
        return campaign;
    }

    /// <summary>Starts a draft campaign (its first round is prepared in the background) or resumes a paused one.</summary>
    public async Task StartAsync(Guid id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var c = await db.Campaigns.FirstOrDefaultAsync(x => x.Id == id, ct) ?? throw StudioProblemException.NotFound($"No campaign {id}.");
        if (c.Status is CampaignStatus.Completed or CampaignStatus.Failed)
            throw StudioProblemException.Conflict($"Campaign '{c.Name}' is {c.Status.ToString().ToLowerInvariant()} and cannot be started again; create a new one.");
        if (c.Status == CampaignStatus.Running) return;
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        c.Status = CampaignStatus.Running;
        c.StatusMessage = null;
        await db.SaveChangesAsync(ct);
        // Idempotent: a campaign that was paused after round 0 was prepared keeps the job it had.
        await JobQueue.EnqueueAsync(db, c.Id, JobKind.PrepareRound, 0, ct);
        await tx.CommitAsync(ct);
        worker.Wake();
        await events.PublishAsync(new CampaignChanged(c.Id, CampaignChangeKind.Status));
    }

    public async Task<RaterSettings> RaterSettingsAsync(Guid id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return RaterSettings.Of(await db.Campaigns.AsNoTracking().FirstOrDefaultAsync(x => x.Id == id, ct) ?? throw StudioProblemException.NotFound($"No campaign {id}."));
    }

    /// <summary>Changes what raters meet (texts, quota, completion, playback, who may join); refuses unusable fields.</summary>
    public async Task<RaterSettings> UpdateRaterSettingsAsync(Guid id, RaterSettings settings, CancellationToken ct = default)
    {
        var errors = settings.Validate();
        if (errors.Count > 0) throw new StudioValidationException(errors, "The rater settings are not usable");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var c = await db.Campaigns.FirstOrDefaultAsync(x => x.Id == id, ct) ?? throw StudioProblemException.NotFound($"No campaign {id}.");
        settings.ApplyTo(c);
        await db.SaveChangesAsync(ct);
        await events.PublishAsync(new CampaignChanged(c.Id, CampaignChangeKind.Status));
        return RaterSettings.Of(c);
    }

    /// <summary>
    /// Retries a failed campaign from the step that failed (preparing or training a round): the step is queued again
    /// with its attempts reset, its round goes back to that stage and the campaign runs again. Labels, clips and runs
    /// already stored are kept; the steps resume from what they find.
    /// </summary>
    public async Task RetryAsync(Guid id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var c = await db.Campaigns.FromSql($"SELECT * FROM campaigns WHERE id = {id} FOR UPDATE").FirstOrDefaultAsync(ct)
            ?? throw StudioProblemException.NotFound($"No campaign {id}.");
        if (c.Status != CampaignStatus.Failed)
            throw StudioProblemException.Conflict($"Only a failed campaign can be retried; '{c.Name}' is {c.Status.ToString().ToLowerInvariant()}.");
        var job = await db.Jobs.AsNoTracking().Where(j => j.CampaignId == id && j.Status == JobStatus.Failed)
            .OrderByDescending(j => j.RoundIndex).ThenByDescending(j => j.CreatedAt).FirstOrDefaultAsync(ct)
            ?? throw StudioProblemException.Conflict($"Campaign '{c.Name}' has no failed step to retry ({c.StatusMessage}).");
        await JobQueue.RetryAsync(db, job.Id, ct);
        var stage = job.Kind == JobKind.PrepareRound ? RoundStatus.Preparing : RoundStatus.Training;
        await db.Rounds.Where(r => r.CampaignId == id && r.Index == job.RoundIndex && r.Status == RoundStatus.Failed)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, stage).SetProperty(r => r.Error, (string?)null), ct);
        c.Status = CampaignStatus.Running;
        c.StatusMessage = $"Retrying round {job.RoundIndex + 1}: {job.Kind} (it had failed: {job.Error})";
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        worker.Wake();
        await events.PublishAsync(new CampaignChanged(c.Id, CampaignChangeKind.Status));
    }

    /// <summary>Stops serving pairs and taking labels; work already running in the background finishes.</summary>
    public async Task PauseAsync(Guid id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var c = await db.Campaigns.FirstOrDefaultAsync(x => x.Id == id, ct) ?? throw StudioProblemException.NotFound($"No campaign {id}.");
        if (c.Status != CampaignStatus.Running)
            throw StudioProblemException.Conflict($"Only a running campaign can be paused; '{c.Name}' is {c.Status.ToString().ToLowerInvariant()}.");
        c.Status = CampaignStatus.Paused;
        await db.SaveChangesAsync(ct);
        await events.PublishAsync(new CampaignChanged(c.Id, CampaignChangeKind.Status));
    }

    internal static CampaignSummary ToSummary(Campaign c, int labels, int raters = 0, CampaignRole? role = null) =>
        new(c.Id, c.Name, c.Environment, c.Status, c.CurrentRound, c.RoundCount, c.JoinCode, labels, c.CreatedAt, c.StatusMessage, c.LabelSource, raters, role);

    internal static CampaignSettings ToSettings(Campaign c) => new()
    {
        Name = c.Name,
        Environment = c.Environment,
        Board = c.Board,
        SegmentLength = c.SegmentLength,
        PairsPerRound = c.PairsPerRound,
        LabelsPerRound = c.LabelsPerRound,
        Rounds = c.RoundCount,
        Seed = c.Seed,
        EnvironmentParameters = new Dictionary<string, double>(c.EnvironmentParameters),
        RewardModel = c.RewardModel,
        ComparisonModels = c.ComparisonModels,
        QueryStrategy = c.QueryStrategy,
        PersonalisedPolicies = c.PersonalisedPolicies,
        PolicySteps = c.PolicySteps,
        PolicyLearner = c.PolicyLearner,
        ExplorationSteps = c.ExplorationSteps,
        Surf = c.Surf,
        LabelSource = c.LabelSource,
        HierarchyWeight = c.HierarchyWeight,
        HierarchyPairsPerRound = c.HierarchyPairsPerRound,
        MaxRaters = c.MaxRaters,
        InviteOnly = c.InviteOnly,
        Instructions = c.Instructions,
        Consent = c.Consent,
        LabelsPerRater = c.LabelsPerRater,
        CompletionCode = c.CompletionCode,
        CompletionUrl = c.CompletionUrl,
        RequireFullPlayback = c.RequireFullPlayback,
        LabelsPerPair = c.LabelsPerPair,
        ServingLeaseSeconds = c.ServingLeaseSeconds,
        GoldRate = c.GoldRate,
        GoldFromTrueReward = c.GoldFromTrueReward,
        GoldMargin = c.GoldMargin,
        GoldPairsPerRound = c.GoldPairsPerRound,
        PracticeGoldPairs = c.PracticeGoldPairs,
        MinGoldAccuracy = c.MinGoldAccuracy,
        ExcludeFlaggedRaters = c.ExcludeFlaggedRaters,
        RaterWeighting = c.RaterWeighting,
        FastAnswerSeconds = c.FastAnswerSeconds,
    };
}
