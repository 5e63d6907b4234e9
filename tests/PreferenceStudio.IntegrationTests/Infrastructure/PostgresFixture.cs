using Npgsql;
using PreferenceStudio.Core.Infrastructure;
using PreferenceStudio.Web.Hosting.LocalDatabase;
using PreferenceStudio.Migrations;

namespace PreferenceStudio.IntegrationTests.Infrastructure;

/// <summary>
/// A real PostgreSQL for integration tests. Uses the server in <c>STUDIO_TEST_CONNECTION</c> when set, else
/// starts (once per test process, shared by every fixture instance) a private cluster under
/// <c>&lt;repo&gt;/.studio/test-pg</c> on port 55433 (<c>STUDIO_TEST_PG_PORT</c> overrides) with fsync off.
/// Each caller of <see cref="CreateDatabaseAsync"/> gets its own migrated database, so test classes can run in
/// parallel; use it as a class fixture, or through <see cref="PostgresCollection"/>.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    /// <summary>Connection string of an existing server to use instead of a private cluster.</summary>
    public const string ConnectionVariable = "STUDIO_TEST_CONNECTION";

    /// <summary>Port of the private test cluster.</summary>
    public const string PortVariable = "STUDIO_TEST_PG_PORT";

    /// <summary>Set to 1 to keep test databases after the run, for inspection.</summary>
    public const string KeepDatabasesVariable = "STUDIO_TEST_KEEP_DATABASES";

    public const int DefaultPort = 55433;

    private static readonly Lazy<Task<string>> Server = new(StartServerAsync);
    private readonly List<string> _created = [];

    /// <summary>Connection string to the server's maintenance database (<c>postgres</c>).</summary>
    public string ServerConnectionString { get; private set; } = "";

    public async Task InitializeAsync() => ServerConnectionString = await Server.Value;

    /// <summary>
    /// Creates a fresh database named after <paramref name="prefix"/> plus a random suffix, applies the
    /// migrations and returns its connection string. Dropped when the fixture is disposed.
    /// </summary>
    public async Task<string> CreateDatabaseAsync(string prefix)
    {
        var connectionString = await CreateEmptyDatabaseAsync(prefix);
        await StudioDatabase.MigrateAsync(connectionString);
        return connectionString;
    }

    /// <summary>A fresh database without the studio's schema (as a production database is before `studio migrate`).</summary>
    public async Task<string> CreateEmptyDatabaseAsync(string prefix)
    {
        if (ServerConnectionString.Length == 0) await InitializeAsync();
        var connectionString = await CreateEmptyDatabaseOnAsync(ServerConnectionString, prefix);
        lock (_created) _created.Add(new NpgsqlConnectionStringBuilder(connectionString).Database!);
        return connectionString;
    }

    /// <summary>A fresh, empty database named after <paramref name="prefix"/> on the server of <paramref name="serverConnectionString"/>.</summary>
    public static async Task<string> CreateEmptyDatabaseOnAsync(string serverConnectionString, string prefix)
    {
        var name = UniqueName(prefix);
        await using (var connection = new NpgsqlConnection(serverConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {LocalPostgres.QuoteIdentifier(name)}", connection);
            await create.ExecuteNonQueryAsync();
        }
        return new NpgsqlConnectionStringBuilder(serverConnectionString) { Database = name }.ConnectionString;
    }

    public async Task DisposeAsync()
    {
        if (Environment.GetEnvironmentVariable(KeepDatabasesVariable) == "1" || ServerConnectionString.Length == 0) return;
        string[] names;
        lock (_created) names = [.. _created];
        if (names.Length == 0) return;
        await using var connection = new NpgsqlConnection(ServerConnectionString);
        await connection.OpenAsync();
        foreach (var name in names)
        {
            // Pooled idle connections would otherwise keep the database busy; FORCE ends any the tests leaked.
            NpgsqlConnection.ClearPool(new NpgsqlConnection(
                new NpgsqlConnectionStringBuilder(ServerConnectionString) { Database = name }.ConnectionString));
            await using var drop = new NpgsqlCommand(
                $"DROP DATABASE IF EXISTS {LocalPostgres.QuoteIdentifier(name)} WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
    }

    private static async Task<string> StartServerAsync()
    {
        var configured = Environment.GetEnvironmentVariable(ConnectionVariable);
        if (!string.IsNullOrWhiteSpace(configured))
            return new NpgsqlConnectionStringBuilder(configured) { Database = "postgres" }.ConnectionString;

        int port = int.TryParse(Environment.GetEnvironmentVariable(PortVariable), out var p) ? p : DefaultPort;
        var directory = Path.Combine(StudioPaths.DataRoot, "test-pg");
        var studio = await LocalPostgres.EnsureRunningAsync(new LocalPostgresOptions(directory, port) { Fsync = false });
        return new NpgsqlConnectionStringBuilder(studio) { Database = "postgres" }.ConnectionString;
    }

    private static string UniqueName(string prefix)
    {
        var cleaned = new string(prefix.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray());
        if (cleaned.Length > 40) cleaned = cleaned[..40];
        // 16 hex digits of randomness is plenty; the whole name stays under PostgreSQL's 63-byte limit.
        return $"t_{cleaned}_{Guid.NewGuid():N}"[..(cleaned.Length + 3 + 16)];
    }
}

/// <summary>Collection for tests that want to share one <see cref="PostgresFixture"/> instance.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "postgres";
}
