using System.Text.Json;
using PreferenceStudio.Core.Infrastructure;
using PreferenceStudio.Web.Hosting.LocalDatabase;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// The database the web studio uses, found the way it finds it: --connection, else ConnectionStrings__Studio, else
/// appsettings.json, else the project-local cluster in .studio/postgres (started if it is not running; its generated
/// password is read from the cluster's password file).
/// </summary>
public static class StudioDatabaseConnection
{
    public static async Task<string> ResolveAsync(string? given)
    {
        var connection = given
            ?? Environment.GetEnvironmentVariable("ConnectionStrings__Studio")
            ?? FromAppSettings();
        if (!string.IsNullOrWhiteSpace(connection)) return connection;
        var root = StudioPaths.FindRepositoryRoot()
            ?? throw new CliUsageException("No connection string given and no checkout found for the local cluster; pass --connection \"Host=...;Database=...;Username=...;Password=...\".");
        return await LocalPostgres.EnsureRunningAsync(Path.Combine(root, ".studio", "postgres"), LocalPostgres.DefaultPort);
    }

    private static string? FromAppSettings()
    {
        var root = StudioPaths.FindRepositoryRoot();
        var path = root is null ? Path.Combine(AppContext.BaseDirectory, "appsettings.json") : Path.Combine(root, "appsettings.json");
        if (!File.Exists(path)) return null;
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.TryGetProperty("ConnectionStrings", out var cs) && cs.TryGetProperty("Studio", out var value)
            ? value.GetString() is { Length: > 0 } s ? s : null
            : null;
    }
}
