using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Access;

public sealed record UserView(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("email")] string Email,
    [property: JsonPropertyName("role")] string? Role,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("locked_until")] DateTimeOffset? LockedUntil);

/// <summary>
/// Accounts and their role (admin or researcher), through ASP.NET Core Identity: passwords are hashed by Identity
/// and must pass its validators. Used by the first-start set-up page, the admin's Users page and <c>studio users add</c>.
/// Each call takes its own service scope, so a Blazor circuit never holds a database context across calls.
/// </summary>
public sealed class UserAccounts(IServiceScopeFactory scopes, IDbContextFactory<StudioDbContext> dbFactory)
{
    /// <summary>Creates the roles if this database has none yet.</summary>
    public static async Task EnsureRolesAsync(RoleManager<IdentityRole> roles)
    {
        foreach (var role in StudioRoles.All)
            if (!await roles.RoleExistsAsync(role))
                Check(await roles.CreateAsync(new IdentityRole(role)), "role");
    }

    public async Task<bool> AnyAdminAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.UserRoles.AnyAsync(ur => db.Roles.Any(r => r.Id == ur.RoleId && r.Name == StudioRoles.Admin), ct);
    }

    /// <summary>Makes an account; refuses an unknown role, a taken or malformed email, or a password Identity rejects.</summary>
    public async Task<UserView> CreateAsync(string email, string password, string role, CancellationToken ct = default)
    {
        using var scope = scopes.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<StudioUser>>();
        await EnsureRolesAsync(scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>());
        var errors = new Dictionary<string, string[]>();
        email = (email ?? "").Trim();
        if (!StudioRoles.All.Contains(role)) errors["role"] = [$"role is {string.Join(" or ", StudioRoles.All)}."];
        if (!System.Net.Mail.MailAddress.TryCreate(email, out var parsed) || parsed.Address != email) errors["email"] = ["Give an email address such as ada@example.org."];
        else if (await users.FindByEmailAsync(email) is not null) errors["email"] = [$"An account with the email {email} exists already."];
        var user = new StudioUser { UserName = email, Email = email, EmailConfirmed = true };
        if (!errors.ContainsKey("email"))
        {
            var passwordErrors = await PasswordErrorsAsync(users, user, password);
            if (passwordErrors.Length > 0) errors["password"] = passwordErrors;
        }
        if (errors.Count > 0) throw new StudioValidationException(errors, "The account cannot be created");
        Check(await users.CreateAsync(user, password), "account");
        Check(await users.AddToRoleAsync(user, role), "role");
        return new UserView(user.Id, email, role, user.CreatedAt, null);
    }

    public static async Task<string[]> PasswordErrorsAsync(UserManager<StudioUser> users, StudioUser user, string? password)
    {
        if (string.IsNullOrEmpty(password)) return ["Choose a password."];
        var messages = new List<string>();
        foreach (var validator in users.PasswordValidators)
        {
            var result = await validator.ValidateAsync(users, user, password);
            messages.AddRange(result.Errors.Select(e => e.Description));
        }
        return messages.ToArray();
    }

    public async Task<IReadOnlyList<UserView>> ListAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = DateTimeOffset.UtcNow;
        return await db.Users.AsNoTracking().OrderBy(u => u.Email)
            .Select(u => new UserView(u.Id, u.Email ?? "",
                db.UserRoles.Where(ur => ur.UserId == u.Id).Join(db.Roles, ur => ur.RoleId, r => r.Id, (ur, r) => r.Name).FirstOrDefault(),
                u.CreatedAt, u.LockoutEnd > now ? u.LockoutEnd : null))
            .ToListAsync(ct);
    }

    /// <summary>Gives the account the other role; refuses to take the last admin's role away.</summary>
    public async Task SetRoleAsync(string userId, string role, CancellationToken ct = default)
    {
        if (!StudioRoles.All.Contains(role)) throw new StudioValidationException(new() { ["role"] = [$"role is {string.Join(" or ", StudioRoles.All)}."] });
        using var scope = scopes.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<StudioUser>>();
        var user = await users.FindByIdAsync(userId) ?? throw StudioProblemException.NotFound($"No account {userId}.");
        var current = await users.GetRolesAsync(user);
        if (current.Contains(StudioRoles.Admin) && role != StudioRoles.Admin) await EnsureAnotherAdminAsync(users, userId);
        Check(await users.RemoveFromRolesAsync(user, current), "role");
        Check(await users.AddToRoleAsync(user, role), "role");
        // Sessions and tokens of this account pick up the new role at their next check.
        Check(await users.UpdateSecurityStampAsync(user), "account");
    }

    /// <summary>Locks an account out (its sessions end at their next check; its tokens stop working) or lets it in again.</summary>
    public async Task SetLockedAsync(string userId, bool locked, CancellationToken ct = default)
    {
        using var scope = scopes.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<StudioUser>>();
        var user = await users.FindByIdAsync(userId) ?? throw StudioProblemException.NotFound($"No account {userId}.");
        if (locked && await users.IsInRoleAsync(user, StudioRoles.Admin)) await EnsureAnotherAdminAsync(users, userId);
        Check(await users.SetLockoutEnabledAsync(user, true), "account");
        Check(await users.SetLockoutEndDateAsync(user, locked ? DateTimeOffset.MaxValue : null), "account");
        if (!locked) Check(await users.ResetAccessFailedCountAsync(user), "account");
        Check(await users.UpdateSecurityStampAsync(user), "account");
    }

    public async Task DeleteAsync(string userId, CancellationToken ct = default)
    {
        using var scope = scopes.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<StudioUser>>();
        var user = await users.FindByIdAsync(userId) ?? throw StudioProblemException.NotFound($"No account {userId}.");
        if (await users.IsInRoleAsync(user, StudioRoles.Admin)) await EnsureAnotherAdminAsync(users, userId);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            // A campaign whose only owner leaves would have nobody to manage it.
            var orphaned = await db.CampaignMembers.Where(m => m.UserId == userId && m.Role == CampaignRole.Owner
                    && !db.CampaignMembers.Any(o => o.CampaignId == m.CampaignId && o.UserId != userId && o.Role == CampaignRole.Owner))
                .Select(m => m.CampaignId).ToListAsync(ct);
            if (orphaned.Count > 0)
                throw StudioProblemException.Conflict($"{user.Email} is the only owner of {orphaned.Count} campaign(s); make someone else owner of them first.");
        }
        Check(await users.DeleteAsync(user), "account");
    }

    private static async Task EnsureAnotherAdminAsync(UserManager<StudioUser> users, string leaving)
    {
        var admins = await users.GetUsersInRoleAsync(StudioRoles.Admin);
        if (!admins.Any(a => a.Id != leaving && (a.LockoutEnd is null || a.LockoutEnd <= DateTimeOffset.UtcNow)))
            throw StudioProblemException.Conflict("The studio keeps at least one admin who can sign in: make another account admin first.");
    }

    private static void Check(IdentityResult result, string what)
    {
        if (!result.Succeeded)
            throw StudioProblemException.Invalid($"The {what} could not be saved: {string.Join(" ", result.Errors.Select(e => e.Description))}");
    }
}
