using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// The real studio host on a real PostgreSQL database of its own and a data folder of its own (media, checkpoints).
/// Two factories over the same database and folder are the same studio before and after a restart.
/// </summary>
public sealed class StudioAppFactory(string connectionString, string dataRoot, bool runWorker = true, bool kestrel = false)
    : WebApplicationFactory<Program>
{
    public string ConnectionString { get; } = connectionString;
    public string DataRoot { get; } = dataRoot;

    public static string NewDataRoot(string name)
    {
        var root = StudioPaths.FindRepositoryRoot() ?? Path.GetTempPath();
        var dir = Path.Combine(root, ".studio", "test-data", $"{name}-{Guid.NewGuid():N}"[..Math.Min(name.Length + 9, 60)]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseContentRoot(StudioPaths.FindRepositoryRoot()!);
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:Studio", ConnectionString);
        builder.UseSetting("Studio:DataRoot", DataRoot);
        builder.UseSetting("Studio:SeedDemoCampaign", "false");
        builder.UseSetting("Studio:RunWorker", runWorker ? "true" : "false");
        builder.UseSetting("Studio:WorkerPollSeconds", "0.2");
        builder.UseSetting("Studio:Training:Threads", "1");
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        builder.UseSetting("Logging:LogLevel:PreferenceStudio", "Information");
        if (kestrel) this.UseKestrel(0);
    }

    public StudioDbContext CreateDb() => StudioDbContext.Create(ConnectionString);

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();
}
