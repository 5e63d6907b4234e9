using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using PreferenceStudio.Core.Data;

namespace PreferenceStudio.Migrations;

/// <summary>
/// Lets <c>dotnet ef</c> build the context without starting the web host. The connection string comes from
/// <c>ConnectionStrings__Studio</c>; commands that touch a database (<c>database update</c>) need it set, with the
/// password (the studio's local cluster keeps its password in <c>.studio/postgres/superuser-password</c>).
/// </summary>
public sealed class DesignTimeStudioDbContextFactory : IDesignTimeDbContextFactory<StudioDbContext>
{
    public StudioDbContext CreateDbContext(string[] args)
    {
        var connectionString = Environment.GetEnvironmentVariable("ConnectionStrings__Studio");
        if (string.IsNullOrWhiteSpace(connectionString))
            connectionString = "Host=127.0.0.1;Port=55432;Database=studio;Username=postgres";
        var builder = new DbContextOptionsBuilder<StudioDbContext>();
        StudioDbContext.Configure(builder, connectionString);
        return new StudioDbContext(builder.Options);
    }
}
