using System.Text;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Features.Access;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Raters;

/// <summary>A personal invite link just made; the link is shown (and downloadable) only now.</summary>
public sealed record CreatedInvite(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("url")] string Url);

/// <summary>An invite as listed later: whether it was used, and by which rater (pseudonym).</summary>
public sealed record InviteView(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("created_by")] string? CreatedBy,
    [property: JsonPropertyName("used_at")] DateTimeOffset? UsedAt,
    [property: JsonPropertyName("rater")] string? Rater);

public sealed record CreateInvitesRequest([property: JsonPropertyName("count")] int Count);

/// <summary>Personal join links for invite-only campaigns, made in batches and handed out one per person.</summary>
public sealed class InviteService(IDbContextFactory<StudioDbContext> dbFactory)
{
    public const int MaxPerBatch = 1000;

    /// <summary>Makes <paramref name="count"/> invites; each link is <c>{baseUrl}/join/{code}?invite=...</c>.</summary>
    public async Task<IReadOnlyList<CreatedInvite>> CreateAsync(Guid campaignId, int count, string baseUrl, string? createdBy, CancellationToken ct = default)
    {
        if (count is < 1 or > MaxPerBatch)
            throw new StudioValidationException(new() { ["count"] = [$"Make 1 to {MaxPerBatch} invite links at a time."] }, "The invite links cannot be made");
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var code = await db.Campaigns.Where(c => c.Id == campaignId).Select(c => c.JoinCode).FirstOrDefaultAsync(ct)
            ?? throw StudioProblemException.NotFound($"No campaign {campaignId}.");
        var created = new List<CreatedInvite>(count);
        for (int i = 0; i < count; i++)
        {
            var token = SecretTokens.New(SecretTokens.InvitePrefix);
            var invite = new RaterInvite { CampaignId = campaignId, TokenHash = SecretTokens.Hash(token), CreatedBy = createdBy };
            db.RaterInvites.Add(invite);
            created.Add(new CreatedInvite(invite.Id, $"{baseUrl.TrimEnd('/')}/join/{Uri.EscapeDataString(code)}?invite={token}"));
        }
        await db.SaveChangesAsync(ct);
        return created;
    }

    public async Task<IReadOnlyList<InviteView>> ListAsync(Guid campaignId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.RaterInvites.AsNoTracking().Where(i => i.CampaignId == campaignId).OrderBy(i => i.CreatedAt)
            .Select(i => new InviteView(i.Id, i.CreatedAt, i.CreatedBy, i.UsedAt,
                db.CampaignRaters.Where(r => r.CampaignId == campaignId && r.RaterId == i.RaterId).Select(r => r.Pseudonym).FirstOrDefault()))
            .ToListAsync(ct);
    }

    /// <summary>The batch as CSV (one link a line), for a crowd-sourcing platform or a mail merge.</summary>
    public static string ToCsv(IEnumerable<CreatedInvite> invites)
    {
        var csv = new StringBuilder("invite_id,url\n");
        // Neither field can hold a comma, quote or line break (a GUID; a URL of url-safe characters).
        foreach (var i in invites) csv.Append(i.Id).Append(',').Append(i.Url).Append('\n');
        return csv.ToString();
    }
}
