using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data.Access;
using PreferenceStudio.Environments;

namespace PreferenceStudio.Core.Data;

/// <summary>
/// The studio's PostgreSQL database. Tables and columns are snake_case so the schema reads naturally in psql;
/// enums are stored as their names; arrays are jsonb; times are timestamptz and must be written in UTC. ASP.NET Core
/// Identity's accounts and roles live here too (tables users, roles, user_roles, ...).
/// </summary>
public class StudioDbContext(DbContextOptions<StudioDbContext> options) : IdentityDbContext<StudioUser, IdentityRole, string>(options),
    Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.IDataProtectionKeyContext
{
    /// <summary>
    /// ASP.NET Core Data Protection keys (they protect sign-in and rater cookies), shared by every node of the studio,
    /// so a cookie issued by one web node is read by any other.
    /// </summary>
    public DbSet<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey> DataProtectionKeys => Set<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey>();

    /// <summary>
    /// Queries of this context stream their rows instead of being retried on a transient error (which needs the whole
    /// result buffered first; see <see cref="StudioExecutionStrategy.RetriesOnFailure"/>). For exports of large campaigns.
    /// </summary>
    public bool StreamingReads { get; set; }

    /// <summary>Assembly holding the migrations; the host must reference it for <c>Migrate</c> to find them.</summary>
    public const string MigrationsAssemblyName = "PreferenceStudio.Migrations";

    public DbSet<Campaign> Campaigns => Set<Campaign>();
    public DbSet<Round> Rounds => Set<Round>();
    public DbSet<Policy> Policies => Set<Policy>();
    public DbSet<Rollout> Rollouts => Set<Rollout>();
    public DbSet<SegmentRecord> Segments => Set<SegmentRecord>();
    public DbSet<Clip> Clips => Set<Clip>();
    public DbSet<Comparison> Comparisons => Set<Comparison>();
    public DbSet<Rater> Raters => Set<Rater>();
    public DbSet<Assignment> Assignments => Set<Assignment>();
    public DbSet<Label> Labels => Set<Label>();
    public DbSet<RewardModelRun> RewardModelRuns => Set<RewardModelRun>();
    public DbSet<Job> Jobs => Set<Job>();
    public DbSet<FactorRanking> FactorRankings => Set<FactorRanking>();
    public DbSet<CampaignMember> CampaignMembers => Set<CampaignMember>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<SetupToken> SetupTokens => Set<SetupToken>();
    public DbSet<CampaignRater> CampaignRaters => Set<CampaignRater>();
    public DbSet<RaterInvite> RaterInvites => Set<RaterInvite>();
    public DbSet<RaterErasure> RaterErasures => Set<RaterErasure>();

    /// <summary>
    /// The one place Web, CLI and tests configure the provider, so all of them find the migrations.
    /// </summary>
    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder builder, string connectionString) =>
        builder.UseNpgsql(connectionString, o => o.MigrationsAssembly(MigrationsAssemblyName)
            .ExecutionStrategy(d => new StudioExecutionStrategy(d)));

    /// <summary>A context on <paramref name="connectionString"/> configured by <see cref="Configure"/>.</summary>
    public static StudioDbContext Create(string connectionString)
    {
        var builder = new DbContextOptionsBuilder<StudioDbContext>();
        Configure(builder, connectionString);
        return new StudioDbContext(builder.Options);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<CampaignStatus>().HaveConversion<string>().HaveMaxLength(32);
        configurationBuilder.Properties<RoundStatus>().HaveConversion<string>().HaveMaxLength(32);
        configurationBuilder.Properties<ClipStatus>().HaveConversion<string>().HaveMaxLength(32);
        configurationBuilder.Properties<RunStatus>().HaveConversion<string>().HaveMaxLength(32);
        configurationBuilder.Properties<JobKind>().HaveConversion<string>().HaveMaxLength(32);
        configurationBuilder.Properties<JobStatus>().HaveConversion<string>().HaveMaxLength(32);
        configurationBuilder.Properties<PreferenceChoice>().HaveConversion<string>().HaveMaxLength(32);
        configurationBuilder.Properties<CampaignRole>().HaveConversion<string>().HaveMaxLength(16);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(StudioDbContext).Assembly);
        modelBuilder.Entity<Microsoft.AspNetCore.DataProtection.EntityFrameworkCore.DataProtectionKey>().ToTable("data_protection_keys");
        SnakeCaseNames.Apply(modelBuilder);
    }
}
