using System.CommandLine;
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
    public static Command Create()
    {
        var connection = CliOptions.Connection();
        var script = CliOptions.Flag("--script", "print the idempotent SQL script of every migration instead of applying them");
        return new Command("migrate", "apply the database migrations to the configured PostgreSQL") { connection, script }
            .WithAction(async (parse, ct) =>
            {
                var output = parse.InvocationConfiguration.Output;
                if (parse.GetValue(script))
                {
                    output.WriteLine(StudioDatabase.GenerateIdempotentScript());
                    return 0;
                }
                var resolved = await StudioDatabaseConnection.ResolveAsync(parse.GetValue(connection));
                var applied = await StudioDatabase.MigrateAsync(resolved);
                output.WriteLine(JsonSerializer.Serialize(new { applied = applied.Count, migrations = applied, all = StudioDatabase.AllMigrations() }));
                return 0;
            });
    }
}
