using System.CommandLine;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using PreferenceStudio.Core.Data;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio bench ingest</c>: the rating path under a crowd, through real HTTP. Each of <c>--raters</c> virtual raters
/// asks <c>next</c>, then posts a label, as fast as it is answered, for <c>--seconds</c> or until the round closes; 5%
/// of the answers are sent a second time with the same idempotency key (each must come back as a duplicate). Prints
/// one JSON object as its last line: labels per second, label POST latency percentiles, <c>next</c> p99, errors and,
/// read back after the run, how many labels were stored against how many were acknowledged (they must be equal).
/// With the studio's own configuration (no <c>--token</c>) it finds the database as <c>migrate</c> does and creates
/// the account, token, campaign and raters it drives; <c>--token</c> (and optionally <c>--campaign</c>) drive a
/// remote studio, where stored labels are read back through the export endpoint. <c>--labels N</c> stops once N labels
/// are acknowledged (the round then wants at least N); <c>--server-pid</c> names the studio's process on this machine,
/// whose resident memory is read before and after the run.
/// </summary>
public static class BenchIngestCommand
{
    public static Command Create()
    {
        var urlOption = BenchStudio.Url();
        var ratersOption = CliOptions.With("--raters", 200, "virtual raters answering at once");
        var secondsOption = CliOptions.With("--seconds", 30, "how long to drive the studio at most");
        var pairsOption = CliOptions.With("--pairs", 2000, "pairs in the campaign's round");
        var resendOption = CliOptions.With("--resend", 0.05, "share of answers sent a second time with the same idempotency key");
        var labelsOption = CliOptions.With("--labels", 0, "stop once this many labels are acknowledged (0: run for --seconds)");
        var pidOption = CliOptions.Optional<int?>("--server-pid", "the studio's process on this machine: its resident memory is read before and after", "PID");
        var tokenOption = BenchStudio.Token();
        var campaignOption = BenchStudio.Campaign();
        var connectionOption = CliOptions.Connection();
        return new Command("ingest", "labels per second and latency of the rating path through HTTP, stored against acknowledged")
        {
            urlOption, ratersOption, secondsOption, pairsOption, resendOption, labelsOption, pidOption, tokenOption, campaignOption, connectionOption,
        }.WithAction((parse, ct) => BenchStudio.GuardAsync(() => RunAsync(parse.GetRequiredValue(urlOption).ToString(), parse.GetValue(ratersOption),
            parse.GetValue(secondsOption), parse.GetValue(pairsOption), parse.GetValue(resendOption), parse.GetValue(labelsOption), parse.GetValue(pidOption),
            parse.GetValue(tokenOption), parse.GetValue(campaignOption), parse.GetValue(connectionOption))));
    }

