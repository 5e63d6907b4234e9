using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Migrations;
using PreferenceStudio.Web.Features.Access;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Cli.Commands;

/// <summary>The web host's account services (Identity, tokens) on the studio's database, for the CLI verbs.</summary>
public static class AccountServices
{
    public static async Task<ServiceProvider> CreateAsync(string? connectionString)
    {
        var connection = await StudioDatabaseConnection.ResolveAsync(connectionString);
        if (await StudioDatabase.PendingMigrationsAsync(connection) is { Count: > 0 } pending)
            throw new CliUsageException($"The database lacks {pending.Count} migration(s); run `studio migrate` first.");
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddDbContextFactory<StudioDbContext>(o => StudioDbContext.Configure(o, connection));
        services.AddStudioIdentityCore(new SecurityOptions());
        services.AddSingleton<UserAccounts>();
        services.AddSingleton<ApiTokenService>();
        return services.BuildServiceProvider();
    }

    /// <summary>A secret from stdin: the first line when piped, else typed at a prompt without echo.</summary>
    public static string ReadSecret(string prompt)
    {
        if (Console.IsInputRedirected) return Console.In.ReadLine() ?? "";
        Console.Error.Write(prompt);
        var secret = new System.Text.StringBuilder();
        while (true)
        {
            var key = Console.ReadKey(intercept: true);
            if (key.Key == ConsoleKey.Enter) break;
            if (key.Key == ConsoleKey.Backspace) { if (secret.Length > 0) secret.Length--; }
            else if (!char.IsControl(key.KeyChar)) secret.Append(key.KeyChar);
        }
        Console.Error.WriteLine();
        return secret.ToString();
    }
}
