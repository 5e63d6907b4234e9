using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using PreferenceStudio.Core.Infrastructure;
using PreferenceStudio.Core.Media.Stores;

namespace PreferenceStudio.IntegrationTests.Infrastructure;

/// <summary>
/// A real S3-compatible server for the tests: s3rver (npm, pinned in tests/s3rver/package-lock.json, installed there
/// with `npm ci` on first use) on a free port, its objects in a fresh folder, with one bucket.
/// </summary>
public sealed class S3ServerFixture : IAsyncLifetime
{
    public const string Bucket = "studio";
    private Process? _process;
    private readonly StringWriter _log = new();

    public string ServiceUrl { get; private set; } = "";

    /// <summary>The settings that point a studio at this server (as configuration keys).</summary>
    public Dictionary<string, string> StudioSettings(string prefix = "") => new()
    {
        ["Studio:Media:Store"] = "s3",
        ["Studio:Media:S3:ServiceUrl"] = ServiceUrl,
        ["Studio:Media:S3:Bucket"] = Bucket,
        // s3rver's fixed development credentials.
        ["Studio:Media:S3:AccessKey"] = "S3RVER",
        ["Studio:Media:S3:SecretKey"] = "S3RVER",
        ["Studio:Media:S3:Prefix"] = prefix,
    };

    public S3MediaStore Store(string dataRoot, string prefix = "") => new(new S3StoreOptions
    {
        ServiceUrl = ServiceUrl, Bucket = Bucket, AccessKey = "S3RVER", SecretKey = "S3RVER", Prefix = prefix,
    }, dataRoot);

    public async Task InitializeAsync()
    {
        var folder = Path.Combine(StudioPaths.FindRepositoryRoot()!, "tests", "s3rver");
        var server = Path.Combine(folder, "node_modules", "s3rver", "bin", "s3rver.js");
        if (!File.Exists(server)) await RunAsync("npm", ["ci", "--no-audit", "--no-fund"], folder, TimeSpan.FromMinutes(5));

        var data = Path.Combine(StudioPaths.DataRoot, "test-s3", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(data);
        int port = FreePort();
        var start = new ProcessStartInfo("node", [server, "-d", data, "-a", "127.0.0.1", "-p", port.ToString(), "--configure-bucket", Bucket, "--silent"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        _process.OutputDataReceived += (_, e) => { lock (_log) _log.WriteLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { lock (_log) _log.WriteLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        ServiceUrl = $"http://127.0.0.1:{port}";
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            if (_process.HasExited) throw new InvalidOperationException("s3rver exited at start:\n" + _log);
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
            }
        }
    }

    public Task DisposeAsync()
    {
        if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true);
        _process?.Dispose();
        return Task.CompletedTask;
    }

    private static async Task RunAsync(string program, string[] arguments, string folder, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(program, arguments) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{program} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cts.Token);
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} in {folder} failed ({process.ExitCode}): {await output}{await error}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
