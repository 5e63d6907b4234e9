using System.Diagnostics;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using PreferenceStudio.Core.Data;
using PreferenceStudio.IntegrationTests.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// The CSV tables as a researcher reads them: with pandas (Debian's python3-pandas, installed with apt-get when missing,
/// as the browser tests install Chromium), its own parser, not the studio's writer.
/// </summary>
public sealed class PandasCsvTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly Lazy<string> Python = new(() =>
    {
        const string python = "/usr/bin/python3";
        if (Run(python, ["-c", "import pandas"]).Exit == 0) return python;
        if (Environment.UserName == "root" && File.Exists("/usr/bin/apt-get"))
        {
            Run("apt-get", ["-o", "DPkg::Lock::Timeout=600", "install", "-y", "-q", "python3-pandas"]);
            if (Run(python, ["-c", "import pandas"]).Exit != 0)
            {
                Run("apt-get", ["update", "-q"]);
                Run("apt-get", ["-o", "DPkg::Lock::Timeout=600", "install", "-y", "-q", "python3-pandas"]);
            }
        }
        return Run(python, ["-c", "import pandas"]).Exit == 0 ? python
            : throw new InvalidOperationException("This test reads CSV with pandas: run `sudo apt-get install -y python3-pandas`.");
    });

    private static (int Exit, string Stdout, string Stderr) Run(string file, string[] arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, stdout.Result, stderr);
    }

    [Fact]
    public async Task Pandas_reads_the_comparisons_and_segments_csv_as_the_database_holds_them()
    {
        var cs = await postgres.CreateDatabaseAsync("pandas");
        await using var app = new StudioAppFactory(cs, StudioAppFactory.NewDataRoot("pandas"));
        var http = app.CreateClient();
        var campaign = await StudioTestApi.AnsweredCampaignAsync(http, cs, "pandas", pairs: 5, "sim-pandas", answers: 5, seed: 24);
        var folder = StudioAppFactory.NewDataRoot("pandas-csv");
        foreach (var kind in new[] { "comparisons", "segments" })
            await File.WriteAllBytesAsync(Path.Combine(folder, kind + ".csv"), await http.GetByteArrayAsync($"/api/v1/campaigns/{campaign}/export?format=csv&kind={kind}"));

        var script = """
            import json, sys
            import pandas as pd
            c = pd.read_csv(sys.argv[1] + "/comparisons.csv", parse_dates=["shown_at", "answered_at"])
            s = pd.read_csv(sys.argv[1] + "/segments.csv")
            print(json.dumps({
                "rows": len(c),
                "labels": {r.label_id: r.label for r in c.itertuples()},
                "raters": sorted(set(c.rater)),
                "shown_at_is_time": str(c.shown_at.dtype).startswith("datetime64"),
                "segments": {r.segment_id: json.loads(r.states) for r in s.itertuples()},
            }))
            """;
        var scriptPath = Path.Combine(folder, "read.py");
        await File.WriteAllTextAsync(scriptPath, script);
        var (exit, stdout, stderr) = Run(Python.Value, [scriptPath, folder]);
        Assert.True(exit == 0, stderr);
        var read = JsonDocument.Parse(stdout).RootElement;

        await using var db = StudioDbContext.Create(cs);
        var labels = await db.Labels.AsNoTracking().Where(l => l.CampaignId == campaign).ToListAsync();
        Assert.Equal(labels.Count, read.GetProperty("rows").GetInt32());
        foreach (var label in labels)
            Assert.Equal(label.Choice.ToString().ToLowerInvariant(), read.GetProperty("labels").GetProperty(label.Id.ToString()).GetString());
        Assert.Equal(["sim-pandas"], read.GetProperty("raters").EnumerateArray().Select(r => r.GetString()));
        Assert.True(read.GetProperty("shown_at_is_time").GetBoolean());
        foreach (var segment in read.GetProperty("segments").EnumerateObject())
        {
            var stored = await db.Segments.AsNoTracking().SingleAsync(x => x.Id == Guid.Parse(segment.Name));
            Assert.Equal(JsonSerializer.Serialize(stored.States), segment.Value.GetRawText().Replace(" ", ""));
        }
    }
}
