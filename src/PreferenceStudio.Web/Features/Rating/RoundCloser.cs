using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Web.Features.Live;
using PreferenceStudio.Web.Features.Rounds;

namespace PreferenceStudio.Web.Features.Rating;

/// <summary>
/// Closes a round once it has its labels, off the answer path. Answers hold a shared advisory lock on their round
/// while they store a label (<see cref="LockShared"/>), so answers never wait for one another; the close takes the
/// same lock exclusively, which waits for the answers in flight and holds back new ones until the round is marked
/// Training. An answer therefore either commits before the close (and is counted and trained on) or finds the round
/// closed and is refused; none is acknowledged and then lost, and the status change from Open happens once.
/// Counting reads counters the database keeps per round (see <see cref="CountAsync"/>), never the labels.
/// </summary>
public sealed class RoundCloser(IDbContextFactory<StudioDbContext> dbFactory, CampaignEvents events, WorkerSignal worker, ILogger<RoundCloser> logger)
{
    private sealed class Gate
    {
        public readonly SemaphoreSlim Running = new(1, 1);
        public int Dirty;
        public (int Shared, int All) Count;
        public readonly object CountLock = new();
        // Which campaign and round index this is, read once (they never change; the campaign's targets are read with
        // each count, so a changed target counts from the next answer).
        public RoundFacts? Facts;
    }

    private sealed record RoundFacts(Guid CampaignId, int Index);

    private readonly ConcurrentDictionary<Guid, Gate> _gates = new();
    private readonly ConcurrentDictionary<Guid, (long At, (int Shared, int All) Count)> _recent = new();

    /// <summary>How old a round's count may be when a page or a <c>next</c> shows it (answers refresh it as they come).</summary>
    public static readonly TimeSpan CountFreshFor = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The round's count for showing (see <see cref="AnswerStoredAsync"/>), at most <see cref="CountFreshFor"/> old:
    /// serving a pair does not sum the round's counters each time.
    /// </summary>
    public async Task<(int Shared, int All)> ShownCountAsync(StudioDbContext db, Guid roundId, CancellationToken ct)
    {
        if (_recent.TryGetValue(roundId, out var known) && System.Diagnostics.Stopwatch.GetElapsedTime(known.At) < CountFreshFor) return known.Count;
        var count = await CountAsync(db, roundId, ct);
        _recent[roundId] = (System.Diagnostics.Stopwatch.GetTimestamp(), count);
        return count;
    }

    /// <summary>The SQL that takes the round's lock shared inside an answer's transaction.</summary>
    public static FormattableString LockShared(Guid roundId) => $"SELECT pg_advisory_xact_lock_shared(hashtextextended({Key(roundId)}, 0))";

    private static string Key(Guid roundId) => "round:" + roundId.ToString("N");

    /// <summary>
    /// Called after an answer to a pair of <paramref name="roundId"/> committed: counts the round's shared answers and
    /// closes it when done. Checks of one round never overlap: while one runs, a call only asks it to count once more
    /// (so an answer that committed during a count is never missed) and returns the newest count known: answers to
    /// the shared pairs (what closes the round) and to all pairs, gold ones included (what raters are shown).
    /// </summary>
    public async Task<(int Shared, int All)> AnswerStoredAsync(Guid roundId, CancellationToken ct = default)
    {
        var gate = _gates.GetOrAdd(roundId, _ => new Gate());
        Volatile.Write(ref gate.Dirty, 1);
        await RunChecksAsync(roundId, gate, maxChecks: 1, ct);
        lock (gate.CountLock) return gate.Count;
    }

    /// <summary>
    /// Counts while asked to, one check at a time per round. An answer's own request does at most
    /// <paramref name="maxChecks"/> (under a steady stream of answers there is always one more to count); what is left
    /// is handed to a background task, so no answer waits for the counting of others.
    /// </summary>
    private async Task RunChecksAsync(Guid roundId, Gate gate, int maxChecks, CancellationToken ct)
    {
        while (Volatile.Read(ref gate.Dirty) == 1 && await gate.Running.WaitAsync(0, CancellationToken.None))
        {
            int done = 0;
            bool handOff = false;
            try
            {
                while (Interlocked.Exchange(ref gate.Dirty, 0) == 1)
                {
                    var (count, open) = await CheckAsync(roundId, gate, ct);
                    lock (gate.CountLock) gate.Count = count;
                    _recent[roundId] = (System.Diagnostics.Stopwatch.GetTimestamp(), count);
                    if (!open)
                    {
                        _gates.TryRemove(roundId, out _);
                        return;
                    }
                    if (++done >= maxChecks)
                    {
                        handOff = Volatile.Read(ref gate.Dirty) == 1;
                        break;
                    }
                }
            }
            catch (Exception ex)
            {
                // The answer is stored; the sweep checks the round again.
                logger.LogWarning(ex, "Checking round {Round} failed", roundId);
                return;
            }
            finally
            {
                gate.Running.Release();
            }
            if (handOff)
            {
                _ = Task.Run(() => RunChecksAsync(roundId, gate, int.MaxValue, CancellationToken.None));
                return;
            }
            // A call that marked the gate between the last count and the release found it busy and left: count again.
        }
    }

