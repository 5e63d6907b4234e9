using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Features.Access;
using PreferenceStudio.Web.Features.Live;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Raters;

/// <summary>
/// The raters of each campaign: made when a person opens a join link (or a personal invite link) or when a researcher
/// asks for scripted raters, found again from the identity the server issued, listed by pseudonym, and erased.
/// </summary>
public sealed class RaterDirectory(IDbContextFactory<StudioDbContext> dbFactory, CampaignEvents events)
{
    private const string PseudonymAlphabet = "23456789abcdefghjkmnpqrstuvwxyz";
    public const int MaxScriptedPerRequest = 1000;

    /// <summary>The rater, unless there is no such rater in the campaign or their data was erased.</summary>
    public async Task<RaterRef?> FindAsync(Guid campaignId, string raterId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.CampaignRaters.AsNoTracking()
            .Where(r => r.CampaignId == campaignId && r.RaterId == raterId && r.ErasedAt == null)
            .Select(r => new RaterRef(r.CampaignId, r.RaterId, r.Pseudonym, r.Kind))
            .FirstOrDefaultAsync(ct);
    }

    /// <summary>The scripted rater a rater token belongs to (null for an unknown token or an erased rater).</summary>
    public async Task<RaterRef?> FindByTokenAsync(string token, CancellationToken ct = default)
    {
        var hash = SecretTokens.Hash(token);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.CampaignRaters.AsNoTracking()
            .Where(r => r.TokenHash == hash && r.ErasedAt == null)
            .Select(r => new RaterRef(r.CampaignId, r.RaterId, r.Pseudonym, r.Kind))
            .FirstOrDefaultAsync(ct);
    }

    /// <summary>
    /// Takes the rater's row FOR SHARE inside the caller's transaction and refuses an erased rater (403). A write of the
    /// rater's data after this cannot slip past an erasure: the erasure takes the row FOR UPDATE first, so it waits for
    /// the write and then deletes it, or the write sees it erased.
    /// </summary>
    public static async Task RequireNotErasedAsync(StudioDbContext db, RaterRef rater, CancellationToken ct)
    {
        var erased = await db.Database.SqlQuery<DateTimeOffset?>(
            $"SELECT erased_at AS \"Value\" FROM campaign_raters WHERE campaign_id = {rater.CampaignId} AND rater_id = {rater.Id} FOR SHARE").ToListAsync(ct);
        if (erased is not [null])
            throw StudioProblemException.Forbidden("Your rater identity in this campaign is no longer valid: your data was erased by its researchers.");
    }

    /// <summary>Rater id to pseudonym for every rater the campaign has had (erased ones too).</summary>
    public static async Task<Dictionary<string, string>> PseudonymsAsync(StudioDbContext db, Guid campaignId, CancellationToken ct) =>
        await db.CampaignRaters.AsNoTracking().Where(r => r.CampaignId == campaignId)
            .ToDictionaryAsync(r => r.RaterId, r => r.Pseudonym, StringComparer.Ordinal, ct);

    /// <summary>Pseudonyms of the campaign's erased raters.</summary>
    public static async Task<HashSet<string>> ErasedPseudonymsAsync(StudioDbContext db, Guid campaignId, CancellationToken ct) =>
        (await db.CampaignRaters.AsNoTracking().Where(r => r.CampaignId == campaignId && r.ErasedAt != null)
            .Select(r => r.Pseudonym).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);

