using System.Diagnostics;

namespace PreferenceStudio.IntegrationTests.Cli;

/// <summary>The studio CLI as a user runs it: the built program (studio.dll beside the tests), its exit code and output.</summary>
internal static class StudioProcess
{
    /// <summary>Runs `studio ARGS`; <paramref name="stdin"/> is its first input line, <paramref name="environment"/> added to its environment.</summary>
    public static async Task<(int Exit, string[] Stdout, string Stderr)> RunAsync(string[] args, string? stdin = null,
        IReadOnlyDictionary<string, string>? environment = null, TimeSpan? limit = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "studio.dll");
        var start = new ProcessStartInfo("dotnet", ["exec", dll, .. args]) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var (name, value) in environment ?? new Dictionary<string, string>()) start.Environment[name] = value;
        using var process = Process.Start(start)!;
        if (stdin is not null) await process.StandardInput.WriteLineAsync(stdin);
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(limit ?? TimeSpan.FromMinutes(3));
        return (process.ExitCode, (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries), await stderr);
    }

    /// <summary>Rows of a Parquet or CSV file as DuckDB (a reader that is not the writer) counts them.</summary>
    public static long DuckCount(string file)
    {
        using var duck = new DuckDB.NET.Data.DuckDBConnection("DataSource=:memory:");
        duck.Open();
        using var command = duck.CreateCommand();
        command.CommandText = $"SELECT count(*) FROM '{file}'";
        return Convert.ToInt64(command.ExecuteScalar());
    }
}