    /// <summary>Checks every open round (at start and now and then): a crash between an answer and its check leaves
    /// no round open with all its labels.</summary>
    public async Task SweepAsync(CancellationToken ct)
    {
        List<Guid> open;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            open = await db.Rounds.AsNoTracking().Where(r => r.Status == RoundStatus.Open).Select(r => r.Id).ToListAsync(ct);
        foreach (var id in open) await AnswerStoredAsync(id, ct);
    }

    /// <summary>The round's shared answers, and whether it is still open after this check.</summary>
    private async Task<((int Shared, int All) Count, bool Open)> CheckAsync(Guid roundId, Gate gate, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (gate.Facts is null)
        {
            var facts = await db.Rounds.AsNoTracking().Where(r => r.Id == roundId)
                .Select(r => new { r.Status, r.Index, r.CampaignId, Campaign = db.Campaigns.First(c => c.Id == r.CampaignId) })
                .FirstOrDefaultAsync(ct);
            if (facts is null) return ((0, 0), false);
            if (facts.Status != RoundStatus.Open) return (await CountAsync(db, roundId, ct), false);
            gate.Facts = new RoundFacts(facts.CampaignId, facts.Index);
        }
        var round = gate.Facts;
        // The count and the campaign's targets in one read; whether the round is still open is settled under the lock below.
        var read = (await db.Database.SqlQuery<CountAndTargets>($"""
            SELECT coalesce(sum(n.shared), 0)::int AS "Shared", coalesce(sum(n.total), 0)::int AS "All",
                   c.labels_per_round AS "LabelsPerRound", c.labels_per_pair AS "LabelsPerPair"
            FROM campaigns c LEFT JOIN round_label_counts n ON n.round_id = {roundId}
            WHERE c.id = {round.CampaignId}
            GROUP BY c.labels_per_round, c.labels_per_pair
            """).ToListAsync(ct)).Single();
        var count = (read.Shared, read.All);
        if (!await DoneAsync(db, roundId, count.Shared, read.LabelsPerRound, read.LabelsPerPair, ct)) return (count, true);

        bool closed;
        await using (var tx = await db.Database.BeginTransactionAsync(ct))
        {
            // Waits for every answer holding the lock shared, and keeps new ones out until this commits.
            await db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({Key(roundId)}, 0))", ct);
            count = await CountAsync(db, roundId, ct);
            var now = DateTimeOffset.UtcNow;
            closed = await db.Rounds.Where(r => r.Id == roundId && r.Status == RoundStatus.Open)
                .ExecuteUpdateAsync(u => u.SetProperty(r => r.Status, RoundStatus.Training).SetProperty(r => r.ClosedAt, now), ct) == 1;
            // Not closed here: another node closed it, or it was never open again; either way it is not open.
            if (closed) await JobQueue.EnqueueAsync(db, round.CampaignId, JobKind.TrainRound, round.Index, ct);
            await tx.CommitAsync(ct);
        }
        if (closed)
        {
            logger.LogInformation("Round {Round} of campaign {Campaign} closed with {Count} labels", round.Index + 1, round.CampaignId, count.Shared);
            worker.Wake();
            await events.PublishAsync(new CampaignChanged(round.CampaignId, CampaignChangeKind.RoundClosed, round.Index));
        }
        return (count, false);
    }

    /// <summary>
    /// Answers in force to the round's shared (non-gold) pairs and to all its pairs: the sum of the round's 16 counter
    /// rows (round_label_counts, kept by the labels trigger; see the RoundLabelCounters migration), not of its labels.
    /// </summary>
    public static async Task<(int Shared, int All)> CountAsync(StudioDbContext db, Guid roundId, CancellationToken ct)
    {
        var sums = await db.Database.SqlQuery<RoundCount>($"""
            SELECT coalesce(sum(shared), 0)::int AS "Shared", coalesce(sum(total), 0)::int AS "All"
            FROM round_label_counts WHERE round_id = {roundId}
            """).ToListAsync(ct);
        return (sums[0].Shared, sums[0].All);
    }

    private sealed record RoundCount(int Shared, int All);

    private sealed record CountAndTargets(int Shared, int All, int LabelsPerRound, int? LabelsPerPair);

    // Done at the labels wanted, or, with k raters per pair, once every shared pair shown has its k answers.
    private static async Task<bool> DoneAsync(StudioDbContext db, Guid roundId, int count, int wanted, int? perPair, CancellationToken ct) =>
        count >= wanted
        || (perPair is { } k && !await db.Comparisons.AnyAsync(x => x.RoundId == roundId && x.Gold == null && x.ForRaterId == null
            && x.LeftClip!.Status == ClipStatus.Rendered && x.RightClip!.Status == ClipStatus.Rendered && x.LabelCount < k, ct));
}

/// <summary>Runs <see cref="RoundCloser.SweepAsync"/> at start and every few seconds.</summary>
public sealed class RoundCloserSweep(RoundCloser closer, ILogger<RoundCloserSweep> logger) : BackgroundService
{
    public static readonly TimeSpan Every = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Off the host's start: a database that is down (retried for half a minute) must not hold up serving /health.
        await Task.Yield();
        using var timer = new PeriodicTimer(Every);
        do
        {
            try
            {
                await closer.SweepAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(ex, "Checking open rounds failed; trying again in {Seconds} s", Every.TotalSeconds);
            }
        } while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
