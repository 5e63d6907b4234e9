using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PreferenceStudio.Core.Infrastructure;

namespace PreferenceStudio.IntegrationTests.Web;

/// <summary>
/// The studio as a separate operating-system process (the built web app), so a test can kill it with SIGKILL, as a
/// power cut or an out-of-memory kill would, and start it again on the same database and data folder.
/// </summary>
public sealed class StudioProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringWriter _log = new();

    private StudioProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }
    public int ProcessId => _process.Id;
    public bool HasExited => _process.HasExited;
    public string Log { get { lock (_log) return _log.ToString(); } }

    /// <summary>An API token of an admin account (every scope), made once the studio is ready; null when started without one.</summary>
    public string? AdminToken { get; set; }

    /// <param name="createAdmin">
    /// Make an admin account and API token once the studio is up (as `studio users add` and `studio tokens create`
    /// would), for tests that drive the API; false leaves the studio without an admin, as on a first start.
    /// </param>
    /// <param name="settings">More configuration, as environment variables (<c>Studio__Role</c> = <c>worker</c>).</param>
    /// <param name="ready">Wait for /health/ready; false waits only until the process answers /health (it is up, perhaps not ready).</param>
    public static async Task<StudioProcess> StartAsync(string connectionString, string dataRoot, bool createAdmin = true,
        IReadOnlyDictionary<string, string>? settings = null, bool ready = true)
    {
        var repo = StudioPaths.FindRepositoryRoot()!;
        // The web app's own build output, of the same configuration as this test assembly.
        var testBin = AppContext.BaseDirectory;
        var webBin = testBin.Replace(Path.Combine("tests", "PreferenceStudio.IntegrationTests"), Path.Combine("src", "PreferenceStudio.Web"));
        var dll = Path.Combine(webBin, "PreferenceStudio.Web.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException("Build the solution first: the web app is not at " + dll);

        int port = FreePort();
        var start = new ProcessStartInfo("dotnet", [dll])
        {
            WorkingDirectory = repo,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Development";
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        start.Environment["STUDIO_CONTENT_ROOT"] = repo;
        start.Environment["ConnectionStrings__Studio"] = connectionString;
        start.Environment["Studio__DataRoot"] = dataRoot;
        start.Environment["Studio__SeedDemoCampaign"] = "false";
        start.Environment["Studio__WorkerPollSeconds"] = "0.2";
        foreach (var (name, value) in settings ?? new Dictionary<string, string>()) start.Environment[name] = value;
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the studio");
        var studio = new StudioProcess(process, new Uri($"http://127.0.0.1:{port}"));
        process.OutputDataReceived += (_, e) => { lock (studio._log) studio._log.WriteLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (studio._log) studio._log.WriteLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { BaseAddress = studio.Address, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) throw new InvalidOperationException("The studio exited at start:\n" + studio.Log);
            try
            {
                if ((await http.GetAsync(ready ? "/health/ready" : "/health")).StatusCode == HttpStatusCode.OK)
                {
                    if (createAdmin) studio.AdminToken = await TestAccounts.AdminTokenAsync(connectionString);
                    return studio;
                }
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(200);
        }
        await studio.DisposeAsync();
        throw new TimeoutException("The studio did not become ready within 60 s:\n" + studio.Log);
    }

    /// <summary>A client that sends the admin's API token (none when the studio was started without an admin).</summary>
    public HttpClient CreateClient()
    {
        var client = new HttpClient { BaseAddress = Address };
        if (AdminToken is not null) client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", AdminToken);
        return client;
    }

    /// <summary>SIGKILL: no shutdown hooks, no lease released, no buffered write flushed by the app.</summary>
    public void Kill()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
