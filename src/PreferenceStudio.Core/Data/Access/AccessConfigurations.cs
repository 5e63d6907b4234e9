using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace PreferenceStudio.Core.Data.Access;

// Identity's own tables get short snake_case names like the rest of the schema (users, not AspNetUsers).

internal sealed class StudioUserConfiguration : IEntityTypeConfiguration<StudioUser>
{
    public void Configure(EntityTypeBuilder<StudioUser> b) => b.ToTable("users");
}

internal sealed class RoleConfiguration : IEntityTypeConfiguration<IdentityRole>
{
    public void Configure(EntityTypeBuilder<IdentityRole> b) => b.ToTable("roles");
}

internal sealed class UserRoleConfiguration : IEntityTypeConfiguration<IdentityUserRole<string>>
{
    public void Configure(EntityTypeBuilder<IdentityUserRole<string>> b) => b.ToTable("user_roles");
}

internal sealed class UserClaimConfiguration : IEntityTypeConfiguration<IdentityUserClaim<string>>
{
    public void Configure(EntityTypeBuilder<IdentityUserClaim<string>> b) => b.ToTable("user_claims");
}

internal sealed class UserLoginConfiguration : IEntityTypeConfiguration<IdentityUserLogin<string>>
{
    public void Configure(EntityTypeBuilder<IdentityUserLogin<string>> b) => b.ToTable("user_logins");
}

internal sealed class UserTokenConfiguration : IEntityTypeConfiguration<IdentityUserToken<string>>
{
    public void Configure(EntityTypeBuilder<IdentityUserToken<string>> b) => b.ToTable("user_tokens");
}

internal sealed class RoleClaimConfiguration : IEntityTypeConfiguration<IdentityRoleClaim<string>>
{
    public void Configure(EntityTypeBuilder<IdentityRoleClaim<string>> b) => b.ToTable("role_claims");
}

internal sealed class CampaignMemberConfiguration : IEntityTypeConfiguration<CampaignMember>
{
    public void Configure(EntityTypeBuilder<CampaignMember> b)
    {
        b.ToTable("campaign_members");
        b.HasKey(x => new { x.CampaignId, x.UserId });
        b.HasOne<Campaign>().WithMany().HasForeignKey(x => x.CampaignId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.User).WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => x.UserId);
    }
}

internal sealed class ApiTokenConfiguration : IEntityTypeConfiguration<ApiToken>
{
    public void Configure(EntityTypeBuilder<ApiToken> b)
    {
        b.ToTable("api_tokens");
        b.Property(x => x.Name).HasMaxLength(100);
        b.Property(x => x.Prefix).HasMaxLength(16);
        b.Property(x => x.TokenHash).HasMaxLength(64);
        b.Property(x => x.Scopes).IsJsonb();
        b.HasOne(x => x.User).WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => x.TokenHash).IsUnique();
        b.HasIndex(x => x.UserId);
    }
}

internal sealed class SetupTokenConfiguration : IEntityTypeConfiguration<SetupToken>
{
    public void Configure(EntityTypeBuilder<SetupToken> b)
    {
        b.ToTable("setup_tokens");
        b.Property(x => x.TokenHash).HasMaxLength(64);
        b.HasIndex(x => x.TokenHash).IsUnique();
    }
}

internal sealed class CampaignRaterConfiguration : IEntityTypeConfiguration<CampaignRater>
{
    public void Configure(EntityTypeBuilder<CampaignRater> b)
    {
        b.ToTable("campaign_raters");
        b.HasKey(x => new { x.CampaignId, x.RaterId });
        b.Property(x => x.RaterId).HasMaxLength(64);
        b.Property(x => x.Pseudonym).HasMaxLength(64);
        b.Property(x => x.Kind).HasMaxLength(32);
        b.Property(x => x.TokenHash).HasMaxLength(64);
        b.Property(x => x.ParticipantPlatform).HasMaxLength(20);
        b.Property(x => x.ParticipantId).HasMaxLength(200);
        b.Property(x => x.ParticipantStudy).HasMaxLength(200);
        b.Property(x => x.ParticipantSession).HasMaxLength(200);
        b.HasOne<Campaign>().WithMany().HasForeignKey(x => x.CampaignId).OnDelete(DeleteBehavior.Cascade);
        b.HasOne(x => x.Rater).WithMany().HasForeignKey(x => x.RaterId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => new { x.CampaignId, x.Pseudonym }).IsUnique();
        // A platform's participant is one rater per campaign: a return visit finds them.
        b.HasIndex(x => new { x.CampaignId, x.ParticipantPlatform, x.ParticipantId }).IsUnique().HasFilter("participant_id IS NOT NULL");
        b.HasIndex(x => x.TokenHash).IsUnique().HasFilter("token_hash IS NOT NULL");
        b.HasIndex(x => x.RaterId);
    }
}

internal sealed class RaterInviteConfiguration : IEntityTypeConfiguration<RaterInvite>
{
    public void Configure(EntityTypeBuilder<RaterInvite> b)
    {
        b.ToTable("rater_invites");
        b.Property(x => x.TokenHash).HasMaxLength(64);
        b.Property(x => x.CreatedBy).HasMaxLength(256);
        b.Property(x => x.RaterId).HasMaxLength(64);
        b.HasOne<Campaign>().WithMany().HasForeignKey(x => x.CampaignId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => x.TokenHash).IsUnique();
        b.HasIndex(x => x.CampaignId);
    }
}

internal sealed class RaterErasureConfiguration : IEntityTypeConfiguration<RaterErasure>
{
    public void Configure(EntityTypeBuilder<RaterErasure> b)
    {
        b.ToTable("rater_erasures");
        b.Property(x => x.Pseudonym).HasMaxLength(64);
        b.Property(x => x.ErasedBy).HasMaxLength(256);
        b.HasOne<Campaign>().WithMany().HasForeignKey(x => x.CampaignId).OnDelete(DeleteBehavior.Cascade);
        b.HasIndex(x => x.CampaignId);
    }
}
