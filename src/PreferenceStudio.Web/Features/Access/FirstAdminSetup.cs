using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Access;

/// <summary>
/// First start: while the studio has no admin, a one-time set-up link (a random token, only its hash stored) lets the
/// first admin choose a password. The token is valid until it is used; a later start that still finds no admin
/// makes a new one and the older link stops working. Once an admin exists, every set-up link is refused.
/// </summary>
public sealed class FirstAdminSetup(IDbContextFactory<StudioDbContext> dbFactory, UserAccounts accounts, IServiceScopeFactory scopes)
{
    public const string Path = "/setup";

    /// <summary>A fresh set-up token when there is no admin yet; null otherwise.</summary>
    public async Task<string?> NewTokenIfNoAdminAsync(CancellationToken ct = default)
    {
        if (await accounts.AnyAdminAsync(ct)) return null;
        var token = SecretTokens.New(SecretTokens.SetupPrefix);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        await db.SetupTokens.Where(t => t.UsedAt == null).ExecuteDeleteAsync(ct);
        db.SetupTokens.Add(new SetupToken { TokenHash = SecretTokens.Hash(token) });
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return token;
    }

    /// <summary>Whether <paramref name="token"/> is the current, unused set-up token and no admin exists yet.</summary>
    public async Task<bool> IsValidAsync(string? token, CancellationToken ct = default)
    {
        if (!SecretTokens.LooksLike(token, SecretTokens.SetupPrefix) || await accounts.AnyAdminAsync(ct)) return false;
        var hash = SecretTokens.Hash(token!);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.SetupTokens.AnyAsync(t => t.TokenHash == hash && t.UsedAt == null, ct);
    }

    /// <summary>
    /// Creates the first admin with the chosen password and uses up the token. The password is checked before the
    /// token is taken, so a refused password leaves the link usable.
    /// </summary>
    public async Task<UserView> CompleteAsync(string? token, string email, string password, CancellationToken ct = default)
    {
        if (!await IsValidAsync(token, ct))
            throw StudioProblemException.Forbidden("This set-up link is not valid: it was used already, replaced by a newer one (see the studio's console), or an admin exists. Sign in instead.");
        using (var scope = scopes.CreateScope())
        {
            var users = scope.ServiceProvider.GetRequiredService<UserManager<StudioUser>>();
            var errors = await UserAccounts.PasswordErrorsAsync(users, new StudioUser { UserName = email, Email = email }, password);
            if (errors.Length > 0) throw new StudioValidationException(new() { ["password"] = errors }, "The password is not usable");
        }
        var hash = SecretTokens.Hash(token!);
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        // Taking the token is atomic: of two submissions racing with the same link, one creates the admin.
        if (await db.SetupTokens.Where(t => t.TokenHash == hash && t.UsedAt == null)
                .ExecuteUpdateAsync(u => u.SetProperty(t => t.UsedAt, DateTimeOffset.UtcNow), ct) != 1)
            throw StudioProblemException.Forbidden("This set-up link was just used. Sign in instead.");
        try
        {
            return await accounts.CreateAsync(email, password, StudioRoles.Admin, ct);
        }
        catch
        {
            await db.SetupTokens.Where(t => t.TokenHash == hash).ExecuteUpdateAsync(u => u.SetProperty(t => t.UsedAt, (DateTimeOffset?)null), ct);
            throw;
        }
    }
}
