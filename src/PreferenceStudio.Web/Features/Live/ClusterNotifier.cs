using Npgsql;

namespace PreferenceStudio.Web.Features.Live;

/// <summary>
/// Sends the studio's cross-node signals through PostgreSQL's LISTEN/NOTIFY: campaign changes (so pages on every web
/// node hear of a label taken on another, or of a round a worker trained) and "a job was queued" (so workers wake at
/// once instead of at their next poll). Chosen over a Redis backplane because every node already holds a connection
/// to the one PostgreSQL, so a cluster needs no further service to run, secure and watch; the messages are small and
/// a few per second per campaign (label progress is coalesced to 4 a second), far inside what NOTIFY carries.
/// </summary>
public sealed class ClusterNotifier : IAsyncDisposable
{
    public const string EventsChannel = "studio_events";
    public const string JobsChannel = "studio_jobs";

    /// <summary>NOTIFY payloads must stay under 8,000 bytes; campaign changes are far smaller, messages are cut to this.</summary>
    public const int MaxMessageLength = 2000;

    private readonly NpgsqlDataSource _source;
    private readonly ILogger<ClusterNotifier> _logger;
    private volatile bool _listening;

    public ClusterNotifier(string connectionString, ILogger<ClusterNotifier> logger)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString)
        {
            ApplicationName = "studio-notifications",
            // A listening connection is idle for long spells: keep-alives notice a vanished server or a cut network.
            KeepAlive = 15,
            // Signals are small and few; they need no more connections than this.
            MaxPoolSize = 4,
        };
        _source = NpgsqlDataSource.Create(builder.ConnectionString);
        _logger = logger;
    }

    /// <summary>Whether this node's <see cref="ClusterListener"/> is listening now (its own signals come back to it).</summary>
    public bool Listening
    {
        get => _listening;
        internal set => _listening = value;
    }

    /// <summary>Sends <paramref name="payload"/> on <paramref name="channel"/>; false when the database could not be reached.</summary>
    public async Task<bool> NotifyAsync(string channel, string payload, CancellationToken ct = default)
    {
        try
        {
            await using var command = _source.CreateCommand("SELECT pg_notify($1, $2)");
            command.Parameters.Add(new NpgsqlParameter { Value = channel });
            command.Parameters.Add(new NpgsqlParameter { Value = payload });
            await command.ExecuteNonQueryAsync(ct);
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            _logger.LogWarning("Could not signal other nodes on {Channel}: {Error}", channel, ex.Message);
            return false;
        }
    }

    internal ValueTask<NpgsqlConnection> OpenConnectionAsync(CancellationToken ct) => _source.OpenConnectionAsync(ct);

    public ValueTask DisposeAsync() => _source.DisposeAsync();
}
