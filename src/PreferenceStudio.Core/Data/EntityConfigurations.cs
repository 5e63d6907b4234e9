using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace PreferenceStudio.Core.Data;

// Everything a campaign owns is deleted with it (ON DELETE CASCADE). Optional links to rounds, policies and
// clips are set to NULL instead, so deleting one of those never takes labels with it.

internal sealed class CampaignConfiguration : IEntityTypeConfiguration<Campaign>
{
    public void Configure(EntityTypeBuilder<Campaign> b)
    {
        b.ToTable("campaigns");
        b.Property(x => x.Name).HasMaxLength(200);
        b.Property(x => x.Environment).HasMaxLength(100);
        b.Property(x => x.Board).HasMaxLength(100);
        b.Property(x => x.RewardModel).HasMaxLength(50);
        b.Property(x => x.QueryStrategy).HasMaxLength(50);
        b.Property(x => x.LabelSource).HasMaxLength(20);
        b.Property(x => x.Instructions).HasMaxLength(20_000);
        b.Property(x => x.Consent).HasMaxLength(20_000);
        b.Property(x => x.CompletionCode).HasMaxLength(100);
        b.Property(x => x.RaterWeighting).HasMaxLength(32).HasDefaultValue("none");
        b.Property(x => x.CompletionUrl).HasMaxLength(2000);
        b.Property(x => x.EnvironmentParameters).IsJsonb();
        b.Property(x => x.JoinCode).HasMaxLength(32);
        b.HasIndex(x => x.JoinCode).IsUnique();
        b.HasIndex(x => x.CreatedAt);
        b.HasMany(x => x.Rounds).WithOne(r => r.Campaign).HasForeignKey(r => r.CampaignId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RoundConfiguration : IEntityTypeConfiguration<Round>
{
    public void Configure(EntityTypeBuilder<Round> b)
    {
        b.ToTable("rounds");
        b.HasIndex(x => new { x.CampaignId, x.Index }).IsUnique();
        b.HasOne(x => x.Policy).WithMany().HasForeignKey(x => x.PolicyId).OnDelete(DeleteBehavior.SetNull);
    }
}

internal sealed class PolicyConfiguration : IEntityTypeConfiguration<Policy>
{
    public void Configure(EntityTypeBuilder<Policy> b)
    {
        b.ToTable("policies");
        b.Property(x => x.Kind).HasMaxLength(50);
        b.Property(x => x.RaterId).HasMaxLength(64);
        b.HasOne<Campaign>().WithMany().HasForeignKey(x => x.CampaignId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.RewardModelRun).WithMany().HasForeignKey(x => x.RewardModelRunId).OnDelete(DeleteBehavior.SetNull);
        b.HasIndex(x => new { x.CampaignId, x.RoundIndex });
    }
}

internal sealed class RolloutConfiguration : IEntityTypeConfiguration<Rollout>
{
    public void Configure(EntityTypeBuilder<Rollout> b)
    {
        b.ToTable("rollouts");
        b.Property(x => x.States).IsJsonb();
        b.Property(x => x.Actions).IsJsonb();
        b.HasOne<Campaign>().WithMany().HasForeignKey(x => x.CampaignId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Round>().WithMany().HasForeignKey(x => x.RoundId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Policy>().WithMany().HasForeignKey(x => x.PolicyId).OnDelete(DeleteBehavior.SetNull);
        b.HasIndex(x => new { x.RoundId, x.EpisodeIndex });
    }
}

internal sealed class SegmentRecordConfiguration : IEntityTypeConfiguration<SegmentRecord>
{
    public void Configure(EntityTypeBuilder<SegmentRecord> b)
    {
        b.ToTable("segments");
        b.Property(x => x.States).IsJsonb();
        b.Property(x => x.Actions).IsJsonb();
        b.Property(x => x.Features).IsJsonb();
        b.Property(x => x.ContentHash).HasMaxLength(64);
        b.HasOne<Campaign>().WithMany().HasForeignKey(x => x.CampaignId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Round>().WithMany().HasForeignKey(x => x.RoundId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne<Rollout>().WithMany().HasForeignKey(x => x.RolloutId).OnDelete(DeleteBehavior.SetNull);
        b.HasIndex(x => new { x.CampaignId, x.ContentHash });
        b.HasIndex(x => x.RoundId);
    }
}

internal sealed class ClipConfiguration : IEntityTypeConfiguration<Clip>
{
    public void Configure(EntityTypeBuilder<Clip> b)
    {
        b.ToTable("clips");
        b.Property(x => x.FileName).HasMaxLength(400);
        b.Property(x => x.PosterFileName).HasMaxLength(400);
        b.Property(x => x.Sha256).HasMaxLength(64);
        b.HasOne(x => x.Segment).WithMany(s => s.Clips).HasForeignKey(x => x.SegmentId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Round>().WithMany().HasForeignKey(x => x.RoundId).OnDelete(DeleteBehavior.SetNull);
        b.HasIndex(x => x.Status);
    }
}

internal sealed class ComparisonConfiguration : IEntityTypeConfiguration<Comparison>
{
    public void Configure(EntityTypeBuilder<Comparison> b)
    {
        b.ToTable("comparisons");
        b.Property(x => x.ForRaterId).HasMaxLength(64);
        b.Property(x => x.GoldSource).HasMaxLength(32);
        b.Property(x => x.ExternalId).HasMaxLength(200);
        b.Property(x => x.Group).HasMaxLength(200);
        b.HasOne<Campaign>().WithMany().HasForeignKey(x => x.CampaignId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Round>().WithMany().HasForeignKey(x => x.RoundId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne<Policy>().WithMany().HasForeignKey(x => x.PolicyId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne(x => x.LeftSegment).WithMany().HasForeignKey(x => x.LeftSegmentId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.RightSegment).WithMany().HasForeignKey(x => x.RightSegmentId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.LeftClip).WithMany().HasForeignKey(x => x.LeftClipId).OnDelete(DeleteBehavior.SetNull);
        b.HasOne(x => x.RightClip).WithMany().HasForeignKey(x => x.RightClipId).OnDelete(DeleteBehavior.SetNull);
        b.HasMany(x => x.Labels).WithOne(l => l.Comparison).HasForeignKey(l => l.ComparisonId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => new { x.CampaignId, x.ExternalId }).IsUnique().HasFilter("external_id IS NOT NULL");
        b.HasIndex(x => new { x.CampaignId, x.RoundIndex, x.Ordinal });
        b.HasIndex(x => x.RoundId);
        // Serving reads shared pairs of a round least-labelled first, then least-served, in order (RatingService.NextAsync).
        b.HasIndex(x => new { x.RoundId, x.LabelCount, x.ServeCount, x.Ordinal }, "ix_comparisons_serving")
            .HasFilter("gold IS NULL AND for_rater_id IS NULL");
        b.HasIndex(x => new { x.RoundId, x.ForRaterId }, "ix_comparisons_own").HasFilter("for_rater_id IS NOT NULL");
        b.HasIndex(x => x.RoundId, "ix_comparisons_gold").HasFilter("gold IS NOT NULL");
        // Kept by triggers (see the ServingCounters migration), never written by EF.
        b.Property(x => x.LabelCount).HasDefaultValue(0).ValueGeneratedOnAdd().Metadata.SetAfterSaveBehavior(Microsoft.EntityFrameworkCore.Metadata.PropertySaveBehavior.Ignore);
        b.Property(x => x.ServeCount).HasDefaultValue(0).ValueGeneratedOnAdd().Metadata.SetAfterSaveBehavior(Microsoft.EntityFrameworkCore.Metadata.PropertySaveBehavior.Ignore);
    }
}

internal sealed class RaterConfiguration : IEntityTypeConfiguration<Rater>
{
    public void Configure(EntityTypeBuilder<Rater> b)
    {
        b.ToTable("raters");
        b.Property(x => x.Id).HasMaxLength(64);
        b.Property(x => x.Kind).HasMaxLength(32);
    }
}

internal sealed class AssignmentConfiguration : IEntityTypeConfiguration<Assignment>
{
    public void Configure(EntityTypeBuilder<Assignment> b)
    {
        b.ToTable("assignments");
        b.Property(x => x.RaterId).HasMaxLength(64);
        b.HasOne(x => x.Comparison).WithMany().HasForeignKey(x => x.ComparisonId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.Rater).WithMany().HasForeignKey(x => x.RaterId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => new { x.ComparisonId, x.RaterId }).IsUnique();
        b.HasIndex(x => x.RaterId);
    }
}

internal sealed class LabelConfiguration : IEntityTypeConfiguration<Label>
{
    public void Configure(EntityTypeBuilder<Label> b)
    {
        b.ToTable("labels");
        b.Property(x => x.RaterId).HasMaxLength(64);
        b.Property(x => x.IdempotencyKey).HasMaxLength(200);
        b.Property(x => x.Source).HasMaxLength(32);
        b.HasOne<Campaign>().WithMany().HasForeignKey(x => x.CampaignId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Rater>().WithMany().HasForeignKey(x => x.RaterId).OnDelete(DeleteBehavior.SetNull);
        b.HasIndex(x => x.IdempotencyKey).IsUnique();
        b.HasIndex(x => new { x.CampaignId, x.CreatedAt });
        b.HasIndex(x => x.ComparisonId);
        b.HasIndex(x => x.RaterId);
        // One answer in force per rater and pair, whatever idempotency key a client sends (withdrawn ones are kept apart).
        b.HasIndex(x => new { x.ComparisonId, x.RaterId }).IsUnique().HasFilter("rater_id IS NOT NULL AND withdrawn_at IS NULL");
        // Withdrawn answers count nowhere; the few places that must see them (erasure) ask with IgnoreQueryFilters.
        b.HasQueryFilter(x => x.WithdrawnAt == null);
    }
}

internal sealed class RewardModelRunConfiguration : IEntityTypeConfiguration<RewardModelRun>
{
    public void Configure(EntityTypeBuilder<RewardModelRun> b)
    {
        b.ToTable("reward_model_runs");
        b.Property(x => x.ModelType).HasMaxLength(50);
        b.Property(x => x.Metrics).HasColumnType("jsonb");
        b.HasOne<Campaign>().WithMany().HasForeignKey(x => x.CampaignId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => new { x.CampaignId, x.RoundIndex });
    }
}

internal sealed class JobConfiguration : IEntityTypeConfiguration<Job>
{
    public void Configure(EntityTypeBuilder<Job> b)
    {
        b.ToTable("jobs");
        b.Property(x => x.LeaseOwner).HasMaxLength(200);
        b.HasOne<Campaign>().WithMany().HasForeignKey(x => x.CampaignId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => new { x.CampaignId, x.Kind, x.RoundIndex }).IsUnique();
        b.HasIndex(x => new { x.Status, x.CreatedAt });
    }
}

internal sealed class FactorRankingConfiguration : IEntityTypeConfiguration<FactorRanking>
{
    public void Configure(EntityTypeBuilder<FactorRanking> b)
    {
        b.ToTable("factor_rankings");
        b.Property(x => x.RaterId).HasMaxLength(64);
        b.Property(x => x.Source).HasMaxLength(20);
        b.HasOne<Campaign>().WithMany().HasForeignKey(x => x.CampaignId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne<Rater>().WithMany().HasForeignKey(x => x.RaterId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => new { x.CampaignId, x.RaterId, x.CreatedAt }).IsUnique();
    }
}
