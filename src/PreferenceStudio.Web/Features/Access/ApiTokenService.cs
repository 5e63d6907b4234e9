using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Web.Features.Access;

/// <summary>A token as listed to its owner: never the secret, which is shown once when it is made.</summary>
public sealed record ApiTokenView(
    [property: JsonPropertyName("id")] Guid Id,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("prefix")] string Prefix,
    [property: JsonPropertyName("scopes")] IReadOnlyList<string> Scopes,
    [property: JsonPropertyName("created_at")] DateTimeOffset CreatedAt,
    [property: JsonPropertyName("expires_at")] DateTimeOffset ExpiresAt,
    [property: JsonPropertyName("revoked_at")] DateTimeOffset? RevokedAt,
    [property: JsonPropertyName("last_used_at")] DateTimeOffset? LastUsedAt)
{
    public bool Active(DateTimeOffset now) => RevokedAt is null && ExpiresAt > now;
}

/// <summary>A token just made: <see cref="Secret"/> is the only copy there will ever be.</summary>
public sealed record CreatedApiToken(ApiTokenView Token, string Secret);

/// <summary>Researchers' API tokens: made with scopes and an expiry, stored hashed, listed, revoked.</summary>
public sealed class ApiTokenService(IDbContextFactory<StudioDbContext> dbFactory)
{
    public const int MaxLifetimeDays = 366;

    /// <summary>Makes a token for <paramref name="userId"/>; refuses a missing name, unknown scopes or an expiry outside 1 to 366 days.</summary>
    public async Task<CreatedApiToken> CreateAsync(string userId, string name, IEnumerable<string> scopes, int expiresInDays, CancellationToken ct = default)
    {
        var errors = new Dictionary<string, string[]>();
        name = (name ?? "").Trim();
        if (name.Length is 0 or > 100) errors["name"] = ["Give the token a name of 1 to 100 characters, so you can tell it apart later."];
        var wanted = (scopes ?? []).Select(s => s.Trim()).Where(s => s.Length > 0).Distinct().ToArray();
        var unknown = wanted.Where(s => !ApiScopes.All.Contains(s)).ToList();
        if (wanted.Length == 0) errors["scopes"] = [$"Choose at least one scope: {string.Join(", ", ApiScopes.All)}."];
        else if (unknown.Count > 0) errors["scopes"] = [$"Unknown scope(s) {string.Join(", ", unknown)}; the scopes are {string.Join(", ", ApiScopes.All)}."];
        if (expiresInDays is < 1 or > MaxLifetimeDays) errors["expires_in_days"] = [$"A token lives 1 to {MaxLifetimeDays} days."];
        if (errors.Count > 0) throw new StudioValidationException(errors, "The token settings are not usable");

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (!await db.Users.AnyAsync(u => u.Id == userId, ct)) throw StudioProblemException.NotFound($"No account {userId}.");
        var secret = SecretTokens.New(SecretTokens.ApiPrefix);
        var token = new ApiToken
        {
            UserId = userId, Name = name, Prefix = secret[..(SecretTokens.ApiPrefix.Length + 6)], TokenHash = SecretTokens.Hash(secret),
            Scopes = ApiScopes.All.Where(wanted.Contains).ToArray(), ExpiresAt = DateTimeOffset.UtcNow.AddDays(expiresInDays),
        };
        db.ApiTokens.Add(token);
        await db.SaveChangesAsync(ct);
        return new CreatedApiToken(ToView(token), secret);
    }

    public async Task<IReadOnlyList<ApiTokenView>> ListAsync(string userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.ApiTokens.AsNoTracking().Where(t => t.UserId == userId).OrderByDescending(t => t.CreatedAt).ToListAsync(ct);
        return rows.Select(ToView).ToList();
    }

    /// <summary>Revokes one of the user's tokens (idempotent); false when the user has no such token.</summary>
    public async Task<bool> RevokeAsync(string userId, Guid tokenId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var token = await db.ApiTokens.FirstOrDefaultAsync(t => t.Id == tokenId && t.UserId == userId, ct);
        if (token is null) return false;
        token.RevokedAt ??= DateTimeOffset.UtcNow;
        await db.SaveChangesAsync(ct);
        return true;
    }

    private static ApiTokenView ToView(ApiToken t) => new(t.Id, t.Name, t.Prefix, t.Scopes, t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.LastUsedAt);
}
