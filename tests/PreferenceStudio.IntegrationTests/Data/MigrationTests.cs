using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Npgsql;
using PreferenceStudio.Environments;
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
             "data_protection_keys", "factor_rankings", "jobs", "labels", "policies", "rater_erasures", "rater_invites", "raters", "reward_model_runs", "role_claims",
             "roles", "rollouts", "round_label_counts", "rounds", "segments", "setup_tokens", "user_claims", "user_logins", "user_roles", "user_tokens", "users"],
            tables.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Raters_from_before_per_campaign_identities_keep_their_id_as_pseudonym_in_each_campaign_they_rated()
    {
        var cs = await postgres.CreateDatabaseAsync("migrate_raters");
        await using (var db = StudioDbContext.Create(cs))
        {
            var (first, comparison) = await TestData.AddCampaignWithComparisonAsync(db);
            var (second, other) = await TestData.AddCampaignWithComparisonAsync(db);
            db.Raters.AddRange(new Rater { Id = "r-both", Kind = "human" }, new Rater { Id = "r-ranker", Kind = "imported" }, new Rater { Id = "r-idle" });
            db.Labels.AddRange(
                new Label { CampaignId = first.Id, ComparisonId = comparison.Id, RaterId = "r-both", Choice = PreferenceChoice.Left, IdempotencyKey = "1" },
                new Label { CampaignId = second.Id, ComparisonId = other.Id, RaterId = "r-both", Choice = PreferenceChoice.Right, IdempotencyKey = "2" });
            db.FactorRankings.Add(new FactorRanking { CampaignId = second.Id, RaterId = "r-ranker", Factors = ["goal"], Margins = [0] });
            db.Assignments.Add(new Assignment { ComparisonId = comparison.Id, RaterId = "r-ranker" });
            await db.SaveChangesAsync();
        }
        // Back to the schema before accounts (the rows above stay), then forward again as an upgrade does.
        await using (var db = StudioDbContext.Create(cs))
        {
            var migrations = db.Database.GetMigrations().ToList();
            var migrator = db.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>();
            await migrator.MigrateAsync(migrations[migrations.FindIndex(m => m.EndsWith("_AccountsAndRaterIdentity")) - 1]);
        }
        await StudioDatabase.MigrateAsync(cs);

        await using (var db = StudioDbContext.Create(cs))
        {
            var rows = (await db.CampaignRaters.AsNoTracking().ToListAsync())
                .Select(r => (r.RaterId, r.Pseudonym, r.Kind)).OrderBy(r => r.RaterId).ThenBy(r => r.Kind).ToList();
            Assert.Equal([("r-both", "r-both", "human"), ("r-both", "r-both", "human"), ("r-ranker", "r-ranker", "imported"), ("r-ranker", "r-ranker", "imported")], rows);
            Assert.Equal(2, await db.CampaignRaters.Select(r => r.CampaignId).Distinct().CountAsync());
        }
    }

    [Fact]
    public async Task Serving_and_round_counters_are_filled_from_existing_rows_and_kept_by_the_database()
    {
        var cs = await postgres.CreateDatabaseAsync("migrate_counters");
        Guid comparisonId, roundId, campaignId;
        await using (var db = StudioDbContext.Create(cs))
        {
            var (campaign, comparison) = await TestData.AddCampaignWithComparisonAsync(db);
            var round = new Round { CampaignId = campaign.Id, Index = 0, Status = RoundStatus.Open };
            db.Rounds.Add(round);
            await db.SaveChangesAsync();
            await db.Comparisons.Where(c => c.Id == comparison.Id).ExecuteUpdateAsync(u => u.SetProperty(c => c.RoundId, round.Id).SetProperty(c => c.RoundIndex, 0));
            db.Raters.AddRange(new Rater { Id = "r-a" }, new Rater { Id = "r-b" }, new Rater { Id = "r-c" });
            db.Labels.AddRange(
                new Label { CampaignId = campaign.Id, ComparisonId = comparison.Id, RaterId = "r-a", Choice = PreferenceChoice.Left, IdempotencyKey = "a" },
                new Label { CampaignId = campaign.Id, ComparisonId = comparison.Id, RaterId = "r-b", Choice = PreferenceChoice.Right, IdempotencyKey = "b" },
                new Label { CampaignId = campaign.Id, ComparisonId = comparison.Id, RaterId = "r-c", Choice = PreferenceChoice.Right, IdempotencyKey = "c", WithdrawnAt = DateTimeOffset.UtcNow });
            db.Assignments.AddRange(new Assignment { ComparisonId = comparison.Id, RaterId = "r-a" }, new Assignment { ComparisonId = comparison.Id, RaterId = "r-b" });
            await db.SaveChangesAsync();
            (comparisonId, roundId, campaignId) = (comparison.Id, round.Id, campaign.Id);
        }
        // Back to the schema before the counters (the rows above stay), then forward again as an upgrade does.
        await using (var db = StudioDbContext.Create(cs))
        {
            var migrations = db.Database.GetMigrations().ToList();
            await db.GetService<Microsoft.EntityFrameworkCore.Migrations.IMigrator>()
                .MigrateAsync(migrations[migrations.FindIndex(m => m.EndsWith("_ServingCounters")) - 1]);
        }
        await StudioDatabase.MigrateAsync(cs);

        await using (var db = StudioDbContext.Create(cs))
        {
            async Task<(int Labels, int Servings, int Shared, int All)> Counts()
            {
                var c = await db.Comparisons.AsNoTracking().SingleAsync(x => x.Id == comparisonId);
                var sums = (await db.Database.SqlQuery<int>($"SELECT coalesce(sum(shared), 0)::int AS \"Value\" FROM round_label_counts WHERE round_id = {roundId}").ToListAsync()).Single();
                var all = (await db.Database.SqlQuery<int>($"SELECT coalesce(sum(total), 0)::int AS \"Value\" FROM round_label_counts WHERE round_id = {roundId}").ToListAsync()).Single();
                return (c.LabelCount, c.ServeCount, sums, all);
            }
            // Filled from the rows: the withdrawn answer does not count.
            Assert.Equal((2, 2, 2, 2), await Counts());
            // Kept by the database from now on: an answer, a withdrawal, a deleted serving, a pair made gold.
            db.Labels.Add(new Label { CampaignId = campaignId, ComparisonId = comparisonId, RaterId = "r-c", Choice = PreferenceChoice.Left, IdempotencyKey = "c2" });
            await db.SaveChangesAsync();
            Assert.Equal((3, 2, 3, 3), await Counts());
            await db.Labels.Where(l => l.IdempotencyKey == "a").ExecuteUpdateAsync(u => u.SetProperty(l => l.WithdrawnAt, DateTimeOffset.UtcNow));
            await db.Assignments.Where(a => a.RaterId == "r-b").ExecuteDeleteAsync();
            Assert.Equal((2, 1, 2, 2), await Counts());
            await db.Comparisons.Where(c => c.Id == comparisonId).ExecuteUpdateAsync(u => u.SetProperty(c => c.Gold, PreferenceChoice.Left));
            Assert.Equal((2, 1, 0, 2), await Counts());
        }
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