    private static async Task<int> RunAsync(string url, int raters, int seconds, int pairs, double resendShare, int labelsWanted, int? serverPid,
        string? givenToken, Guid? existing, string? connection)
    {
        if (raters < 1 || seconds < 1 || pairs < 2 || labelsWanted < 0) throw new CliUsageException("--raters and --seconds are at least 1, --pairs at least 2, --labels at least 0.");
        if (serverPid is { } pid && ResidentMegabytes(pid) is null)
            throw new CliUsageException($"--server-pid {pid}: no such process on this machine (its /proc/{pid}/status cannot be read).");

        var (token, local) = await BenchStudio.IdentityAsync(givenToken, connection, "bench ingest");
        await using var localServices = local;
        using var http = BenchStudio.Client(url, token);
        var campaign = existing ?? await BenchStudio.StartCampaignAsync(http, new Dictionary<string, object?>
            {
                ["name"] = $"bench ingest {DateTime.UtcNow:HHmmss}", ["environment"] = "delivery-gridworld", ["segment_length"] = 3,
                ["pairs_per_round"] = pairs, ["labels_per_round"] = Math.Max(pairs * 5, labelsWanted), ["rounds"] = 1, ["seed"] = 1,
            });
        await BenchStudio.WaitForOpenRoundAsync(http, campaign, 0, TimeSpan.FromMinutes(30));
        var tokens = await BenchStudio.RatersAsync(http, campaign, raters);

        var labelMs = new List<double>[raters];
        var nextMs = new List<double>[raters];
        int acknowledged = 0, errors = 0, resent = 0, refused = 0;
        var firstErrors = new System.Collections.Concurrent.ConcurrentQueue<string>();
        void Error(string what)
        {
            Interlocked.Increment(ref errors);
            if (firstErrors.Count < 5) firstErrors.Enqueue(what);
        }
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = raters, PooledConnectionLifetime = TimeSpan.FromMinutes(10) };
        var stop = DateTime.UtcNow.AddSeconds(seconds);
        double load = BenchStudio.LoadAverage();
        double? rssBefore = serverPid is { } p0 ? ResidentMegabytes(p0) : null;
        var clock = Stopwatch.StartNew();
        var crowd = Enumerable.Range(0, raters).Select(index => Task.Run(async () =>
        {
            var rng = new Random(index);
            labelMs[index] = [];
            nextMs[index] = [];
            using var client = new HttpClient(handler, disposeHandler: false) { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(1) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tokens[index].Token);
            while (DateTime.UtcNow < stop && (labelsWanted == 0 || Volatile.Read(ref acknowledged) < labelsWanted))
            {
                var t0 = Stopwatch.GetTimestamp();
                using var nextResponse = await client.GetAsync($"/api/v1/campaigns/{campaign}/next");
                if (!nextResponse.IsSuccessStatusCode) { Error($"next: {(int)nextResponse.StatusCode}"); await Task.Delay(100); continue; }
                var state = await nextResponse.Content.ReadFromJsonAsync<JsonElement>();
                nextMs[index].Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                if (state.GetProperty("status").GetString() != "ready") return; // the round closed, or this rater answered every pair
                var id = state.GetProperty("pair").GetProperty("comparison_id").GetGuid();
                var body = new { comparison_id = id, choice = rng.Next(2) == 0 ? "left" : "right", idempotency_key = $"bench:{id:N}" };
                for (int send = 0; send < 2; send++)
                {
                    var t1 = Stopwatch.GetTimestamp();
                    using var response = await client.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/labels", body);
                    var text = await response.Content.ReadAsStringAsync();
                    labelMs[index].Add(Stopwatch.GetElapsedTime(t1).TotalMilliseconds);
                    if ((int)response.StatusCode == 409) { Interlocked.Increment(ref refused); break; }
                    if (!response.IsSuccessStatusCode) { Error($"label: {(int)response.StatusCode} {text[..Math.Min(200, text.Length)]}"); break; }
                    bool duplicate = JsonDocument.Parse(text).RootElement.GetProperty("duplicate").GetBoolean();
                    if (send == 0 && duplicate) Error("a first send came back as a duplicate");
                    if (send == 1 && !duplicate) Error("a resend was stored again");
                    if (send == 0) Interlocked.Increment(ref acknowledged);
                    if (send == 1 || rng.NextDouble() >= resendShare) break;
                    Interlocked.Increment(ref resent);
                }
            }
        })).ToList();
        await Task.WhenAll(crowd);
        double elapsed = clock.Elapsed.TotalSeconds;
        double? rssAfter = serverPid is { } p1 ? ResidentMegabytes(p1) : null;

        long stored;
        // The labels of this run's raters, as the database holds them (through the export when the studio is remote).
        var names = tokens.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        if (local is not null)
        {
            await using var db = await local.GetRequiredService<IDbContextFactory<StudioDbContext>>().CreateDbContextAsync();
            stored = await db.Labels.CountAsync(l => l.CampaignId == campaign
                && db.CampaignRaters.Any(r => r.CampaignId == campaign && r.RaterId == l.RaterId && names.Contains(r.Pseudonym)));
        }
        else
        {
            var export = await http.GetStringAsync($"/api/v1/campaigns/{campaign}/export?format=jsonl");
            stored = export.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement)
                .Count(r => r.TryGetProperty("label", out _) && r.TryGetProperty("rater", out var rater) && rater.ValueKind == JsonValueKind.String && names.Contains(rater.GetString()!));
        }
        var posts = labelMs.SelectMany(x => x).OrderBy(x => x).ToList();
        var nexts = nextMs.SelectMany(x => x).OrderBy(x => x).ToList();
        Console.Out.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["campaign"] = campaign, ["raters"] = raters, ["seconds"] = Math.Round(elapsed, 2),
            ["labels_per_second"] = Math.Round(acknowledged / elapsed, 1),
            ["p50_ms"] = Percentile(posts, 0.50), ["p95_ms"] = Percentile(posts, 0.95), ["p99_ms"] = Percentile(posts, 0.99),
            ["next_p50_ms"] = Percentile(nexts, 0.50), ["next_p99_ms"] = Percentile(nexts, 0.99),
            ["resent"] = resent, ["refused"] = refused, ["errors"] = errors, ["first_errors"] = firstErrors.ToArray(),
            ["acknowledged"] = acknowledged, ["stored"] = stored,
            ["server_rss_mb_before"] = rssBefore, ["server_rss_mb_after"] = rssAfter,
            ["load_average_before"] = load, ["load_average_after"] = BenchStudio.LoadAverage(),
        }));
        return stored == acknowledged && errors == 0 ? 0 : 1;
    }

    /// <summary>VmRSS of a process on this machine in MB, or null when it cannot be read.</summary>
    private static double? ResidentMegabytes(int pid)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            return line is null ? null : Math.Round(long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0, 1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return null;
        }
    }

    private static double? Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? null : Math.Round(sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)], 1);
}
