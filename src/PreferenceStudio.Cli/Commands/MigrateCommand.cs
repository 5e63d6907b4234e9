using System.Text.Json;
using PreferenceStudio.Migrations;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio migrate</c>: applies the EF Core migrations to the studio database. The connection string comes from
/// --connection, else ConnectionStrings__Studio, else appsettings.json; when none is set, the project-local cluster
/// the web app uses (.studio/postgres) is started and migrated. <c>--script</c> prints the idempotent SQL instead.
/// </summary>
public static class MigrateCommand
{
    private const string Usage = "usage: studio migrate [--connection \"Host=...;Database=...\"] [--script]";

    public static async Task<int> RunAsync(string[] args)
    {
        CliArgs cli;
        try
        {
            cli = CliArgs.Parse(args);
            if (cli.Has("help")) { Console.Error.WriteLine(Usage); return 0; }
            cli.EnsureOnly("connection", "script", "help");
        }
        catch (CliUsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
        if (cli.GetFlag("script"))
        {
            Console.Out.WriteLine(StudioDatabase.GenerateIdempotentScript());
            return 0;
        }

        string connection;
        try
        {
            connection = await StudioDatabaseConnection.ResolveAsync(cli);
        }
        catch (CliUsageException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 2;
        }
        var applied = await StudioDatabase.MigrateAsync(connection);
        Console.Out.WriteLine(JsonSerializer.Serialize(new { applied = applied.Count, migrations = applied, all = StudioDatabase.AllMigrations() }));
        return 0;
    }
}
