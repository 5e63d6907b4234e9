using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Logging;
using PreferenceStudio.Core.Data;

namespace PreferenceStudio.Migrations;

/// <summary>Applies the studio's migrations; used at web start-up in Development, by <c>studio migrate</c> and by tests.</summary>
public static class StudioDatabase
{
    /// <summary>
    /// Creates the database if it does not exist and applies every pending migration. EF Core takes a
    /// database lock while migrating, so concurrent callers are safe.
    /// </summary>
    /// <returns>The migrations this call applied, oldest first (empty when the schema was up to date).</returns>
    public static async Task<IReadOnlyList<string>> MigrateAsync(string connectionString, ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        await using var db = StudioDbContext.Create(connectionString);
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        if (pending.Count > 0)
            logger?.LogInformation("Applying {Count} migration(s): {Migrations}", pending.Count, string.Join(", ", pending));
        await db.Database.MigrateAsync(cancellationToken);
        return pending;
    }

    /// <summary>Migrations this build has that the database lacks (all of them for a database that does not exist yet).</summary>
    public static async Task<IReadOnlyList<string>> PendingMigrationsAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        await using var db = StudioDbContext.Create(connectionString);
        return (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
    }

    /// <summary>Migrations that exist in this build, oldest first.</summary>
    public static IReadOnlyList<string> AllMigrations()
    {
        using var db = StudioDbContext.Create("Host=localhost");
        return db.Database.GetMigrations().ToList();
    }

    /// <summary>The idempotent SQL script for all migrations, for applying them to a production database by hand.</summary>
    public static string GenerateIdempotentScript()
    {
        using var db = StudioDbContext.Create("Host=localhost");
        return db.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.Idempotent);
    }
}
