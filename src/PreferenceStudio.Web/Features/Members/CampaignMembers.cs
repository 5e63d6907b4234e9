using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Members;

public sealed record MemberView(
    [property: JsonPropertyName("user_id")] string UserId,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("role")] CampaignRole Role,
    [property: JsonPropertyName("added_at")] DateTimeOffset AddedAt);

/// <summary>Add a researcher by their account's email, or change their role (owner, editor, viewer).</summary>
public sealed record MemberRequest(
    [property: JsonPropertyName("email")] string? Email,
    [property: JsonPropertyName("role")] string? Role);

/// <summary>
/// The researchers of each campaign and their roles. A campaign always keeps at least one owner; admins reach every
/// campaign without being members.
/// </summary>
public sealed class CampaignMembers(IDbContextFactory<StudioDbContext> dbFactory)
{
    // Identity's own normaliser (the one UserManager stores NormalizedEmail with).
    private static readonly UpperInvariantLookupNormalizer Normalizer = new();

    public async Task<IReadOnlyList<MemberView>> ListAsync(Guid campaignId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.CampaignMembers.AsNoTracking().Where(m => m.CampaignId == campaignId)
            .OrderByDescending(m => m.Role).ThenBy(m => m.User!.Email)
            .Select(m => new MemberView(m.UserId, m.User!.Email ?? "", m.Role, m.AddedAt)).ToListAsync(ct);
    }

    /// <summary>Makes the account with <paramref name="email"/> a member with <paramref name="role"/>, or changes its role.</summary>
    public async Task<MemberView> SetAsync(Guid campaignId, MemberRequest request, CancellationToken ct = default)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(request.Email)) errors["email"] = ["Give the email of the researcher's account."];
        if (!Enum.TryParse<CampaignRole>(request.Role, ignoreCase: true, out var role) || !Enum.IsDefined(role) || int.TryParse(request.Role, out _))
            errors["role"] = ["role is owner, editor or viewer."];
        if (errors.Count > 0) throw new StudioValidationException(errors, "The member cannot be added");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await LockCampaignAsync(db, campaignId, ct);
        var normalized = Normalizer.NormalizeEmail(request.Email!.Trim());
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.NormalizedEmail == normalized, ct)
            ?? throw new StudioValidationException(new() { ["email"] = [$"No account has the email '{request.Email}'. An admin creates accounts on the Users page (or with `studio users add`)."] }, "The member cannot be added");
        var member = await db.CampaignMembers.FirstOrDefaultAsync(m => m.CampaignId == campaignId && m.UserId == user.Id, ct);
        if (member is null)
        {
            member = new CampaignMember { CampaignId = campaignId, UserId = user.Id, Role = role };
            db.CampaignMembers.Add(member);
        }
        else
        {
            if (member.Role == CampaignRole.Owner && role != CampaignRole.Owner) await EnsureAnotherOwnerAsync(db, campaignId, user.Id, ct);
            member.Role = role;
        }
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return new MemberView(user.Id, user.Email ?? "", member.Role, member.AddedAt);
    }

    public async Task RemoveAsync(Guid campaignId, string userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await LockCampaignAsync(db, campaignId, ct);
        var member = await db.CampaignMembers.FirstOrDefaultAsync(m => m.CampaignId == campaignId && m.UserId == userId, ct)
            ?? throw StudioProblemException.NotFound($"Account {userId} is not a member of campaign {campaignId}.");
        if (member.Role == CampaignRole.Owner) await EnsureAnotherOwnerAsync(db, campaignId, userId, ct);
        db.CampaignMembers.Remove(member);
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
    }

    /// <summary>Adds the creator of a campaign as its owner (in the creating transaction's context).</summary>
    public static void AddOwner(StudioDbContext db, Guid campaignId, string userId) =>
        db.CampaignMembers.Add(new CampaignMember { CampaignId = campaignId, UserId = userId, Role = CampaignRole.Owner });

    // Membership changes of one campaign take turns, so two owners cannot demote each other at once and leave none.
    private static async Task LockCampaignAsync(StudioDbContext db, Guid campaignId, CancellationToken ct)
    {
        await db.Database.ExecuteSqlAsync($"SELECT 1 FROM campaigns WHERE id = {campaignId} FOR UPDATE", ct);
        if (!await db.Campaigns.AnyAsync(c => c.Id == campaignId, ct))
            throw StudioProblemException.NotFound($"No campaign {campaignId}.");
    }

    private static async Task EnsureAnotherOwnerAsync(StudioDbContext db, Guid campaignId, string leaving, CancellationToken ct)
    {
        if (!await db.CampaignMembers.AnyAsync(m => m.CampaignId == campaignId && m.UserId != leaving && m.Role == CampaignRole.Owner, ct))
            throw StudioProblemException.Conflict("A campaign keeps at least one owner: make another member owner first.");
    }
}
