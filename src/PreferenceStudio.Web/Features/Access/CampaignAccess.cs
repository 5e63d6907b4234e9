using System.Security.Claims;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;

namespace PreferenceStudio.Web.Features.Access;

/// <summary>What an account may do in a campaign: an admin everything, a researcher what their membership gives.</summary>
public sealed class CampaignAccess(IDbContextFactory<StudioDbContext> dbFactory)
{
    /// <summary>Whether the campaign exists, and the role <paramref name="user"/> has in it (Owner for an admin, null for a non-member or a rater).</summary>
    public async Task<(bool Exists, CampaignRole? Role)> RoleAsync(ClaimsPrincipal user, Guid campaignId, CancellationToken ct = default)
    {
        var userId = user.UserId();
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (userId is null || !user.IsAccount())
            return (await db.Campaigns.AnyAsync(c => c.Id == campaignId, ct), null);
        var row = await db.Campaigns.Where(c => c.Id == campaignId)
            .Select(c => new { Role = db.CampaignMembers.Where(m => m.CampaignId == campaignId && m.UserId == userId).Select(m => (CampaignRole?)m.Role).FirstOrDefault() })
            .FirstOrDefaultAsync(ct);
        if (row is null) return (false, null);
        return (true, user.IsAdmin() ? CampaignRole.Owner : row.Role);
    }

    public async Task<bool> HasAsync(ClaimsPrincipal user, Guid campaignId, CampaignRole needed, CancellationToken ct = default) =>
        (await RoleAsync(user, campaignId, ct)).Role >= needed;

    /// <summary>The campaigns <paramref name="user"/> may see: all for an admin, their memberships for a researcher, none otherwise.</summary>
    public static IQueryable<Campaign> Visible(StudioDbContext db, ClaimsPrincipal user)
    {
        if (user.IsAdmin()) return db.Campaigns;
        var userId = user.UserId();
        if (userId is null || !user.IsAccount()) return db.Campaigns.Where(_ => false);
        return db.Campaigns.Where(c => db.CampaignMembers.Any(m => m.CampaignId == c.Id && m.UserId == userId));
    }
}