    /// <summary>
    /// A new person in the campaign, for someone who opened its join link: refused when the campaign takes raters
    /// only by invitation and <paramref name="inviteToken"/> is not an unused invite of it, or when it already has
    /// its maximum of raters. The check and the insert hold the campaign's row, so two joins cannot both take the
    /// last place, and an invite joins one rater only.
    /// </summary>
    /// <param name="participant">The recruiting platform's participant, from the link: a participant who joined
    /// before gets their rater back (on any device), and a new one is recorded with the rater.</param>
    public async Task<(RaterRef? Rater, JoinRefusal Refusal)> JoinAsync(Guid campaignId, string? inviteToken, Participant? participant = null, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var campaign = await db.Campaigns.FromSql($"SELECT * FROM campaigns WHERE id = {campaignId} FOR UPDATE").AsNoTracking().FirstOrDefaultAsync(ct);
        if (campaign is null) return (null, JoinRefusal.UnknownCampaign);
        // In an invite-only campaign the invite is the ticket in, also for a participant coming back: a platform id
        // alone (which anyone who saw it could send) must not open it.
        Guid? inviteId = null;
        if (campaign.InviteOnly)
        {
            if (string.IsNullOrEmpty(inviteToken)) return (null, JoinRefusal.InviteRequired);
            if (!SecretTokens.LooksLike(inviteToken, SecretTokens.InvitePrefix)) return (null, JoinRefusal.InviteInvalid);
            var hash = SecretTokens.Hash(inviteToken);
            inviteId = await db.RaterInvites.Where(i => i.CampaignId == campaignId && i.TokenHash == hash && i.UsedAt == null)
                .Select(i => (Guid?)i.Id).FirstOrDefaultAsync(ct);
            if (inviteId is null) return (null, JoinRefusal.InviteInvalid);
        }
        if (participant is not null)
        {
            var known = await db.CampaignRaters.AsNoTracking()
                .FirstOrDefaultAsync(r => r.CampaignId == campaignId && r.ParticipantPlatform == participant.Platform && r.ParticipantId == participant.Id, ct);
            if (known is { ErasedAt: not null }) return (null, JoinRefusal.ParticipantErased);
            if (known is not null)
            {
                if (participant.Session is not null && participant.Session != known.ParticipantSession)
                    await db.CampaignRaters.Where(r => r.CampaignId == campaignId && r.RaterId == known.RaterId)
                        .ExecuteUpdateAsync(u => u.SetProperty(r => r.ParticipantSession, participant.Session), ct);
                if (inviteId is { } used)
                    await db.RaterInvites.Where(i => i.Id == used).ExecuteUpdateAsync(u => u
                        .SetProperty(i => i.UsedAt, DateTimeOffset.UtcNow).SetProperty(i => i.RaterId, known.RaterId), ct);
                await tx.CommitAsync(ct);
                return (new RaterRef(campaignId, known.RaterId, known.Pseudonym, known.Kind), JoinRefusal.None);
            }
        }

        if (campaign.MaxRaters is { } max
            && await db.CampaignRaters.CountAsync(r => r.CampaignId == campaignId && r.Kind == RaterKinds.Human && r.ErasedAt == null, ct) >= max)
            return (null, JoinRefusal.CampaignFull);

        var rater = await AddAsync(db, campaignId, RaterKinds.Human, pseudonym: null, tokenHash: null, inviteId, ct);
        if (participant is not null)
            await db.CampaignRaters.Where(r => r.CampaignId == campaignId && r.RaterId == rater.Id).ExecuteUpdateAsync(u => u
                .SetProperty(r => r.ParticipantPlatform, participant.Platform).SetProperty(r => r.ParticipantId, participant.Id)
                .SetProperty(r => r.ParticipantStudy, participant.Study).SetProperty(r => r.ParticipantSession, participant.Session), ct);
        if (inviteId is { } id)
            await db.RaterInvites.Where(i => i.Id == id).ExecuteUpdateAsync(u => u
                .SetProperty(i => i.UsedAt, DateTimeOffset.UtcNow).SetProperty(i => i.RaterId, rater.Id), ct);
        await tx.CommitAsync(ct);
        return (rater, JoinRefusal.None);
    }

    /// <summary>The recruiting platform's participant a rater joined as (null: joined without one).</summary>
    public async Task<(string Platform, string Id)?> ParticipantOfAsync(Guid campaignId, string raterId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.CampaignRaters.AsNoTracking().Where(r => r.CampaignId == campaignId && r.RaterId == raterId)
            .Select(r => new { r.ParticipantPlatform, r.ParticipantId }).FirstOrDefaultAsync(ct);
        return row is { ParticipantPlatform: { } platform, ParticipantId: { } id } ? (platform, id) : null;
    }

