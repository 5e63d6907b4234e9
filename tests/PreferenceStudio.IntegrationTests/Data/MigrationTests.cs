using Microsoft.EntityFrameworkCore;
using Npgsql;
using PreferenceStudio.Core.Data;
using PreferenceStudio.IntegrationTests.Infrastructure;
using PreferenceStudio.Migrations;

namespace PreferenceStudio.IntegrationTests.Data;

public sealed class MigrationTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task Migrations_create_every_table_and_match_the_model()
    {
        var cs = await postgres.CreateDatabaseAsync("migrations");
        await using var db = StudioDbContext.Create(cs);

        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.Contains(await db.Database.GetAppliedMigrationsAsync(), m => m.EndsWith("_Initial"));
        // A model change without a migration would make this true (and Migrate would throw in EF 9+).
        Assert.False(db.Database.HasPendingModelChanges());

        var tables = await db.Database
            .SqlQuery<string>($"SELECT table_name AS \"Value\" FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")
            .ToListAsync();
        Assert.Equal(
            ["__EFMigrationsHistory", "api_tokens", "assignments", "campaign_members", "campaign_raters", "campaigns", "clips", "comparisons",
             "factor_rankings", "jobs", "labels", "policies", "rater_erasures", "rater_invites", "raters", "reward_model_runs", "role_claims",
             "roles", "rollouts", "rounds", "segments", "setup_tokens", "user_claims", "user_logins", "user_roles", "user_tokens", "users"],
            tables.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Migrating_an_up_to_date_database_applies_nothing()
    {
        var cs = await postgres.CreateDatabaseAsync("migrate_twice");
        Assert.Empty(await StudioDatabase.MigrateAsync(cs));
    }

    [Fact]
    public async Task Migrate_creates_a_missing_database()
    {
        var cs = await postgres.CreateDatabaseAsync("migrate_create");
        var fresh = new NpgsqlConnectionStringBuilder(cs) { Database = new NpgsqlConnectionStringBuilder(cs).Database + "_new" }.ConnectionString;
        try
        {
            var applied = await StudioDatabase.MigrateAsync(fresh);
            Assert.Equal(StudioDatabase.AllMigrations(), applied);
            await using var db = StudioDbContext.Create(fresh);
            Assert.Equal(0, await db.Campaigns.CountAsync());
        }
        finally
        {
            await using var db = StudioDbContext.Create(fresh);
            await db.Database.EnsureDeletedAsync();
        }
    }

    [Fact]
    public void Idempotent_script_guards_each_migration()
    {
        var script = StudioDatabase.GenerateIdempotentScript();
        Assert.Contains("CREATE TABLE campaigns", script);
        Assert.Contains("IF NOT EXISTS", script);
    }
}
