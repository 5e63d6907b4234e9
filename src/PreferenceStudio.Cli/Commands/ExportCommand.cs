using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Core.Exchange;
using PreferenceStudio.Core.Infrastructure;
using PreferenceStudio.Core.Media.Stores;
using PreferenceStudio.Migrations;
using PreferenceStudio.Web.Features.Dataset;
using PreferenceStudio.Web.Features.Live;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio export</c>: a campaign's data from the studio's database into a folder, in the formats the export
/// endpoint gives (the same writers); csv or parquet without --kind writes all four tables.
/// </summary>
public static class ExportCommand
{
    private const string Usage = """
        usage: studio export --campaign ID --out DIR [--format jsonl|csv|parquet|bundle] [--kind comparisons|segments|rankings|raters]
                             [--license ID] [--clips] [--connection "Host=...;Database=..."]
        """;

    public static Task<int> RunAsync(string[] args) => AccountServices.RunAsync(Usage, async () =>
    {
        var cli = CliArgs.Parse(args);
        if (cli.Has("help")) { Console.Error.WriteLine(Usage); return 0; }
        cli.EnsureOnly("campaign", "out", "format", "kind", "license", "clips", "connection", "help");
        if (!Guid.TryParse(cli.Require("campaign"), out var campaign)) throw new CliUsageException("--campaign takes the campaign's id (a GUID).");
        var format = cli.Get("format", "jsonl").ToLowerInvariant();
        var kind = cli.Get("kind")?.ToLowerInvariant();
        var outDir = Path.GetFullPath(cli.Require("out"));
        // The endpoint's own rules; a refusal is a usage error here (exit 2).
        try { DatasetTables.Validate(format, kind); }
        catch (StudioProblemException e) { throw new CliUsageException(e.Message); }

        var connection = await StudioDatabaseConnection.ResolveAsync(cli);
        if (await StudioDatabase.PendingMigrationsAsync(connection) is { Count: > 0 })
            throw new CliUsageException("The database lacks migrations; run `studio migrate` first.");
        await using var services = Services(connection);
        Directory.CreateDirectory(outDir);
        var files = new List<object>();
        var ct = CancellationToken.None;
        if (format == "jsonl")
        {
            var path = Path.Combine(outDir, $"campaign-{campaign:N}{(kind is null ? "" : "-" + kind)}.jsonl");
            await using (var file = File.Create(path))
                await services.GetRequiredService<DatasetExporter>().WriteJsonlAsync(campaign, file, ct, kind);
            files.Add(new { path, bytes = new FileInfo(path).Length });
        }
        else if (format == "bundle")
        {
            var path = Path.Combine(outDir, $"campaign-{campaign:N}.zip");
            await services.GetRequiredService<DatasetBundle>().WriteAsync(campaign, path, cli.Get("license") ?? DatasetBundle.DefaultLicence, cli.GetFlag("clips"), ct);
            files.Add(new { path, bytes = new FileInfo(path).Length });
        }
        else
        {
            foreach (var table in kind is null ? ExportKinds.All : [kind])
            {
                var path = Path.Combine(outDir, $"campaign-{campaign:N}-{table}.{format}");
                int rows = await services.GetRequiredService<DatasetTables>().WriteAsync(campaign, table, format, path, ct);
                files.Add(new { path, kind = table, rows, bytes = new FileInfo(path).Length });
            }
        }
        Console.Out.WriteLine(JsonSerializer.Serialize(new { campaign, format, files }));
        return 0;
    });

    /// <summary>The web host's export services on the studio's database, without a web host.</summary>
    private static ServiceProvider Services(string connection)
    {
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddDbContextFactory<StudioDbContext>(o => StudioDbContext.Configure(o, connection));
        services.AddSignalR();
        services.AddSingleton(Microsoft.Extensions.Options.Options.Create(new StudioOptions { DataRoot = StudioPaths.DataRoot }));
        services.AddSingleton(sp => new ClusterNotifier(connection, sp.GetRequiredService<ILogger<ClusterNotifier>>()));
        services.AddSingleton<CampaignEvents>();
        services.AddSingleton<PreferenceStudio.Web.Features.Quality.QualityService>();
        services.AddSingleton<IMediaStore, FolderMediaStore>();
        services.AddSingleton<DatasetExporter>();
        services.AddSingleton<DatasetTables>();
        services.AddSingleton<DatasetBundle>();
        return services.BuildServiceProvider();
    }
}

/// <summary>
/// <c>studio convert IN.jsonl --format parquet|csv --out DIR</c>: an exchange file's comparisons, segments and
/// rankings as tables, without a database. A file with a malformed line is refused whole, naming the line, and
/// nothing is written.
/// </summary>
public static class ConvertCommand
{
    private const string Usage = "usage: studio convert IN.jsonl --format parquet|csv --out DIR";

    public static Task<int> RunAsync(string[] args) => AccountServices.RunAsync(Usage, async () =>
    {
        if (args.Length == 0 || args[0] is "--help" or "-h") { Console.Error.WriteLine(Usage); return args.Length == 0 ? 2 : 0; }
        var input = args[0];
        var cli = CliArgs.Parse(args[1..]);
        cli.EnsureOnly("format", "out", "help");
        var format = cli.Get("format", "parquet").ToLowerInvariant();
        if (format is not ("parquet" or "csv")) throw new CliUsageException($"unknown --format '{format}'; use parquet or csv.");
        var outDir = Path.GetFullPath(cli.Require("out"));
        if (!File.Exists(input)) throw new CliUsageException($"no file '{input}'.");

        var read = PreferenceJsonl.ReadFile(input);
        if (!read.IsValid)
        {
            foreach (var error in read.Errors.Take(20)) Console.Error.WriteLine($"{input}: {error}");
            if (read.Errors.Count > 20) Console.Error.WriteLine($"... and {read.Errors.Count - 20} more");
            Console.Out.WriteLine(JsonSerializer.Serialize(new { error = $"{read.Errors.Count} malformed line(s); nothing written", first = read.Errors[0].ToString() }));
            return 1;
        }
        var (comparisons, segments, rankings) = RecordTables.From(read);
        Directory.CreateDirectory(outDir);
        var name = Path.GetFileNameWithoutExtension(input);
        var files = new List<object>();
        async Task WriteAsync<T>(string kind, List<T> rows) where T : new()
        {
            var path = Path.Combine(outDir, $"{name}-{kind}.{format}");
            await DatasetTables.WriteBatchesAsync(Batch(rows), format, path, CancellationToken.None);
            files.Add(new { path, kind, rows = rows.Count });
        }
        await WriteAsync(ExportKinds.Comparisons, comparisons);
        await WriteAsync(ExportKinds.Segments, segments);
        await WriteAsync(ExportKinds.Rankings, rankings);
        Console.Out.WriteLine(JsonSerializer.Serialize(new { input, format, comparisons = comparisons.Count, segments = segments.Count, rankings = rankings.Count, files }));
        return 0;
    });

    private static async IAsyncEnumerable<List<T>> Batch<T>(List<T> rows)
    {
        await Task.CompletedTask;
        for (int i = 0; i == 0 || i < rows.Count; i += DatasetTables.BatchSize)
            yield return rows.GetRange(i, Math.Min(DatasetTables.BatchSize, rows.Count - i));
    }
}
