using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace PreferenceStudio.Core.Data;

/// <summary>
/// The Data Protection key ring's own view of <c>data_protection_keys</c> (the table <see cref="StudioDbContext"/>
/// creates and migrates). Its own because the key ring is read synchronously while the host starts: through the
/// studio's retrying strategy a database that is down would hold the start for half a minute, where this reads once
/// and lets Data Protection log the failure and read again on the next request.
/// </summary>
public sealed class DataProtectionKeysContext(DbContextOptions<DataProtectionKeysContext> options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public static DbContextOptionsBuilder Configure(DbContextOptionsBuilder builder, string connectionString) =>
        builder.UseNpgsql(new Npgsql.NpgsqlConnectionStringBuilder(connectionString) { Timeout = 5 }.ConnectionString);

    protected override void OnModelCreating(ModelBuilder modelBuilder) =>
        modelBuilder.Entity<DataProtectionKey>(key =>
        {
            key.ToTable("data_protection_keys");
            key.Property(k => k.Id).HasColumnName("id");
            key.Property(k => k.FriendlyName).HasColumnName("friendly_name");
            key.Property(k => k.Xml).HasColumnName("xml");
        });
}
