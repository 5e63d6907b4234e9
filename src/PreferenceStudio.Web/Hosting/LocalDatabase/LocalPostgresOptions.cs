namespace PreferenceStudio.Web.Hosting.LocalDatabase;

/// <summary>How <see cref="LocalPostgres"/> runs a private PostgreSQL cluster.</summary>
/// <param name="DataDirectory">
/// Folder the cluster owns: <c>pgdata/</c> (the cluster), <c>socket/</c>, <c>postgres.log</c> and a lock file.
/// </param>
/// <param name="Port">TCP port on 127.0.0.1.</param>
public sealed record LocalPostgresOptions(string DataDirectory, int Port)
{
    /// <summary>Database created if missing; the returned connection string points at it.</summary>
    public string Database { get; init; } = LocalPostgres.DefaultDatabase;

    /// <summary>
    /// Keep on for the studio: labels must survive a crash or power loss. Tests turn it off for speed
    /// (also turns off synchronous_commit and full_page_writes). Applies when the server is started.
    /// </summary>
    public bool Fsync { get; init; } = true;

    /// <summary>Whether a missing PostgreSQL may be installed with apt-get (only tried as root).</summary>
    public bool AllowInstall { get; init; } = true;

    /// <summary>Parallel test classes each keep a connection pool, so the default of 100 is too tight.</summary>
    public int MaxConnections { get; init; } = 300;

    /// <summary>How long to wait for the server to start and accept connections.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
