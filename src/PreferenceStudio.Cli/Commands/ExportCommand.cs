using System.CommandLine;
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
    public static Command Create()
    {
        var campaign = CliOptions.Required<Guid>("--campaign", "the campaign's id", "ID");
        var output = CliOptions.Required<string>("--out", "the folder to write into (made when missing)", "DIR");
        var format = CliOptions.Choice("--format", "jsonl", ExportKinds.Formats, "jsonl (the lossless exchange file), csv, parquet, or bundle (a zip with the Parquet tables and a dataset card)", ignoreCase: true);
        var kind = CliOptions.Optional<string>("--kind", "one table: comparisons, segments, rankings or raters (jsonl: comparisons or rankings); csv and parquet without it write all four");
        kind.AcceptOnlyFromAmong([.. ExportKinds.All]);
        var license = CliOptions.With("--license", DatasetBundle.DefaultLicence, "the bundle card's licence, an SPDX-like id such as cc-by-4.0", "ID");
        var clips = CliOptions.Flag("--clips", "bundle: include the rendered clips (MP4) under clips/");
        var connection = CliOptions.Connection();
        return new Command("export", "a campaign's data into a folder: jsonl, csv, parquet or a bundle (zip with a dataset card)")
        {
            campaign, output, format, kind, license, clips, connection,
        }.WithAction((parse, ct) => RunAsync(parse.InvocationConfiguration.Output, parse.GetValue(campaign), Path.GetFullPath(parse.GetRequiredValue(output)),
            parse.GetRequiredValue(format).ToLowerInvariant(), parse.GetValue(kind), parse.GetRequiredValue(license), parse.GetValue(clips), parse.GetValue(connection), ct));
    }

    private static async Task<int> RunAsync(TextWriter output, Guid campaign, string outDir, string format, string? kind, string license, bool clips,
        string? connectionString, CancellationToken ct)
    {
        // The endpoint's own rules (a table kind as JSONL is refused); a refusal is a usage error here (exit 2).
        try { DatasetTables.Validate(format, kind); }
        catch (StudioProblemException e) { throw new CliUsageException(e.Message); }

        var connection = await StudioDatabaseConnection.ResolveAsync(connectionString);
        if (await StudioDatabase.PendingMigrationsAsync(connection) is { Count: > 0 })
            throw new CliUsageException("The database lacks migrations; run `studio migrate` first.");
        await using var services = Services(connection);
        Directory.CreateDirectory(outDir);
        var files = new List<object>();
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
            await services.GetRequiredService<DatasetBundle>().WriteAsync(campaign, path, license, clips, ct);
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
        output.WriteLine(JsonSerializer.Serialize(new { campaign, format, files }));
        return 0;
    }

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
    public static Command Create()
    {
        var input = new Argument<string>("input")
        {
            Description = "the exchange file (JSONL) to make tables of, or, with --format jsonl, a NAME-comparisons.parquet written by convert or export (NAME-segments.parquet and, when there, NAME-rankings.parquet are read beside it)",
            HelpName = "IN",
        };
        var format = CliOptions.Choice("--format", "parquet", ["parquet", "csv", "jsonl"], "parquet or csv tables from JSONL; jsonl back from Parquet tables", ignoreCase: true);
        var output = CliOptions.Required<string>("--out", "the folder to write into (made when missing)", "DIR");
        return new Command("convert", "an exchange JSONL file as Parquet or CSV tables, or Parquet tables back as JSONL, without a database") { input, format, output }
            .WithAction((parse, ct) =>
            {
                var (path, to, outDir) = (parse.GetRequiredValue(input), parse.GetRequiredValue(format).ToLowerInvariant(), Path.GetFullPath(parse.GetRequiredValue(output)));
                if (!File.Exists(path)) throw new CliUsageException($"no file '{path}'.");
                bool fromTables = path.EndsWith(TablesSuffix, StringComparison.OrdinalIgnoreCase);
                if (fromTables != (to == "jsonl"))
                    throw new CliUsageException(fromTables
                        ? $"{Path.GetFileName(path)} is a table: convert it back with --format jsonl."
                        : $"--format jsonl reads tables: give the NAME{TablesSuffix} that convert or export wrote.");
                var writer = parse.InvocationConfiguration.Output;
                return fromTables ? ToJsonlAsync(writer, path, outDir, ct) : RunAsync(writer, path, to, outDir);
            });
    }

    private const string TablesSuffix = "-comparisons.parquet";

    /// <summary>
    /// Parquet tables back to the exchange format. The lines are written to a temporary file and read back with the
    /// exchange reader's own checks before they take the output's name, so a bad table leaves nothing behind.
    /// </summary>
    private static async Task<int> ToJsonlAsync(TextWriter output, string comparisonsPath, string outDir, CancellationToken ct)
    {
        var stem = comparisonsPath[..^TablesSuffix.Length];
        var segmentsPath = stem + "-segments.parquet";
        var rankingsPath = stem + "-rankings.parquet";
        if (!File.Exists(segmentsPath)) throw new CliUsageException($"{Path.GetFileName(segmentsPath)} is missing: the comparisons' segments are in it.");
        static async Task<List<T>> ReadAsync<T>(string path, CancellationToken ct) where T : class, new()
        {
            await using var file = File.OpenRead(path);
            return [.. (await Parquet.Serialization.ParquetSerializer.DeserializeAsync<T>(file, cancellationToken: ct)).Data];
        }
        List<PreferenceRecord> records;
        List<FactorRankingRecord> rankings;
        try
        {
            (records, rankings) = RecordTables.ToRecords(await ReadAsync<ComparisonRow>(comparisonsPath, ct), await ReadAsync<SegmentRow>(segmentsPath, ct),
                File.Exists(rankingsPath) ? await ReadAsync<RankingRow>(rankingsPath, ct) : []);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or JsonException or NotSupportedException or InvalidOperationException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            output.WriteLine(JsonSerializer.Serialize(new { error = e.Message, written = false }));
            return 1;
        }
        Directory.CreateDirectory(outDir);
        var path = Path.Combine(outDir, Path.GetFileName(stem) + ".jsonl");
        var temporary = path + ".partial";
        await using (var writer = new StreamWriter(temporary, false, new System.Text.UTF8Encoding(false)))
        {
            foreach (var record in records) await writer.WriteLineAsync(PreferenceJsonl.Write(record));
            foreach (var ranking in rankings) await writer.WriteLineAsync(PreferenceJsonl.Write(ranking));
        }
        var check = PreferenceJsonl.ReadFile(temporary);
        if (!check.IsValid)
        {
            File.Delete(temporary);
            foreach (var error in check.Errors.Take(20)) Console.Error.WriteLine($"{Path.GetFileName(comparisonsPath)}: {error}");
            output.WriteLine(JsonSerializer.Serialize(new { error = $"{check.Errors.Count} record(s) the exchange format refuses; nothing written", first = check.Errors[0].ToString() }));
            return 1;
        }
        File.Move(temporary, path, overwrite: true);
        output.WriteLine(JsonSerializer.Serialize(new { input = comparisonsPath, format = "jsonl", comparisons = records.Count, rankings = rankings.Count, path }));
        return 0;
    }

    private static async Task<int> RunAsync(TextWriter output, string input, string format, string outDir)
    {

        var read = PreferenceJsonl.ReadFile(input);
        if (!read.IsValid)
        {
            foreach (var error in read.Errors.Take(20)) Console.Error.WriteLine($"{input}: {error}");
            if (read.Errors.Count > 20) Console.Error.WriteLine($"... and {read.Errors.Count - 20} more");
            output.WriteLine(JsonSerializer.Serialize(new { error = $"{read.Errors.Count} malformed line(s); nothing written", first = read.Errors[0].ToString() }));
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
        output.WriteLine(JsonSerializer.Serialize(new { input, format, comparisons = comparisons.Count, segments = segments.Count, rankings = rankings.Count, files }));
        return 0;
    }

    private static async IAsyncEnumerable<List<T>> Batch<T>(List<T> rows)
    {
        await Task.CompletedTask;
        for (int i = 0; i == 0 || i < rows.Count; i += DatasetTables.BatchSize)
            yield return rows.GetRange(i, Math.Min(DatasetTables.BatchSize, rows.Count - i));
    }
}