    /// <summary>
    /// Scripted raters for programs that drive the rating API (simulated teachers, pilots): <paramref name="count"/> with
    /// generated pseudonyms, or one per name given. Each gets a rater token, returned here only.
    /// </summary>
    public async Task<IReadOnlyList<CreatedRater>> CreateScriptedAsync(Guid campaignId, CreateRatersRequest request, CancellationToken ct = default)
    {
        var kind = string.IsNullOrWhiteSpace(request.Kind) ? RaterKinds.Scripted : request.Kind.Trim();
        var names = request.Pseudonyms?.ToList();
        var errors = new Dictionary<string, string[]>();
        if (!RaterKinds.Creatable.Contains(kind))
            errors["kind"] = [$"kind is {string.Join(" or ", RaterKinds.Creatable)} (people get their identity from a join link)."];
        if (names is { Count: > 0 })
        {
            if (request.Count is { } c && c != names.Count) errors["count"] = ["Give count or pseudonyms, or a count equal to the number of pseudonyms."];
            var bad = names.Where(n => !IsValidPseudonym(n)).ToList();
            if (bad.Count > 0) errors["pseudonyms"] = [$"A pseudonym is 1 to 64 letters, digits, '-' or '_'; not: {string.Join(", ", bad.Take(5).Select(b => $"'{b}'"))}."];
            else if (names.Distinct(StringComparer.Ordinal).Count() != names.Count) errors["pseudonyms"] = ["The pseudonyms repeat a name."];
            if (names.Count > MaxScriptedPerRequest) errors["pseudonyms"] = [$"At most {MaxScriptedPerRequest} raters per request."];
        }
        else if (request.Count is not { } n || n < 1 || n > MaxScriptedPerRequest)
            errors["count"] = [$"Ask for 1 to {MaxScriptedPerRequest} raters (count), or name them (pseudonyms)."];
        if (errors.Count > 0) throw new StudioValidationException(errors, "The raters cannot be created");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Campaigns.AnyAsync(c => c.Id == campaignId, ct)) throw StudioProblemException.NotFound($"No campaign {campaignId}.");
        if (names is { Count: > 0 })
        {
            var taken = await db.CampaignRaters.Where(r => r.CampaignId == campaignId && names.Contains(r.Pseudonym)).Select(r => r.Pseudonym).ToListAsync(ct);
            if (taken.Count > 0)
                throw new StudioValidationException(new() { ["pseudonyms"] = [$"The campaign already has rater(s) named {string.Join(", ", taken)}; choose other names."] }, "The raters cannot be created");
        }
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var created = new List<CreatedRater>();
        for (int i = 0; i < (names?.Count > 0 ? names.Count : request.Count!.Value); i++)
        {
            var token = SecretTokens.New(SecretTokens.RaterPrefix);
            var rater = await AddAsync(db, campaignId, kind, names is { Count: > 0 } ? names[i] : null, SecretTokens.Hash(token), null, ct);
            created.Add(new CreatedRater(rater.Pseudonym, kind, token));
        }
        await tx.CommitAsync(ct);
        return created;
    }

    /// <summary>
    /// Raters named in an imported file, by pseudonym: the campaign's rater of that name, else a new imported rater.
    /// Runs inside the importer's transaction, so a refused import leaves no raters behind.
    /// </summary>
    public static async Task<Dictionary<string, string>> EnsureImportedAsync(StudioDbContext db, Guid campaignId, IEnumerable<string> pseudonyms, CancellationToken ct)
    {
        var wanted = pseudonyms.Distinct(StringComparer.Ordinal).ToList();
        // Shared locks, as an answer takes: an erasure running now waits, and one that just finished is seen.
        var existing = await db.CampaignRaters
            .FromSql($"SELECT * FROM campaign_raters WHERE campaign_id = {campaignId} AND pseudonym = ANY({wanted.ToArray()}) FOR SHARE")
            .AsNoTracking().ToListAsync(ct);
        if (existing.FirstOrDefault(r => r.ErasedAt is not null) is { } erased)
            throw new ErasedRaterException(erased.Pseudonym);
        var map = existing.ToDictionary(r => r.Pseudonym, r => r.RaterId, StringComparer.Ordinal);
        foreach (var name in wanted.Where(n => !map.ContainsKey(n)))
            map[name] = (await AddAsync(db, campaignId, RaterKinds.Imported, name, null, null, ct)).Id;
        return map;
    }

    /// <summary>A name an imported file may give a rater: what files have always held (up to 64 characters), no control characters.</summary>
    public static bool IsValidImportedName(string? name) => name is { Length: >= 1 and <= 64 } && !name.Any(char.IsControl);

    public static bool IsValidPseudonym(string? name) =>
        name is { Length: >= 1 and <= 64 } && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');

    private static async Task<RaterRef> AddAsync(StudioDbContext db, Guid campaignId, string kind, string? pseudonym, string? tokenHash, Guid? inviteId, CancellationToken ct)
    {
        var id = "r-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12));
        var now = DateTimeOffset.UtcNow;
        await db.Database.ExecuteSqlAsync($"INSERT INTO raters (id, created_at, kind) VALUES ({id}, {now}, {kind})", ct);
        for (int attempt = 0; ; attempt++)
        {
            var name = pseudonym ?? "p-" + RandomNumberGenerator.GetString(PseudonymAlphabet, 8);
            // A savepoint, so a clash of generated pseudonyms (one in 10^11) does not abort the caller's transaction.
            await db.Database.ExecuteSqlRawAsync("SAVEPOINT rater_pseudonym", ct);
            try
            {
                await db.Database.ExecuteSqlAsync($"""
                    INSERT INTO campaign_raters (campaign_id, rater_id, pseudonym, kind, joined_at, token_hash, invite_id)
                    VALUES ({campaignId}, {id}, {name}, {kind}, {now}, {tokenHash}, {inviteId})
                    """, ct);
                await db.Database.ExecuteSqlRawAsync("RELEASE SAVEPOINT rater_pseudonym", ct);
                return new RaterRef(campaignId, id, name, kind);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && pseudonym is null && attempt < 5)
            {
                await db.Database.ExecuteSqlRawAsync("ROLLBACK TO SAVEPOINT rater_pseudonym", ct);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation && pseudonym is not null)
            {
                // Another request named a rater the same a moment ago.
                throw StudioProblemException.Conflict($"The campaign already has a rater named '{pseudonym}'; choose another name.");
            }
        }
    }

    /// <summary>Every rater the campaign has had, with what they gave, oldest first.</summary>
    public async Task<IReadOnlyList<RaterView>> ListAsync(Guid campaignId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.CampaignRaters.AsNoTracking().Where(r => r.CampaignId == campaignId)
            .OrderBy(r => r.JoinedAt).ThenBy(r => r.Pseudonym)
            .Select(r => new RaterView(r.Pseudonym, r.Kind, r.JoinedAt,
                db.Labels.Count(l => l.CampaignId == campaignId && l.RaterId == r.RaterId),
                db.FactorRankings.Count(f => f.CampaignId == campaignId && f.RaterId == r.RaterId),
                r.InviteId != null, r.ErasedAt))
            .ToListAsync(ct);
    }

    /// <summary>The campaign's people (not scripted raters), for paying and checking a crowd-sourced study.</summary>
    public async Task<IReadOnlyList<ParticipantView>> ParticipantsAsync(Guid campaignId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var code = await db.Campaigns.Where(c => c.Id == campaignId).Select(c => c.CompletionCode).FirstOrDefaultAsync(ct);
        var rows = await db.CampaignRaters.AsNoTracking().Where(r => r.CampaignId == campaignId && r.Kind == RaterKinds.Human && r.ErasedAt == null)
            .OrderBy(r => r.JoinedAt).ThenBy(r => r.Pseudonym)
            .Select(r => new
            {
                r.Pseudonym, r.ParticipantPlatform, r.ParticipantId, r.ParticipantStudy, r.ParticipantSession, r.JoinedAt, r.CompletedAt,
                Labels = db.Labels.Count(l => l.CampaignId == campaignId && l.RaterId == r.RaterId),
                Last = db.Labels.Where(l => l.CampaignId == campaignId && l.RaterId == r.RaterId).Max(l => (DateTimeOffset?)(l.AnsweredAt ?? l.CreatedAt)),
            })
            .ToListAsync(ct);
        // Time spent: from joining to the last answer (or to the completion code, when that came later).
        return rows.Select(r =>
        {
            var end = new[] { r.Last, r.CompletedAt }.Max();
            return new ParticipantView(r.Pseudonym, r.ParticipantPlatform, r.ParticipantId, r.ParticipantStudy, r.ParticipantSession, r.JoinedAt,
                r.Labels, end is { } e ? Math.Round((e - r.JoinedAt).TotalSeconds, 1) : null, r.CompletedAt,
                r.CompletedAt is not null && code is { Length: > 0 } ? code : null);
        }).ToList();
    }

    public async Task<IReadOnlyList<RaterErasureView>> ErasuresAsync(Guid campaignId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.RaterErasures.AsNoTracking().Where(e => e.CampaignId == campaignId).OrderBy(e => e.ErasedAt)
            .Select(e => new RaterErasureView(e.Pseudonym, e.ErasedBy, e.ErasedAt, e.Labels, e.Rankings, e.Assignments))
            .ToListAsync(ct);
    }

    /// <summary>
    /// Deletes one rater's labels, factor rankings and served pairs from the campaign, refuses their identity from
    /// now on, and records the erasure. Training runs after this do not see them. Taking the rater's row first
    /// waits for an answer of theirs being stored right now, so it is erased too rather than left behind.
    /// </summary>
    public async Task<RaterErasureView> EraseAsync(Guid campaignId, string pseudonym, string erasedBy, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        var now = DateTimeOffset.UtcNow;
        var rater = await db.CampaignRaters.FromSql($"SELECT * FROM campaign_raters WHERE campaign_id = {campaignId} AND pseudonym = {pseudonym} FOR UPDATE")
            .AsNoTracking().FirstOrDefaultAsync(ct)
            ?? throw StudioProblemException.NotFound($"Campaign {campaignId} has no rater '{pseudonym}'.");
        if (rater.ErasedAt is { } erasedAt)
            throw StudioProblemException.Conflict($"Rater '{pseudonym}' was already erased, at {erasedAt:u}.");
        await db.CampaignRaters.Where(r => r.CampaignId == campaignId && r.RaterId == rater.RaterId)
            .ExecuteUpdateAsync(u => u.SetProperty(r => r.ErasedAt, now).SetProperty(r => r.TokenHash, (string?)null), ct);
        // Withdrawn answers too: an erasure leaves nothing of the rater's behind.
        int labels = await db.Labels.IgnoreQueryFilters().Where(l => l.CampaignId == campaignId && l.RaterId == rater.RaterId).ExecuteDeleteAsync(ct);
        int rankings = await db.FactorRankings.Where(f => f.CampaignId == campaignId && f.RaterId == rater.RaterId).ExecuteDeleteAsync(ct);
        int assignments = await db.Database.ExecuteSqlAsync($"""
            DELETE FROM assignments a USING comparisons c
            WHERE a.comparison_id = c.id AND c.campaign_id = {campaignId} AND a.rater_id = {rater.RaterId}
            """, ct);
        var record = new RaterErasure { CampaignId = campaignId, Pseudonym = pseudonym, ErasedBy = erasedBy, ErasedAt = now, Labels = labels, Rankings = rankings, Assignments = assignments };
        db.RaterErasures.Add(record);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        await events.PublishAsync(new CampaignChanged(campaignId, CampaignChangeKind.Labels, Message: $"Rater {pseudonym} erased"));
        return new RaterErasureView(pseudonym, erasedBy, now, labels, rankings, assignments);
    }
}

/// <summary>An import named a rater whose data was erased from the campaign.</summary>
public sealed class ErasedRaterException(string pseudonym) : Exception($"rater '{pseudonym}' was erased from this campaign; remove their lines")
{
    public string Pseudonym { get; } = pseudonym;
}
