using Microsoft.EntityFrameworkCore;
using Npgsql;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Data;

public sealed class LabelTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task A_label_with_a_duplicate_idempotency_key_is_rejected()
    {
        var cs = await postgres.CreateDatabaseAsync("labels_idem");
        Guid campaignId, comparisonId;
        await using (var db = StudioDbContext.Create(cs))
        {
            var (campaign, comparison) = await TestData.AddCampaignWithComparisonAsync(db);
            (campaignId, comparisonId) = (campaign.Id, comparison.Id);
            db.Labels.Add(new Label { CampaignId = campaignId, ComparisonId = comparisonId, Choice = PreferenceChoice.Right, IdempotencyKey = "k-1" });
            await db.SaveChangesAsync();
        }

        // A second context, as a retried HTTP request would have.
        await using (var db = StudioDbContext.Create(cs))
        {
            db.Labels.Add(new Label { CampaignId = campaignId, ComparisonId = comparisonId, Choice = PreferenceChoice.Left, IdempotencyKey = "k-1" });
            var error = await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
            var pg = Assert.IsType<PostgresException>(error.InnerException);
            Assert.Equal(PostgresErrorCodes.UniqueViolation, pg.SqlState);
            Assert.Equal("IX_labels_idempotency_key", pg.ConstraintName);
        }

        await using (var db = StudioDbContext.Create(cs))
        {
            var label = await db.Labels.SingleAsync();
            Assert.Equal(PreferenceChoice.Right, label.Choice);
            // Enums are stored by name, so the data stays readable and survives reordering the enum.
            var stored = await db.Database.SqlQuery<string>($"SELECT choice AS \"Value\" FROM labels").SingleAsync();
            Assert.Equal("Right", stored);
        }
    }

    [Fact]
    public async Task A_rater_is_assigned_a_pair_at_most_once()
    {
        var cs = await postgres.CreateDatabaseAsync("labels_assign");
        await using var db = StudioDbContext.Create(cs);
        var (_, comparison) = await TestData.AddCampaignWithComparisonAsync(db);
        db.Raters.Add(new Rater { Id = "r-abc123" });
        db.Assignments.Add(new Assignment { ComparisonId = comparison.Id, RaterId = "r-abc123" });
        await db.SaveChangesAsync();

        db.ChangeTracker.Clear();
        db.Assignments.Add(new Assignment { ComparisonId = comparison.Id, RaterId = "r-abc123" });
        var error = await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        Assert.Equal(PostgresErrorCodes.UniqueViolation, Assert.IsType<PostgresException>(error.InnerException).SqlState);
    }

    [Fact]
    public async Task Deleting_a_campaign_deletes_everything_it_owns()
    {
        var cs = await postgres.CreateDatabaseAsync("labels_cascade");
        await using var db = StudioDbContext.Create(cs);
        var (campaign, comparison) = await TestData.AddCampaignWithComparisonAsync(db);
        var round = new Round { CampaignId = campaign.Id, Index = 0 };
        db.Raters.Add(new Rater { Id = "r-keep01" });
        db.AddRange(round,
            new Label { CampaignId = campaign.Id, ComparisonId = comparison.Id, RaterId = "r-keep01", Choice = PreferenceChoice.Equal, IdempotencyKey = "c-1" },
            new Job { CampaignId = campaign.Id, Kind = JobKind.PrepareRound, RoundIndex = 0 },
            new RewardModelRun { CampaignId = campaign.Id, RoundIndex = 0 });
        await db.SaveChangesAsync();

        // Deleted in SQL, not through the change tracker, so the database's ON DELETE rules are what is tested.
        Assert.Equal(1, await db.Campaigns.Where(c => c.Id == campaign.Id).ExecuteDeleteAsync());

        Assert.Equal(0, await db.Rounds.CountAsync());
        Assert.Equal(0, await db.Segments.CountAsync());
        Assert.Equal(0, await db.Comparisons.CountAsync());
        Assert.Equal(0, await db.Labels.CountAsync());
        Assert.Equal(0, await db.Jobs.CountAsync());
        Assert.Equal(0, await db.RewardModelRuns.CountAsync());
        Assert.Equal(1, await db.Raters.CountAsync()); // raters are not owned by a campaign
    }

    [Fact]
    public async Task Join_codes_are_unique()
    {
        var cs = await postgres.CreateDatabaseAsync("labels_join");
        await using var db = StudioDbContext.Create(cs);
        db.Campaigns.AddRange(new Campaign { Name = "a", JoinCode = "same" }, new Campaign { Name = "b", JoinCode = "same" });
        var error = await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        Assert.Equal("IX_campaigns_join_code", Assert.IsType<PostgresException>(error.InnerException).ConstraintName);
    }
}
