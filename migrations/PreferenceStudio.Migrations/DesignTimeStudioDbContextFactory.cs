using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Infrastructure;

namespace PreferenceStudio.Migrations;

/// <summary>
/// Lets <c>dotnet ef</c> build the context without starting the web host. The connection string comes from
/// <c>ConnectionStrings__Studio</c>, else the studio's local cluster on 127.0.0.1:55432 (only needed by
/// commands that touch a database, such as <c>database update</c>).
/// </summary>
public sealed class DesignTimeStudioDbContextFactory : IDesignTimeDbContextFactory<StudioDbContext>
{
    public StudioDbContext CreateDbContext(string[] args)
    {
        var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Studio");
        if (string.IsNullOrWhiteSpace(connectionString))
            connectionString = LocalPostgres.ConnectionString(LocalPostgres.DefaultPort);
        var builder = new DbContextOptionsBuilder<StudioDbContext>();
        StudioDbContext.Configure(builder, connectionString);
        return new StudioDbContext(builder.Options);
    }
}
