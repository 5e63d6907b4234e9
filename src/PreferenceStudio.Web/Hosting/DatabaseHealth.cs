using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace PreferenceStudio.Web.Hosting;

/// <summary>
/// Readiness: the database answers a query within a few seconds, and the studio finished preparing it (migrations,
/// roles) at start. Each says why when it is not: a proxy or an operator reads the reason from /health/ready.
/// </summary>
public sealed class DatabaseHealthCheck(string connectionString) : IHealthCheck
{
    private readonly string _connectionString = new NpgsqlConnectionStringBuilder(connectionString)
    {
        // A probe answers quickly or says the database is out of reach; it never waits out a long retry.
        Timeout = 3,
        CommandTimeout = 3,
        ApplicationName = "studio-health",
    }.ConnectionString;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default)
    {
        try
        {
            await using var connection = new NpgsqlConnection(_connectionString);
            await connection.OpenAsync(ct);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(ct);
            return HealthCheckResult.Healthy("The database answers.");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return HealthCheckResult.Unhealthy($"The database is unreachable: {ex.Message}");
        }
    }
}

/// <summary>Whether the studio's start-up preparation of the database is done, and if not, what it waits for.</summary>
public sealed class StudioStartup : IHealthCheck
{
    private volatile string? _waitingFor = "Preparing the database.";

    public bool IsPrepared => _waitingFor is null;

    public void Prepared() => _waitingFor = null;

    public void Waiting(string reason) => _waitingFor = reason;

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct = default) =>
        Task.FromResult(_waitingFor is { } reason ? HealthCheckResult.Unhealthy(reason) : HealthCheckResult.Healthy("Prepared."));

    /// <summary>/health/ready's body: the overall status and each check's, with its reason, as JSON.</summary>
    public static Task WriteReportAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsJsonAsync(new
        {
            status = report.Status.ToString(),
            checks = report.Entries.Select(e => new { name = e.Key, status = e.Value.Status.ToString(), description = e.Value.Description }),
        });
    }
}
