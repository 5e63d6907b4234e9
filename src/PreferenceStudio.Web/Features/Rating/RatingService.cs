using Microsoft.EntityFrameworkCore;
using Npgsql;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Hierarchy;
using PreferenceStudio.Environments.Rendering;
using PreferenceStudio.Web.Features.Access;
using PreferenceStudio.Web.Features.Hierarchy;
using PreferenceStudio.Web.Features.Live;
using PreferenceStudio.Web.Features.Raters;
using PreferenceStudio.Web.Features.Rounds;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Rating;

/// <summary>
/// Serves pairs to raters and stores their answers. A pair is served (an assignment with its time) before it can be
/// answered; an answer is stored once per idempotency key and once per rater and pair. Answers in a round do not wait
/// for one another: each holds its round's lock shared, and <see cref="RoundCloser"/> closes the round (taking it
/// exclusively) once the counters say it is done, so an answer is either stored in the round or refused, never lost.
/// </summary>
public sealed class RatingService(IDbContextFactory<StudioDbContext> dbFactory, CampaignEvents events, PersonalQueries personal,
    RoundFactors roundFactors, RaterRateLimiter raterLimits, RoundCloser closer)
{
    /// <summary>What a person sees before joining by link: the campaign's id, name and whether it takes raters by invitation only.</summary>
    public async Task<(Guid Id, string Name, bool InviteOnly)?> FindJoinableAsync(string joinCode, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var c = await db.Campaigns.Where(c => c.JoinCode == joinCode).Select(c => new { c.Id, c.Name, c.InviteOnly }).FirstOrDefaultAsync(ct);
        return c is null ? null : (c.Id, c.Name, c.InviteOnly);
    }

    public async Task<Guid?> FindCampaignByJoinCodeAsync(string joinCode, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Campaigns.Where(c => c.JoinCode == joinCode).Select(c => (Guid?)c.Id).FirstOrDefaultAsync(ct);
    }

    /// <summary>
    /// What the rating page needs before serving a pair: whether the campaign asks raters to rank its reward factors,
    /// the factors, and this rater's current ranking (null before the first).
    /// </summary>
    public async Task<RankingStep> RankingStepAsync(RaterRef rater, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var c = await db.Campaigns.AsNoTracking().FirstOrDefaultAsync(x => x.Id == rater.CampaignId, ct)
            ?? throw StudioProblemException.NotFound($"No campaign {rater.CampaignId}.");
        if (!c.UsesFactorRankings) return new RankingStep(c.Id, c.Name, false, [], null);
        var env = CampaignEnvironment.Create(c);
        var current = await FactorRankingStore.CurrentRankingAsync(db, c.Id, rater.Id, ct);
        return new RankingStep(c.Id, c.Name, true, env.Factors, current is null ? null : FactorRankingStore.ToView(current, rater.Pseudonym));
    }

    /// <summary>The pair this rater should compare now: one already served and not answered, else a new one.</summary>
    public async Task<RatingState> NextAsync(RaterRef rater, CancellationToken ct = default)
    {
        // Repeated whole if the database drops out under it: a serving made by a try whose commit landed is served again.
        return await dbFactory.RunAsync(db => NextAsync(db, rater, ct), ct);
    }

    private async Task<RatingState> NextAsync(StudioDbContext db, RaterRef rater, CancellationToken ct)
    {
        var campaignId = rater.CampaignId;
        var raterId = rater.Id;
        // The campaign, its current round, the rater and how many answers they gave, in one read.
        var head = await db.Campaigns.AsNoTracking().Where(x => x.Id == campaignId)
            .Select(x => new
            {
                Campaign = x,
                Round = db.Rounds.FirstOrDefault(r => r.CampaignId == x.Id && r.Index == x.CurrentRound),
                Me = db.CampaignRaters.First(r => r.CampaignId == x.Id && r.RaterId == raterId),
                Mine = db.Labels.Count(l => l.CampaignId == x.Id && l.RaterId == raterId),
            })
            .FirstOrDefaultAsync(ct)
            ?? throw StudioProblemException.NotFound($"No campaign {campaignId}.");
        var (c, round, me, mine) = (head.Campaign, head.Round, head.Me, head.Mine);
        // Raters see every answer of the round counted (gold ones too, up to the labels wanted): a counter that stood
        // still after an answer would tell them which pairs are gold. The round itself closes on the shared ones.
        int roundLabels = round is null ? 0 : Math.Min(c.LabelsPerRound, (await closer.ShownCountAsync(db, round.Id, ct)).All);
        bool canUndo = round is { Status: RoundStatus.Open } && c.Status == CampaignStatus.Running && me.CompletedAt is null
            && (await LastAnswerAsync(db, c.Id, raterId, ct)) is { WithdrawnAt: null } last && last.RoundId == round.Id
            && !(c.LabelsPerRater is { } q && mine >= q);
        // The completion code is for those who took part: a rater who never answered (say, one who joins after the
        // campaign ended) is told it is over, not given the code.
        bool earned = mine > 0;
        RatingState State(RatingStatus status, ServedPair? pair = null, RoundStage? stage = null) =>
            new(status, c.Id, c.Name, c.CurrentRound, c.RoundCount, roundLabels, c.LabelsPerRound, pair, mine, c.LabelsPerRater, stage,
                status is RatingStatus.Finished or RatingStatus.QuotaReached && earned && c.CompletionCode.Length > 0 ? c.CompletionCode : null,
                status is RatingStatus.Finished or RatingStatus.QuotaReached && earned && c.CompletionUrl.Length > 0 ? c.CompletionUrl : null,
                c.RequireFullPlayback, canUndo && status is RatingStatus.Ready or RatingStatus.RoundDoneForRater);

        if (c.Consent.Length > 0 && me.ConsentedAt is null && c.Status != CampaignStatus.Completed) return State(RatingStatus.ConsentRequired);
        switch (c.Status)
        {
            case CampaignStatus.Draft: return State(RatingStatus.NotStarted);
            case CampaignStatus.Paused: return State(RatingStatus.Paused);
            case CampaignStatus.Completed or CampaignStatus.Failed:
                if (earned) await MarkCompletedAsync(db, me, ct);
                return State(RatingStatus.Finished);
        }
        if (c.LabelsPerRater is { } quota && mine >= quota)
        {
            await MarkCompletedAsync(db, me, ct);
            return State(RatingStatus.QuotaReached);
        }
        if (round is null || round.Status != RoundStatus.Open)
            return State(RatingStatus.WaitingForRound, stage: round is null || (round.Status == RoundStatus.Preparing && round.Index == 0)
                ? RoundStage.PreparingFirstRound
                : round.Status == RoundStatus.Preparing ? RoundStage.Rendering : RoundStage.Learning);

        int? k = c.LabelsPerPair;
        var leaseStart = DateTimeOffset.UtcNow.AddSeconds(-c.ServingLeaseSeconds);
        var pending = await db.Assignments.AsNoTracking()
            .Where(a => a.RaterId == raterId && a.Comparison!.RoundId == round.Id
                        && !db.Labels.Any(l => l.ComparisonId == a.ComparisonId && l.RaterId == raterId)
                        // A pair that others finished while this rater was away is not waiting for them any more.
                        && (k == null || a.Comparison.Gold != null || a.Comparison.Labels.Count < k))
            // Newest first: a pair whose answer was just taken back (served anew at the undo) comes before the one
            // that was on screen when the rater pressed Undo.
            .OrderByDescending(a => a.ShownAt)
            .Select(a => new { a.Id, a.ComparisonId, a.ShownAt, Gold = a.Comparison!.Gold != null })
            .FirstOrDefaultAsync(ct);
        if (pending is not null)
        {
            DateTimeOffset? shownAt = pending.ShownAt;
            // A serving older than the lease gave up its place; the rater gets the pair back only if it still has room,
            // and then holds it anew from now.
            if (k is { } held && !pending.Gold && pending.ShownAt <= leaseStart)
                shownAt = await RenewLeaseAsync(db, pending.Id, pending.ComparisonId, held, c.ServingLeaseSeconds, ct);
            if (shownAt is { } servedAt)
                return State(RatingStatus.Ready, await ServedAsync(db, c, raterId, pending.ComparisonId, servedAt, ct,
                    practice: await IsPracticeAsync(db, c, raterId, pending.ComparisonId, ct)));
        }

        // Gold pairs: the first ones as practice, then mixed in at the campaign's rate; never one the rater has seen.
        if (c.PracticeGoldPairs > 0 || c.GoldRate > 0)
        {
            int goldAnswered = await db.Labels.CountAsync(l => l.CampaignId == c.Id && l.RaterId == raterId && l.Comparison!.Gold != null, ct);
            bool practice = goldAnswered < c.PracticeGoldPairs;
            if (practice || Random.Shared.NextDouble() < c.GoldRate)
            {
                var gold = await db.Comparisons.AsNoTracking()
                    .Where(x => x.RoundId == round.Id && x.Gold != null
                                && x.LeftClip!.Status == ClipStatus.Rendered && x.RightClip!.Status == ClipStatus.Rendered
                                && !db.Assignments.Any(a => a.ComparisonId == x.Id && a.RaterId == raterId))
                    .Select(x => x.Id).ToListAsync(ct);
                foreach (var comparisonId in gold.OrderBy(_ => Random.Shared.Next()))
                {
                    var shownAt = DateTimeOffset.UtcNow;
                    if (await AssignAsync(db, comparisonId, raterId, shownAt, ct))
                        return State(RatingStatus.Ready, await ServedAsync(db, c, raterId, comparisonId, shownAt, ct, practice));
                }
            }
        }

        // The rater's own pairs (from their personal policy) first, then the shared ones least-labelled and
        // least-served first, so labels spread over the round's pairs. Both read the per-pair counters through an
        // index: a few look-ups at any round size.
        if (c.PersonalisedPolicies)
        {
            var own = await Candidates(db.Comparisons.Where(x => x.RoundId == round.Id && x.ForRaterId == rater.Pseudonym && x.Gold == null), k, leaseStart, raterId, db)
                .Take(c.QueryStrategy == "info-gain" ? PersonalQueries.CandidatePool : 5).ToListAsync(ct);
            if (await ServeFirstAsync(db, c, rater, await personal.RankAsync(c, rater, own, ct), k, ct) is { } servedOwn)
                return State(RatingStatus.Ready, servedOwn);
        }
        if (c.QueryStrategy == "info-gain" || k is not null)
        {
            // Information gain ranks a handful of the least-labelled pairs; with k raters per pair each serving is
            // checked under the pair's lock (ServeFirstAsync).
            var shared = await Candidates(db.Comparisons.Where(x => x.RoundId == round.Id && x.Gold == null && x.ForRaterId == null), k, leaseStart, raterId, db)
                .Take(c.QueryStrategy == "info-gain" ? PersonalQueries.CandidatePool : 5).ToListAsync(ct);
            if (await ServeFirstAsync(db, c, rater, await personal.RankAsync(c, rater, shared, ct), k, ct) is { } servedShared)
                return State(RatingStatus.Ready, servedShared);
            return State(RatingStatus.RoundDoneForRater);
        }

        // The common case, a serving queue: the least-labelled pair nobody is being served right now (SKIP LOCKED),
        // so concurrent raters spread over the round instead of queueing on one pair's row. Should every pair left
        // be locked by other servings this instant, the rater waits for one rather than being told the round is done.
        foreach (bool skipLocked in new[] { true, false })
        {
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var next = await db.Database.SqlQuery<Guid>(NextSharedPairSql(round.Id, raterId, skipLocked)).ToListAsync(ct);
            var shownAt = DateTimeOffset.UtcNow;
            if (next.Count == 1 && await AssignAsync(db, next[0], raterId, shownAt, ct))
            {
                await tx.CommitAsync(ct);
                return State(RatingStatus.Ready, await ServedAsync(db, c, raterId, next[0], shownAt, ct));
            }
        }
        return State(RatingStatus.RoundDoneForRater);
    }

    /// <summary>The least-labelled shared pair the rater has not been served, locked; with <paramref name="skipLocked"/>, one nobody else holds.</summary>
    private static FormattableString NextSharedPairSql(Guid roundId, string raterId, bool skipLocked) =>
        // {0} and {1} stay parameters; only the fixed lock clause is spliced into the text.
        System.Runtime.CompilerServices.FormattableStringFactory.Create($$"""
            SELECT c.id AS "Value" FROM comparisons c
            JOIN clips lc ON lc.id = c.left_clip_id AND lc.status = 'Rendered'
            JOIN clips rc ON rc.id = c.right_clip_id AND rc.status = 'Rendered'
            WHERE c.round_id = {0} AND c.gold IS NULL AND c.for_rater_id IS NULL
              AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.comparison_id = c.id AND a.rater_id = {1})
            ORDER BY c.label_count, c.serve_count, c.ordinal
            LIMIT 1
            FOR UPDATE OF c{{(skipLocked ? " SKIP LOCKED" : "")}}
            """, roundId, raterId);

    /// <summary>
    /// Pairs of <paramref name="pairs"/> this rater may be served, least-labelled, then least-served, then in round
    /// order: rendered, not served to the rater before and, with k raters per pair, not full by answers and live servings.
    /// </summary>
    private static IQueryable<Guid> Candidates(IQueryable<Comparison> pairs, int? k, DateTimeOffset leaseStart, string raterId, StudioDbContext db) =>
        pairs.Where(x => x.LeftClip!.Status == ClipStatus.Rendered && x.RightClip!.Status == ClipStatus.Rendered
                         && !db.Assignments.Any(a => a.ComparisonId == x.Id && a.RaterId == raterId)
                         // Full once its answers and the live servings of raters yet to answer reach k.
                         && (k == null || x.LabelCount + db.Assignments.Count(a => a.ComparisonId == x.Id && a.ShownAt > leaseStart
                                 && !db.Labels.Any(l => l.ComparisonId == a.ComparisonId && l.RaterId == a.RaterId)) < k))
            .OrderBy(x => x.LabelCount).ThenBy(x => x.ServeCount).ThenBy(x => x.Ordinal)
            .Select(x => x.Id);

    /// <summary>Serves the first of <paramref name="candidates"/> that takes the rater (with k, one that still has room).</summary>
    private async Task<ServedPair?> ServeFirstAsync(StudioDbContext db, Campaign c, RaterRef rater, IReadOnlyList<Guid> candidates, int? k, CancellationToken ct)
    {
        foreach (var comparisonId in candidates)
        {
            var shownAt = DateTimeOffset.UtcNow;
            bool served;
            if (k is { } cap)
            {
                // At most k raters hold or have answered the pair; a serving older than the lease no longer holds its
                // place (its rater may still answer while the pair has room).
                await using var tx = await db.Database.BeginTransactionAsync(ct);
                // A transaction-scoped advisory lock per pair serialises its servings (answers being stored do not
                // wait for it); the count and the insert are one statement, so they see the same rows.
                var liveSince = shownAt.AddSeconds(-c.ServingLeaseSeconds);
                var assignmentId = Guid.CreateVersion7();
                await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({comparisonId.ToString()}, 0))", ct);
                served = await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO assignments (id, comparison_id, rater_id, shown_at)
                    SELECT {assignmentId}, {comparisonId}, {rater.Id}, {shownAt}
                    WHERE (SELECT count(*) FROM labels l WHERE l.comparison_id = {comparisonId} AND l.withdrawn_at IS NULL)
                        + (SELECT count(*) FROM assignments a WHERE a.comparison_id = {comparisonId} AND a.shown_at > {liveSince}
                           AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.comparison_id = a.comparison_id AND l.rater_id = a.rater_id AND l.withdrawn_at IS NULL))
                        < {cap}
                    ON CONFLICT (comparison_id, rater_id) DO NOTHING
                    """, ct) == 1;
                await tx.CommitAsync(ct);
            }
            else served = await AssignAsync(db, comparisonId, rater.Id, shownAt, ct);
            if (served) return await ServedAsync(db, c, rater.Id, comparisonId, shownAt, ct);
        }
        return null;
    }

    /// <summary>
    /// Serves an expired serving of the rater again if the pair has room (answers plus other live servings below
    /// <paramref name="cap"/>), under the pair's advisory lock as a new serving is; returns the new serving time, or
    /// null when the pair is full.
    /// </summary>
    private static async Task<DateTimeOffset?> RenewLeaseAsync(StudioDbContext db, Guid assignmentId, Guid comparisonId, int cap, int leaseSeconds, CancellationToken ct)
    {
        var now = DateTimeOffset.UtcNow;
        var liveSince = now.AddSeconds(-leaseSeconds);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({comparisonId.ToString()}, 0))", ct);
        bool renewed = await db.Database.ExecuteSqlAsync($"""
            UPDATE assignments SET shown_at = {now}
            WHERE id = {assignmentId}
              AND (SELECT count(*) FROM labels l WHERE l.comparison_id = {comparisonId} AND l.withdrawn_at IS NULL)
                + (SELECT count(*) FROM assignments a WHERE a.comparison_id = {comparisonId} AND a.id <> {assignmentId} AND a.shown_at > {liveSince}
                   AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.comparison_id = a.comparison_id AND l.rater_id = a.rater_id AND l.withdrawn_at IS NULL))
                < {cap}
            """, ct) == 1;
        await tx.CommitAsync(ct);
        return renewed ? now : null;
    }

    private static async Task<bool> AssignAsync(StudioDbContext db, Guid comparisonId, string raterId, DateTimeOffset shownAt, CancellationToken ct)
    {
        var assignmentId = Guid.CreateVersion7();
        return await db.Database.ExecuteSqlAsync($"""
            INSERT INTO assignments (id, comparison_id, rater_id, shown_at) VALUES ({assignmentId}, {comparisonId}, {raterId}, {shownAt})
            ON CONFLICT (comparison_id, rater_id) DO NOTHING
            """, ct) == 1;
    }

    /// <summary>Whether answering this pair now is one of the rater's practice gold pairs (told whether they matched).</summary>
    private static async Task<bool> IsPracticeAsync(StudioDbContext db, Campaign c, string raterId, Guid comparisonId, CancellationToken ct) =>
        c.PracticeGoldPairs > 0
        && await db.Comparisons.AnyAsync(x => x.Id == comparisonId && x.Gold != null, ct)
        && await db.Labels.CountAsync(l => l.CampaignId == c.Id && l.RaterId == raterId && l.Comparison!.Gold != null, ct) < c.PracticeGoldPairs;

    private async Task<ServedPair> ServedAsync(StudioDbContext db, Campaign campaign, string raterId, Guid comparisonId, DateTimeOffset shownAt, CancellationToken ct,
        bool practice = false)
    {
        var x = await db.Comparisons.AsNoTracking().Where(c => c.Id == comparisonId)
            .Select(c => new { c.Id, c.RoundIndex, c.RoundId, c.LeftSegmentId, c.RightSegmentId, Left = c.LeftClip!.FileName, Right = c.RightClip!.FileName })
            .FirstAsync(ct);
        var pair = new ServedPair(x.Id, x.RoundIndex ?? 0, "/media/" + x.Left, "/media/" + x.Right, shownAt,
            FrameRate: FrameRates.GetOrAdd(campaign.Environment, _ => FrameRenderers.TryFor(CampaignEnvironment.Create(campaign), out var r) ? r.FrameRate : 10),
            Practice: practice);
        if (!campaign.UsesFactorRankings || x.RoundId is not { } roundId) return pair;
        var ranking = await FactorRankingStore.CurrentRankingAsync(db, campaign.Id, raterId, ct);
        if (ranking is null) return pair;
        var env = CampaignEnvironment.Create(campaign);
        // Every stored ranking was valid when saved; should the campaign's factors ever change, show the clips alone
        // rather than break the page.
        if (FactorHierarchy.TryCreate(env, ranking.Factors, ranking.Margins, out _) is not { } hierarchy) return pair;
        var table = await roundFactors.ForRoundAsync(roundId, env, ct);
        if (!table.BySegment.TryGetValue(x.LeftSegmentId, out var left) || !table.BySegment.TryGetValue(x.RightSegmentId, out var right))
            return pair;
        var verdict = table.Decide(env, hierarchy, x.LeftSegmentId, x.RightSegmentId);
        return pair with
        {
            Factors = FactorValues(env, hierarchy, left, right, table.Spreads),
            HierarchyChoice = verdict?.Choice,
            DecidedBy = verdict is { } v ? hierarchy.Factors[v.Level] : null,
        };
    }

    /// <summary>Each level's values, better side and whether it exceeds its margin (the test <see cref="HeronRule"/> applies).</summary>
    private static List<PairFactorValue> FactorValues(IPreferenceEnvironment env, FactorHierarchy hierarchy, double[] left, double[] right, double[] spreads)
    {
        var values = new List<PairFactorValue>(hierarchy.Indices.Count);
        for (int level = 0; level < hierarchy.Indices.Count; level++)
        {
            int f = hierarchy.Indices[level];
            var factor = env.Factors[f];
            double diff = right[f] - left[f];
            var better = diff == 0 ? PreferenceChoice.Equal
                : (factor.Direction == FactorDirection.HigherIsBetter ? diff > 0 : diff < 0) ? PreferenceChoice.Right : PreferenceChoice.Left;
            bool decisive = diff != 0 && Math.Abs(diff) > hierarchy.Margins[level] * spreads[f];
            values.Add(new PairFactorValue(factor.Name, factor.Description, factor.Direction, left[f], right[f], better,
                hierarchy.Margins[level], spreads[f], decisive));
        }
        return values;
    }

    /// <summary>The round's answers as raters see them: gold ones included, at most the labels wanted (see <see cref="NextAsync"/>).</summary>
    public async Task<int> RoundLabelCountAsync(Guid campaignId, int roundIndex, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        int wanted = await db.Campaigns.Where(c => c.Id == campaignId).Select(c => c.LabelsPerRound).FirstOrDefaultAsync(ct);
        var roundId = await db.Rounds.Where(r => r.CampaignId == campaignId && r.Index == roundIndex).Select(r => (Guid?)r.Id).FirstOrDefaultAsync(ct);
        return roundId is { } id ? Math.Min(wanted, (await closer.ShownCountAsync(db, id, ct)).All) : 0;
    }

    /// <summary>Records when the rater was first shown the completion code (for the participants list).</summary>
    private static async Task MarkCompletedAsync(StudioDbContext db, Core.Data.Access.CampaignRater me, CancellationToken ct)
    {
        if (me.CompletedAt is not null) return;
        await db.CampaignRaters.Where(r => r.CampaignId == me.CampaignId && r.RaterId == me.RaterId && r.CompletedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.CompletedAt, DateTimeOffset.UtcNow), ct);
    }

    /// <summary>Whether the campaign asks for consent that this rater has not given yet.</summary>
    public async Task<bool> NeedsConsentAsync(RaterRef rater, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Campaigns.AnyAsync(c => c.Id == rater.CampaignId && c.Consent != "" && c.Status != CampaignStatus.Completed, ct)
            && await db.CampaignRaters.AnyAsync(r => r.CampaignId == rater.CampaignId && r.RaterId == rater.Id && r.ConsentedAt == null, ct);
    }

    /// <summary>The campaign's consent text, accepted by the rater (idempotent: the first time counts).</summary>
    public async Task AcceptConsentAsync(RaterRef rater, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.CampaignRaters.Where(r => r.CampaignId == rater.CampaignId && r.RaterId == rater.Id && r.ConsentedAt == null)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.ConsentedAt, DateTimeOffset.UtcNow), ct);
    }

    /// <summary>
    /// Takes back the rater's last answer while its round is still open: the label is kept, marked withdrawn, counts
    /// nowhere from now on, and its pair is offered to the rater again. Takes the same locks as an answer, so an undo
    /// and the round's close cannot cross.
    /// </summary>
    public async Task<UndoReceipt> UndoLastAsync(RaterRef rater, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        // The rater's row first (shared, as an answer takes it), then the round: an answer of this rater from another
        // tab and the answer that closes the round both wait, so the answer read below is still the last one.
        await RaterDirectory.RequireNotErasedAsync(db, rater, ct);
        var candidate = await LastAnswerAsync(db, rater.CampaignId, rater.Id, ct)
            ?? throw StudioProblemException.Conflict("There is no answer of yours to take back.");
        if (candidate.RoundId is not { } roundId)
            throw StudioProblemException.Conflict("That answer was imported, not given in a round; it cannot be taken back.");
        await db.Database.ExecuteSqlAsync(RoundCloser.LockShared(roundId), ct);
        var last = await LastAnswerAsync(db, rater.CampaignId, rater.Id, ct);
        if (last is null || last.Id != candidate.Id)
            throw StudioProblemException.Conflict("Another answer of yours arrived meanwhile; ask again to take back the last one.");
        if (last.WithdrawnAt is not null)
            throw StudioProblemException.Conflict("Only your last answer can be taken back, once; answer the pair again first.");
        var round = await db.Rounds.AsNoTracking().FirstAsync(r => r.Id == roundId, ct);
        if (round.Status != RoundStatus.Open)
            throw StudioProblemException.Conflict($"Round {round.Index + 1} is closed; its answers are final.");
        var campaign = await db.Campaigns.AsNoTracking().FirstAsync(c => c.Id == rater.CampaignId, ct);
        if (campaign.Status != CampaignStatus.Running)
            throw StudioProblemException.Conflict($"The campaign is {campaign.Status.ToString().ToLowerInvariant()}; answers can be taken back only while it runs.");
        if (await db.CampaignRaters.AnyAsync(r => r.CampaignId == rater.CampaignId && r.RaterId == rater.Id && r.CompletedAt != null, ct))
            throw StudioProblemException.Conflict("You have finished and were given the completion code; your answers are final.");
        var now = DateTimeOffset.UtcNow;
        await db.Labels.Where(l => l.Id == last.Id).ExecuteUpdateAsync(u => u.SetProperty(l => l.WithdrawnAt, now), ct);
        // Served anew from now: the next answer's response time starts here, not at the first showing.
        await db.Assignments.Where(a => a.ComparisonId == last.ComparisonId && a.RaterId == rater.Id)
            .ExecuteUpdateAsync(u => u.SetProperty(a => a.ShownAt, now), ct);
        await tx.CommitAsync(ct);
        var (_, all) = await closer.AnswerStoredAsync(roundId, CancellationToken.None);
        events.LabelsChanged(rater.CampaignId, round.Index, Math.Min(campaign.LabelsPerRound, all), campaign.LabelsPerRound);
        return new UndoReceipt(last.Id, last.ComparisonId, now);
    }

    private sealed record LastAnswer(Guid Id, Guid ComparisonId, Guid? RoundId, DateTimeOffset? WithdrawnAt);

    /// <summary>The rater's newest answer in the campaign, withdrawn ones included (an undone answer stays the newest
    /// until the rater answers again, so a second undo does not reach further back).</summary>
    private static Task<LastAnswer?> LastAnswerAsync(StudioDbContext db, Guid campaignId, string raterId, CancellationToken ct) =>
        db.Labels.IgnoreQueryFilters().AsNoTracking().Where(l => l.CampaignId == campaignId && l.RaterId == raterId)
            .OrderByDescending(l => l.CreatedAt).ThenByDescending(l => l.Id)
            .Select(l => new LastAnswer(l.Id, l.ComparisonId, l.Comparison!.RoundId, l.WithdrawnAt))
            .FirstOrDefaultAsync(ct);

    // The clip frame rate of each environment, for the page's playback clock (renderers are cheap but not free to make).
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, double> FrameRates = new();

    /// <summary>Longest idempotency key a client may send (it is stored prefixed by the rater's internal id).</summary>
    public const int MaxIdempotencyKeyLength = 120;

    /// <summary>
    /// Stores <paramref name="rater"/>'s answer to a pair served to them in <paramref name="campaignId"/>. The rater is
    /// the authenticated one; a submission that names another rater, a comparison of another campaign, or a pair never
    /// served to this rater is refused.
    /// </summary>
    public async Task<LabelReceipt> SubmitAsync(RaterRef rater, LabelSubmission s, CancellationToken ct = default)
    {
        if (s.RaterId is { } named && named != rater.Pseudonym)
            throw StudioProblemException.Forbidden($"This label is sent for rater '{named}', but you are authenticated as '{rater.Pseudonym}'. Leave rater_id out: the rater is the one your cookie or token identifies.");
        if (string.IsNullOrWhiteSpace(s.IdempotencyKey) || s.IdempotencyKey.Length > MaxIdempotencyKeyLength)
            throw StudioProblemException.Invalid($"Send an idempotency_key (1 to {MaxIdempotencyKeyLength} characters) that stays the same when the answer is resent.");
        if (!Enum.IsDefined(s.Choice))
            throw StudioProblemException.Invalid("choice must be left, right, equal or incomparable.");
        raterLimits.Take(rater.Id);

        // Keys are the rater's own: another rater sending the same key neither collides with nor reads this rater's label.
        var key = $"{rater.Id}/{s.IdempotencyKey}";
        // Repeated whole if the database drops out under it: a try whose commit did land is found by its key.
        return await dbFactory.RunAsync(db => StoreAsync(db, rater, s, key, ct), ct);
    }

    private async Task<LabelReceipt> StoreAsync(StudioDbContext db, RaterRef rater, LabelSubmission s, string key, CancellationToken ct)
    {
        // The label is the transaction's only write: a savepoint around it would be two more round trips for nothing.
        db.Database.AutoSavepointsEnabled = false;
        var existing = await FindDuplicateAsync(db, rater, key, s.ComparisonId, ct);
        if (existing is not null) return existing;

        var comparison = await db.Comparisons.AsNoTracking().FirstOrDefaultAsync(x => x.Id == s.ComparisonId && x.CampaignId == rater.CampaignId, ct)
            ?? throw StudioProblemException.NotFound($"Campaign {rater.CampaignId} has no comparison {s.ComparisonId}.");
        if (comparison.RoundId is not { } roundId)
            throw StudioProblemException.Conflict("This comparison was imported, not served in a round; it takes no new labels.");

        int wanted;
        Round round;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            // The rater's row, shared: an erasure of this rater waits for this answer (and then erases it too).
            await RaterDirectory.RequireNotErasedAsync(db, rater, ct);
            // The round's lock, shared: answers do not wait for each other, and the round cannot close under this one.
            await db.Database.ExecuteSqlAsync(RoundCloser.LockShared(roundId), ct);
            // The round and its campaign in one read; and this rater's serving of the pair.
            var read = await db.Rounds.AsNoTracking().Where(r => r.Id == roundId)
                .Select(r => new
                {
                    Round = r,
                    Campaign = db.Campaigns.First(c => c.Id == comparison.CampaignId),
                    Assignment = db.Assignments.FirstOrDefault(a => a.ComparisonId == comparison.Id && a.RaterId == rater.Id),
                })
                .FirstAsync(ct);
            round = read.Round;
            var campaign = read.Campaign;
            wanted = campaign.LabelsPerRound;
            if (round.Status != RoundStatus.Open)
                throw StudioProblemException.Conflict($"Round {round.Index + 1} is closed ({round.Status.ToString().ToLowerInvariant()}); it takes no more labels. Ask for the next pair.");
            if (campaign.Status != CampaignStatus.Running)
                throw StudioProblemException.Conflict($"The campaign is {campaign.Status.ToString().ToLowerInvariant()}; labels are taken only while it runs.");
            if (campaign.Consent.Length > 0
                && !await db.CampaignRaters.AnyAsync(r => r.CampaignId == campaign.Id && r.RaterId == rater.Id && r.ConsentedAt != null, ct))
                throw StudioProblemException.Conflict("Accept the campaign's consent text first (POST .../consent, or on the rating page).");
            if (campaign.LabelsPerRater is { } quota && await db.Labels.CountAsync(l => l.CampaignId == campaign.Id && l.RaterId == rater.Id, ct) >= quota)
                throw StudioProblemException.Conflict($"You have answered all {quota} pairs this campaign asks of each rater. Thank you!");
            var assignment = read.Assignment
                ?? throw StudioProblemException.Conflict("This pair was never served to this rater; ask for the next pair and answer that one.");
            // A second answer of this rater to the pair (another idempotency key) is refused by the unique index on
            // insert; see below.
            if (comparison.Gold is null && campaign.LabelsPerPair is { } cap && await db.Labels.CountAsync(l => l.ComparisonId == comparison.Id, ct) >= cap)
                throw StudioProblemException.Conflict($"This pair has all the answers it needs ({cap}); ask for the next pair.");
            bool practice = comparison.Gold is not null && campaign.PracticeGoldPairs > 0
                && await db.Labels.CountAsync(l => l.CampaignId == campaign.Id && l.RaterId == rater.Id && l.Comparison!.Gold != null, ct) < campaign.PracticeGoldPairs;

            var now = DateTimeOffset.UtcNow;
            var label = new Label
            {
                ComparisonId = comparison.Id,
                CampaignId = comparison.CampaignId,
                RaterId = rater.Id,
                Choice = s.Choice,
                ShownAt = assignment.ShownAt,
                AnsweredAt = now,
                ResponseMilliseconds = (int)Math.Clamp((now - assignment.ShownAt).TotalMilliseconds, 0, int.MaxValue),
                IdempotencyKey = key,
                Source = rater.Kind,
            };
            db.Labels.Add(label);
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                await tx.RollbackAsync(ct);
                db.ChangeTracker.Clear();
                // The same idempotency key resent meanwhile (the answer stored once), or an answer of this rater to
                // this pair under another key.
                return await FindDuplicateAsync(db, rater, key, s.ComparisonId, ct)
                    ?? throw StudioProblemException.Conflict("This rater has already answered this pair (with another idempotency key).");
            }

            await tx.CommitAsync(ct);
            // Counted and, when it is done, closed off the answer path (this call may do it, or a check already
            // running for the round counts this answer too).
            var (_, all) = await closer.AnswerStoredAsync(roundId, CancellationToken.None);
            events.LabelsChanged(comparison.CampaignId, round.Index, Math.Min(wanted, all), wanted);
            // The rater sees every answer counted (see NextAsync); the round closes on the shared ones.
            return new LabelReceipt(label.Id, false, Math.Min(wanted, all), wanted,
                practice ? new PracticeFeedback(comparison.Gold!.Value, comparison.Gold == s.Choice) : null);
        }
    }

    private static async Task<LabelReceipt?> FindDuplicateAsync(StudioDbContext db, RaterRef rater, string key, Guid comparisonId, CancellationToken ct)
    {
        var previous = await db.Labels.IgnoreQueryFilters().AsNoTracking()
            .Where(l => l.IdempotencyKey == key)
            .Select(l => new { l.Id, l.ComparisonId, l.RaterId, l.Choice, l.CampaignId, l.Comparison!.RoundId, l.WithdrawnAt })
            .FirstOrDefaultAsync(ct);
        if (previous is null) return null;
        if (previous.WithdrawnAt is not null)
            throw StudioProblemException.Conflict("The answer sent with this idempotency key was taken back; answer again with a new key.");
        if (previous.ComparisonId != comparisonId || previous.RaterId != rater.Id)
            throw StudioProblemException.Conflict("This idempotency key was already used for a different answer; use a new key for a new answer.");
        var wanted = await db.Campaigns.Where(c => c.Id == previous.CampaignId).Select(c => c.LabelsPerRound).FirstAsync(ct);
        var count = previous.RoundId is { } roundId ? Math.Min(wanted, (await RoundCloser.CountAsync(db, roundId, ct)).All) : 0;
        return new LabelReceipt(previous.Id, true, count, wanted);
    }
}
