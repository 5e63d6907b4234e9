using System.Net;
using System.Net.Sockets;
using Npgsql;
using PreferenceStudio.Core.Infrastructure;
using PreferenceStudio.Web.Hosting.LocalDatabase;

namespace PreferenceStudio.IntegrationTests.Infrastructure;

/// <summary>The bootstrap's whole life cycle on a throw-away cluster: init, reuse, stop, restart with data kept.</summary>
public sealed class LocalPostgresTests : IDisposable
{
    private readonly string _directory = Path.Combine(StudioPaths.DataRoot, $"test-pg-lifecycle-{Guid.NewGuid():N}");

    [Fact]
    public async Task Initialises_reuses_stops_and_restarts_a_cluster()
    {
        int port = FreePort();
        var options = new LocalPostgresOptions(_directory, port) { Database = "lifecycle", Fsync = false };

        var cs = await LocalPostgres.EnsureRunningAsync(options);
        Assert.Equal(port, new NpgsqlConnectionStringBuilder(cs).Port);
        Assert.Equal("lifecycle", new NpgsqlConnectionStringBuilder(cs).Database);
        await ExecuteAsync(cs, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (42)");

        // Already running: reused even when asked for another port, and nothing is re-initialised.
        var again = await LocalPostgres.EnsureRunningAsync(options with { Port = FreePort() });
        Assert.Equal(cs, again);

        await LocalPostgres.StopAsync(_directory);
        await Assert.ThrowsAnyAsync<NpgsqlException>(() => ExecuteAsync(cs, "SELECT 1"));
        await LocalPostgres.StopAsync(_directory); // stopping a stopped cluster is a no-op

        var restarted = await LocalPostgres.EnsureRunningAsync(options);
        Assert.Equal(42, await ScalarAsync(restarted, "SELECT v FROM kept"));
        Assert.Equal("off", await ScalarAsync(restarted, "SHOW fsync"));
        await LocalPostgres.StopAsync(_directory);
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task A_data_folder_the_server_user_cannot_reach_still_gets_a_working_cluster()
    {
        // A private parent (mode 700, like /root): as root, the postgres OS user cannot enter it.
        var parent = Path.Combine(Path.GetTempPath(), $"studio-private-{Guid.NewGuid():N}");
        Directory.CreateDirectory(parent);
        File.SetUnixFileMode(parent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var data = Path.Combine(parent, "postgres");
        try
        {
            var cs = await LocalPostgres.EnsureRunningAsync(new LocalPostgresOptions(data, FreePort()) { Fsync = false });
            Assert.Equal(1, await ScalarAsync(cs, "SELECT 1"));
            if (Environment.IsPrivilegedProcess)
            {
                // Relocated, and the project folder says where to.
                var note = await File.ReadAllTextAsync(Path.Combine(data, "RELOCATED.txt"));
                Assert.Contains(LocalPostgres.RelocatedDirectoryFor(data), note);
                Assert.True(File.Exists(Path.Combine(LocalPostgres.RelocatedDirectoryFor(data), "pgdata", "PG_VERSION")));
            }
            // The same folder finds the same cluster again.
            Assert.Equal(cs, await LocalPostgres.EnsureRunningAsync(new LocalPostgresOptions(data, FreePort()) { Fsync = false }));
        }
        finally
        {
            await LocalPostgres.StopAsync(data);
            Directory.Delete(parent, recursive: true);
            var relocated = LocalPostgres.RelocatedDirectoryFor(data);
            if (Directory.Exists(relocated)) Directory.Delete(relocated, recursive: true);
        }
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task The_cluster_takes_only_its_generated_password_kept_in_a_file_only_the_studio_reads()
    {
        int port = FreePort();
        var cs = await LocalPostgres.EnsureRunningAsync(new LocalPostgresOptions(_directory, port) { Fsync = false });
        var passwordFile = Path.Combine(_directory, LocalPostgres.PasswordFileName);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(passwordFile));
        Assert.Equal(File.ReadAllText(passwordFile).Trim(), new NpgsqlConnectionStringBuilder(cs).Password);
        Assert.Equal(1, await ScalarAsync(cs, "SELECT 1"));
        Assert.False(await LocalPostgres.AcceptsWithoutPasswordAsync(port));
        Assert.Equal("scram-sha-256", await ScalarAsync(cs, "SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE type = 'host'"));
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task A_cluster_made_with_trust_authentication_gets_a_password_on_its_next_start()
    {
        int port = FreePort();
        var options = new LocalPostgresOptions(_directory, port) { Fsync = false };
        var cs = await LocalPostgres.EnsureRunningAsync(options);
        await ExecuteAsync(cs, "CREATE TABLE kept (v int); INSERT INTO kept VALUES (7)");
        await LocalPostgres.StopAsync(_directory);
        // As an older studio left it: trust on every line, no password file.
        var root = File.Exists(Path.Combine(_directory, "RELOCATED.txt")) ? LocalPostgres.RelocatedDirectoryFor(_directory) : _directory;
        var hba = Path.Combine(root, "pgdata", "pg_hba.conf");
        File.WriteAllLines(hba, File.ReadAllLines(hba).Select(l => l.StartsWith('#') || l.Trim().Length == 0 ? l : l.Replace("scram-sha-256", "trust")));
        File.Delete(Path.Combine(_directory, LocalPostgres.PasswordFileName));
        var firstStart = await LocalPostgres.EnsureRunningAsync(options);

        Assert.NotEqual(new NpgsqlConnectionStringBuilder(cs).Password, new NpgsqlConnectionStringBuilder(firstStart).Password);
        Assert.False(await LocalPostgres.AcceptsWithoutPasswordAsync(port));
        Assert.Equal(7, await ScalarAsync(firstStart, "SELECT v FROM kept"));
        Assert.DoesNotContain(File.ReadAllLines(hba), l => !l.StartsWith('#') && l.TrimEnd().EndsWith("trust", StringComparison.Ordinal));
    }

    [Fact]
    public void Finds_the_server_binaries_on_this_machine()
    {
        var bin = LocalPostgres.FindServerBinaries();
        Assert.NotNull(bin);
        Assert.True(File.Exists(Path.Combine(bin, "pg_ctl")));
    }

    public void Dispose()
    {
        try
        {
            LocalPostgres.StopAsync(_directory).GetAwaiter().GetResult();
        }
        finally
        {
            if (Directory.Exists(_directory)) Directory.Delete(_directory, recursive: true);
            var relocated = LocalPostgres.RelocatedDirectoryFor(_directory);
            if (Directory.Exists(relocated)) Directory.Delete(relocated, recursive: true);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task ExecuteAsync(string cs, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cs) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private static async Task<object?> ScalarAsync(string cs, string sql)
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(cs) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
