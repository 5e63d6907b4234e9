using System.CommandLine;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using PreferenceStudio.Web.Features.Access;

namespace PreferenceStudio.Cli.Commands;

/// <summary>What the benchmarks that drive a running studio share: an identity to drive it with and a campaign to rate.</summary>
internal static class BenchStudio
{
    /// <summary>Runs a benchmark against a studio: one that refuses or does not answer exits 1 with why.</summary>
    public static async Task<int> GuardAsync(Func<Task<int>> body)
    {
        try
        {
            return await body();
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException or HttpRequestException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return 1;
        }
    }

    /// <summary>--url of the running studio, required.</summary>
    public static Option<Uri> Url() => new("--url") { Description = "the running studio, e.g. http://127.0.0.1:5000", Required = true, HelpName = "URL" };

    /// <summary>--token; without it (and without STUDIO_TOKEN) an account and token are made in the local database.</summary>
    public static Option<string?> Token() => CliOptions.Optional<string>("--token",
        "an API token with campaigns:write (default: STUDIO_TOKEN, else an admin account and token made in the studio's database)", "pst_...");

    /// <summary>--campaign: an unanswered campaign from an earlier run (its clips are the slow part to make).</summary>
    public static Option<Guid?> Campaign() => CliOptions.Optional<Guid?>("--campaign", "drive this campaign (an unanswered one from an earlier run) instead of making one", "ID");

    /// <summary>
    /// The API token to drive the studio with: <c>--token</c> or STUDIO_TOKEN, else an admin account and a one-day token
    /// made in the studio's own database (found as <c>migrate</c> finds it; the services are returned for reading back).
    /// </summary>
    public static async Task<(string Token, ServiceProvider? Local)> IdentityAsync(string? givenToken, string? connection, string purpose)
    {
        var token = givenToken ?? Environment.GetEnvironmentVariable("STUDIO_TOKEN");
        if (!string.IsNullOrEmpty(token)) return (token, null);
        var local = await AccountServices.CreateAsync(connection);
        var email = $"bench-{RandomNumberGenerator.GetHexString(8, lowercase: true)}@bench.invalid";
        var user = await local.GetRequiredService<UserAccounts>().CreateAsync(email, RandomNumberGenerator.GetHexString(32), "admin");
        token = (await local.GetRequiredService<ApiTokenService>().CreateAsync(user.Id, purpose, ["campaigns:read", "campaigns:write"], 1)).Secret;
        Console.Error.WriteLine($"made admin {email} and a one-day token in the local database");
        return (token, local);
    }

    public static HttpClient Client(string url, string token)
    {
        var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    /// <summary>Creates and starts a campaign with <paramref name="settings"/>; throws with the studio's answer when refused.</summary>
    public static async Task<Guid> StartCampaignAsync(HttpClient http, Dictionary<string, object?> settings)
    {
        var created = await http.PostAsJsonAsync("/api/v1/campaigns", settings);
        if (!created.IsSuccessStatusCode) throw new InvalidOperationException($"creating the campaign: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        var campaign = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
        var started = await http.PostAsync($"/api/v1/campaigns/{campaign}/start", null);
        if (!started.IsSuccessStatusCode) throw new InvalidOperationException($"starting the campaign: {(int)started.StatusCode}");
        return campaign;
    }

    /// <summary>Waits until round <paramref name="index"/> (0-based) of the campaign is open.</summary>
    public static async Task WaitForOpenRoundAsync(HttpClient http, Guid campaign, int index, TimeSpan limit)
    {
        Console.Error.WriteLine($"campaign {campaign}: waiting for round {index + 1} to open (its clips are rendered first)");
        for (var deadline = DateTime.UtcNow + limit; ; await Task.Delay(500))
        {
            var rounds = (await http.GetFromJsonAsync<JsonElement>($"/api/v1/campaigns/{campaign}")).GetProperty("rounds");
            if (rounds.GetArrayLength() > index && string.Equals(rounds[index].GetProperty("status").GetString(), "open", StringComparison.OrdinalIgnoreCase)) return;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"round {index + 1} did not open within {limit.TotalMinutes} minutes");
        }
    }

    /// <summary>Makes <paramref name="count"/> scripted raters; their pseudonyms and tokens.</summary>
    public static async Task<List<(string Name, string Token)>> RatersAsync(HttpClient http, Guid campaign, int count)
    {
        var made = await http.PostAsJsonAsync($"/api/v1/campaigns/{campaign}/raters", new { count, kind = "simulated" });
        if (!made.IsSuccessStatusCode) throw new InvalidOperationException($"making raters: {(int)made.StatusCode} {await made.Content.ReadAsStringAsync()}");
        return (await made.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("raters").EnumerateArray()
            .Select(r => (r.GetProperty("pseudonym").GetString()!, r.GetProperty("token").GetString()!)).ToList();
    }

    public static double LoadAverage() =>
        File.Exists("/proc/loadavg") ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) : double.NaN;
}
