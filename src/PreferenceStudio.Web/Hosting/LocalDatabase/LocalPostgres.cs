using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace PreferenceStudio.Web.Hosting.LocalDatabase;

/// <summary>
/// Runs a private PostgreSQL cluster from the machine's server binaries, so the studio and its tests need no
/// database set up by hand. Initialises the cluster on first use (UTF8, superuser <c>postgres</c> with a generated
/// password and scram-sha-256 authentication, listening on 127.0.0.1 and a private socket), starts it with
/// <c>pg_ctl</c>, and reuses it when it is already running. The password is kept in
/// <c>&lt;data directory&gt;/superuser-password</c>, readable only by the user the studio runs as; a cluster made by
/// an older studio with trust authentication is given a password and switched to scram-sha-256 on its next start.
/// As root the server runs as the <c>postgres</c> OS user (PostgreSQL refuses to run as root).
/// </summary>
public static class LocalPostgres
{
    /// <summary>The command a person should run when the server binaries are missing.</summary>
    public const string InstallHint = "sudo apt-get install -y postgresql";

    /// <summary>Database superuser created by initdb; also the OS user the server runs as when we are root.</summary>
    public const string Superuser = "postgres";

    /// <summary>Database the studio uses.</summary>
    public const string DefaultDatabase = "studio";

    /// <summary>Port of the studio's own cluster (not 5432, to stay clear of a system PostgreSQL).</summary>
    public const int DefaultPort = 55432;

    /// <summary>Environment variable naming a folder with initdb, pg_ctl and postgres; checked first.</summary>
    public const string BinDirectoryVariable = "STUDIO_PG_BIN";

    /// <summary>File in the data directory holding the generated superuser password (mode 600).</summary>
    public const string PasswordFileName = "superuser-password";

    private static readonly TimeSpan LockTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan AptTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Makes sure a cluster in <paramref name="dataDirectory"/> is running on 127.0.0.1:<paramref name="port"/>
    /// with the database <c>studio</c>, and returns its connection string. Safe to call repeatedly and from
    /// several processes at once.
    /// </summary>
    public static Task<string> EnsureRunningAsync(string dataDirectory, int port, ILogger? logger = null,
        CancellationToken cancellationToken = default) =>
        EnsureRunningAsync(new LocalPostgresOptions(dataDirectory, port), logger, cancellationToken);

    /// <inheritdoc cref="EnsureRunningAsync(string, int, ILogger?, CancellationToken)"/>
    /// <exception cref="InvalidOperationException">The binaries are missing and could not be installed, or the
    /// cluster could not be initialised or started; the message says why and what to do.</exception>
    public static async Task<string> EnsureRunningAsync(LocalPostgresOptions options, ILogger? logger = null,
        CancellationToken cancellationToken = default)
    {
        var requested = new Layout(options.DataDirectory);
        Directory.CreateDirectory(requested.Root);
        await using var fileLock = await AcquireLockAsync(requested.LockFile, cancellationToken);

        var bin = FindServerBinaries() ?? await InstallAsync(options.AllowInstall, logger, cancellationToken);
        var runAs = Environment.IsPrivilegedProcess ? Superuser : null;
        await EnsureOsUserAsync(runAs, cancellationToken);
        var layout = await ResolveLayoutAsync(requested, runAs, logger, cancellationToken);
        await PrepareDirectoriesAsync(layout, runAs, cancellationToken);

        // The password file stays in the requested folder, owned by the studio's user, even when the cluster itself
        // had to be relocated for the server's OS user.
        var passwordFile = Path.Combine(requested.Root, PasswordFileName);
        bool fresh = !File.Exists(Path.Combine(layout.PgData, "PG_VERSION"));
        if (fresh && !File.Exists(passwordFile)) WritePasswordFile(passwordFile, NewPassword());
        var password = ReadPasswordFile(passwordFile, layout, fresh);
        if (fresh)
        {
            logger?.LogInformation("Initialising a PostgreSQL cluster in {PgData}", layout.PgData);
            await InitialiseAsync(bin, layout, password, runAs, cancellationToken);
        }

        int port = options.Port;
        if (await RunningPortAsync(bin, layout, runAs, cancellationToken) is { } runningPort)
        {
            if (runningPort != port)
                logger?.LogWarning("PostgreSQL in {PgData} is already running on port {Running}, not {Requested}; using it",
                    layout.PgData, runningPort, port);
            port = runningPort;
        }
        else
        {
            logger?.LogInformation("Starting PostgreSQL from {PgData} on 127.0.0.1:{Port} (fsync {Fsync})",
                layout.PgData, port, options.Fsync ? "on" : "off");
            await StartAsync(bin, layout, options, runAs, cancellationToken);
        }

        await WaitForConnectionsAsync(port, password, options.StartTimeout, layout, cancellationToken);
        await RequirePasswordsAsync(port, password, layout, logger, cancellationToken);
        await EnsureDatabaseAsync(port, password, options.Database, cancellationToken);
        return ConnectionString(port, password, options.Database);
    }

    private static string NewPassword() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(24));

    private static void WritePasswordFile(string path, string password)
    {
        // Created with mode 600, so there is no moment in which another user could open it.
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        using var writer = new StreamWriter(stream);
        writer.Write(password);
    }

    private static string ReadPasswordFile(string path, Layout layout, bool fresh)
    {
        if (!File.Exists(path))
        {
            // A cluster made by a studio that used trust authentication: give it a password now (RequirePasswordsAsync
            // sets it while trust still lets us in).
            if (UsesTrust(layout)) { WritePasswordFile(path, NewPassword()); }
            else
                throw new InvalidOperationException(
                    $"The PostgreSQL cluster in '{layout.PgData}' uses password authentication, but its password file '{path}' is missing. "
                    + "Restore the file, or stop the cluster and delete its folder to start afresh (its data is lost).");
        }
        var password = File.ReadAllText(path).Trim();
        if (password.Length == 0 && !fresh)
            throw new InvalidOperationException($"The password file '{path}' is empty; restore it or delete the cluster folder to start afresh.");
        return password;
    }

    private static async Task InitialiseAsync(string bin, Layout layout, string password, string? runAs, CancellationToken cancellationToken)
    {
        // initdb runs as the server's OS user and must read the password: a copy readable by that user only, removed after.
        var pwfile = Path.Combine(layout.Root, ".initdb-password");
        File.Delete(pwfile);
        WritePasswordFile(pwfile, password);
        try
        {
            if (runAs is not null) await RunCheckedAsync("chown", [$"{runAs}:", pwfile], null, "chown", cancellationToken);
            await RunCheckedAsync(Path.Combine(bin, "initdb"),
                ["-D", layout.PgData, "-U", Superuser, "--auth=scram-sha-256", $"--pwfile={pwfile}", "-E", "UTF8", "--locale=C"],
                runAs, "initdb", cancellationToken);
        }
        finally
        {
            File.Delete(pwfile);
        }
    }

    private static string HbaFile(Layout layout) => Path.Combine(layout.PgData, "pg_hba.conf");

    /// <summary>Whether pg_hba.conf lets anyone in without a password (a cluster made before passwords were generated).</summary>
    private static bool UsesTrust(Layout layout) =>
        File.Exists(HbaFile(layout)) && File.ReadLines(HbaFile(layout)).Any(IsTrustLine);

    private static bool IsTrustLine(string line)
    {
        var trimmed = line.Trim();
        return trimmed.Length > 0 && !trimmed.StartsWith('#')
            && trimmed.Split((char[])[' ', '\t'], StringSplitOptions.RemoveEmptyEntries) is { Length: >= 4 } fields && fields[^1] == "trust";
    }

    /// <summary>Turns trust authentication into scram-sha-256 with the generated password, then reloads the server.</summary>
    private static async Task RequirePasswordsAsync(int port, string password, Layout layout, ILogger? logger, CancellationToken cancellationToken)
    {
        if (!UsesTrust(layout)) return;
        logger?.LogWarning("The PostgreSQL cluster in {PgData} lets anyone on this machine in without a password (trust); setting a generated password and switching to scram-sha-256", layout.PgData);
        await using (var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString(port, password, "postgres")) { Pooling = false }.ConnectionString))
        {
            await connection.OpenAsync(cancellationToken);
            // DDL takes no parameters; the password is hex, so quoting it is safe.
            await using (var alter = new NpgsqlCommand($"SET password_encryption = 'scram-sha-256'; ALTER ROLE {QuoteIdentifier(Superuser)} PASSWORD '{password}'", connection))
                await alter.ExecuteNonQueryAsync(cancellationToken);
            var lines = (await File.ReadAllLinesAsync(HbaFile(layout), cancellationToken))
                .Select(l => IsTrustLine(l) ? l.TrimEnd()[..^"trust".Length] + "scram-sha-256" : l);
            await File.WriteAllLinesAsync(HbaFile(layout), lines, cancellationToken);
            await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", connection);
            await reload.ExecuteNonQueryAsync(cancellationToken);
        }
        // The reload is asynchronous in the server: wait until a wrong password is refused.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (await AcceptsWithoutPasswordAsync(port, cancellationToken) && DateTime.UtcNow < deadline)
            await Task.Delay(100, cancellationToken);
    }

    /// <summary>Whether the server lets a connection in without the password (for tests and the trust migration).</summary>
    public static async Task<bool> AcceptsWithoutPasswordAsync(int port, CancellationToken cancellationToken = default)
    {
        var cs = new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = port, Database = "postgres", Username = Superuser, Password = "wrong", Pooling = false, Timeout = 5 };
        try
        {
            await using var connection = new NpgsqlConnection(cs.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            return true;
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidPassword)
        {
            return false;
        }
    }

    /// <summary>Stops the cluster in <paramref name="dataDirectory"/> (fast shutdown) if it is running.</summary>
    public static async Task StopAsync(string dataDirectory, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var runAs = Environment.IsPrivilegedProcess ? Superuser : null;
        var layout = await ResolveLayoutAsync(new Layout(dataDirectory), runAs, logger, cancellationToken);
        if (!File.Exists(Path.Combine(layout.PgData, "PG_VERSION"))) return;
        var bin = FindServerBinaries() ?? throw MissingBinaries(null);
        if (await RunningPortAsync(bin, layout, runAs, cancellationToken) is null) return;
        logger?.LogInformation("Stopping PostgreSQL in {PgData}", layout.PgData);
        await RunCheckedAsync(Path.Combine(bin, "pg_ctl"), ["-D", layout.PgData, "-m", "fast", "-w", "stop"],
            runAs, "pg_ctl stop", cancellationToken);
    }

    /// <summary>
    /// Restarts the running cluster in <paramref name="dataDirectory"/> with a fast shutdown (every session is ended, as
    /// in a real restart or fail-over), waiting until it accepts connections again.
    /// </summary>
    public static async Task RestartAsync(string dataDirectory, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        var runAs = Environment.IsPrivilegedProcess ? Superuser : null;
        var layout = await ResolveLayoutAsync(new Layout(dataDirectory), runAs, logger, cancellationToken);
        var bin = FindServerBinaries() ?? throw MissingBinaries(null);
        logger?.LogInformation("Restarting PostgreSQL in {PgData}", layout.PgData);
        await RunCheckedAsync(Path.Combine(bin, "pg_ctl"), ["-D", layout.PgData, "-m", "fast", "-w", "-l", layout.LogFile, "restart"],
            runAs, "pg_ctl restart", cancellationToken);
    }

    /// <summary>Connection string for the superuser over TCP on 127.0.0.1.</summary>
    public static string ConnectionString(int port, string password, string database = DefaultDatabase) =>
        new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Database = database,
            Username = Superuser,
            Password = password,
        }.ConnectionString;

    /// <summary>
    /// Folder holding initdb, pg_ctl and postgres: <c>$STUDIO_PG_BIN</c>, the newest
    /// <c>/usr/lib/postgresql/*/bin</c>, <c>pg_config --bindir</c>, then PATH. Null when none is found.
    /// </summary>
    public static string? FindServerBinaries()
    {
        var configured = Environment.GetEnvironmentVariable(BinDirectoryVariable);
        if (!string.IsNullOrWhiteSpace(configured) && HasServerBinaries(configured)) return configured;

        const string debianRoot = "/usr/lib/postgresql";
        if (Directory.Exists(debianRoot))
        {
            var newest = Directory.GetDirectories(debianRoot)
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: double.TryParse(Path.GetFileName(d),
                    System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0))
                .Where(c => HasServerBinaries(c.Dir))
                .OrderByDescending(c => c.Version)
                .Select(c => c.Dir)
                .FirstOrDefault();
            if (newest is not null) return newest;
        }

        var pathDirs = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        if (pathDirs.Select(d => Path.Combine(d, "pg_config")).FirstOrDefault(File.Exists) is { } pgConfig)
        {
            try
            {
                var (exit, output) = RunAsync(pgConfig, ["--bindir"], null, CancellationToken.None).GetAwaiter().GetResult();
                var dir = output.Trim();
                if (exit == 0 && HasServerBinaries(dir)) return dir;
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // A broken pg_config only means we look elsewhere.
            }
        }

        return pathDirs.FirstOrDefault(HasServerBinaries);
    }

    private static bool HasServerBinaries(string dir) =>
        File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl"))
        && File.Exists(Path.Combine(dir, "postgres"));

    private sealed record Layout(string DataDirectory)
    {
        public string Root { get; } = Path.GetFullPath(DataDirectory);
        public string PgData => Path.Combine(Root, "pgdata");
        public string LogFile => Path.Combine(Root, "postgres.log");
        public string LockFile => Path.Combine(Root, ".lock");

        // Unix socket paths are limited to about 107 bytes; a deep checkout would overflow it.
        public string SocketDirectory
        {
            get
            {
                var inside = Path.Combine(Root, "socket");
                if (inside.Length + "/.s.PGSQL.65535".Length < 100) return inside;
                var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(Root)))[..12];
                return Path.Combine(Path.GetTempPath(), $"studio-pg-{hash}");
            }
        }
    }

    private static async Task<FileStream> AcquireLockAsync(string path, CancellationToken cancellationToken)
    {
        // FileShare.None takes an exclusive flock on Unix, so two processes (web app and CLI, or two test runs)
        // never initialise or start the same cluster at once.
        var deadline = DateTime.UtcNow + LockTimeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(100, cancellationToken);
            }
        }
    }

    /// <summary>Where clusters go when the project folder is out of the server user's reach.</summary>
    public const string RelocatedRoot = "/var/lib/preferencestudio/clusters";

    /// <summary>Where the cluster for <paramref name="dataDirectory"/> lives when it has to be relocated.</summary>
    public static string RelocatedDirectoryFor(string dataDirectory) =>
        Path.Combine(RelocatedRoot, Convert.ToHexStringLower(
            System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(dataDirectory))))[..16]);

    private static async Task EnsureOsUserAsync(string? runAs, CancellationToken cancellationToken)
    {
        if (runAs is null) return;
        var (idExit, _) = await RunAsync("id", ["-u", runAs], null, cancellationToken);
        if (idExit != 0)
            throw new InvalidOperationException(
                $"Running as root, PostgreSQL must run as the '{runAs}' OS user, which does not exist. Install the server "
                + $"package (`{InstallHint}`, which creates it) or run the studio as an ordinary user.");
    }

    /// <summary>
    /// The requested folder, unless we run as root and the server's OS user cannot reach it (a checkout under /root,
    /// whose mode is 700): then a folder of its own under <see cref="RelocatedRoot"/>, named by the requested path, so
    /// every start from that checkout finds the same cluster. A note in the requested folder says where it went.
    /// Permissions of the user's folders are never changed.
    /// </summary>
    private static async Task<Layout> ResolveLayoutAsync(Layout requested, string? runAs, ILogger? logger, CancellationToken cancellationToken)
    {
        if (runAs is null) return requested;
        Directory.CreateDirectory(requested.Root);
        var (reachable, _) = await RunAsync("test", ["-x", requested.Root], runAs, cancellationToken);
        if (reachable == 0) return requested;

        var relocated = new Layout(RelocatedDirectoryFor(requested.Root));
        Directory.CreateDirectory(relocated.Root);
        await RunCheckedAsync("chmod", ["755", "/var/lib/preferencestudio", RelocatedRoot], null, "chmod", cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(requested.Root, "RELOCATED.txt"),
            $"The '{runAs}' OS user cannot reach this folder, so the PostgreSQL cluster of {requested.Root} lives in {relocated.Root}.\n",
            cancellationToken);
        logger?.LogWarning("The {User} OS user cannot reach {Requested}; the cluster lives in {Relocated} instead",
            runAs, requested.Root, relocated.Root);
        return relocated;
    }

    private static async Task PrepareDirectoriesAsync(Layout layout, string? runAs, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(layout.SocketDirectory);
        if (runAs is null) return;

        // The server writes the cluster, socket and log as that user.
        await RunCheckedAsync("chown", [$"{runAs}:", layout.Root, layout.SocketDirectory], null, "chown", cancellationToken);
        var (canWrite, _) = await RunAsync("test", ["-w", layout.Root, "-a", "-x", layout.Root], runAs, cancellationToken);
        if (canWrite != 0)
            throw new InvalidOperationException(
                $"The '{runAs}' OS user cannot reach '{layout.Root}': a parent folder is not searchable by other users "
                + "(e.g. a checkout under /root). Give the parents o+x, or set STUDIO_DATA_ROOT to a folder it can reach.");
    }

    private static async Task<int?> RunningPortAsync(string bin, Layout layout, string? runAs, CancellationToken cancellationToken)
    {
        // pg_ctl status: 0 running, 3 not running, 4 no data directory.
        var (exit, _) = await RunAsync(Path.Combine(bin, "pg_ctl"), ["-D", layout.PgData, "status"], runAs, cancellationToken);
        if (exit != 0) return null;
        // Line 4 of postmaster.pid is the port the running server listens on.
        var lines = await File.ReadAllLinesAsync(Path.Combine(layout.PgData, "postmaster.pid"), cancellationToken);
        return lines.Length > 3 && int.TryParse(lines[3].Trim(), out var port) ? port : null;
    }

    private static async Task StartAsync(string bin, Layout layout, LocalPostgresOptions options, string? runAs,
        CancellationToken cancellationToken)
    {
        var serverOptions = new StringBuilder()
            .Append($"-p {options.Port} -k {ShellQuote(layout.SocketDirectory)} -c listen_addresses=127.0.0.1")
            .Append($" -c max_connections={options.MaxConnections}");
        if (!options.Fsync) serverOptions.Append(" -c fsync=off -c synchronous_commit=off -c full_page_writes=off");

        var (exit, output) = await RunAsync(Path.Combine(bin, "pg_ctl"),
            ["-D", layout.PgData, "-l", layout.LogFile, "-w", "-t", ((int)options.StartTimeout.TotalSeconds).ToString(),
             "-o", serverOptions.ToString(), "start"], runAs, cancellationToken);
        if (exit != 0)
            throw new InvalidOperationException(
                $"PostgreSQL did not start from '{layout.PgData}' on port {options.Port} (pg_ctl exit {exit}). "
                + $"Is the port in use?{Environment.NewLine}{output}{Environment.NewLine}Server log:{Environment.NewLine}{LogTail(layout)}");
    }

    private static async Task WaitForConnectionsAsync(int port, string password, TimeSpan timeout, Layout layout, CancellationToken cancellationToken)
    {
        var cs = new NpgsqlConnectionStringBuilder(ConnectionString(port, password, "postgres")) { Timeout = 5, Pooling = false }.ConnectionString;
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(cs);
                await connection.OpenAsync(cancellationToken);
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InvalidPassword)
            {
                throw new InvalidOperationException(
                    $"PostgreSQL on 127.0.0.1:{port} refuses the password in {PasswordFileName}: the file does not belong to this cluster. "
                    + "Restore the right file, or stop the cluster and delete its folder to start afresh (its data is lost).", e);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200, cancellationToken);
            }
            catch (Exception e) when (e is NpgsqlException or TimeoutException)
            {
                throw new InvalidOperationException(
                    $"PostgreSQL on 127.0.0.1:{port} does not accept connections: {e.Message}{Environment.NewLine}"
                    + $"Server log:{Environment.NewLine}{LogTail(layout)}", e);
            }
        }
    }

    private static async Task EnsureDatabaseAsync(int port, string password, string database, CancellationToken cancellationToken)
    {
        var cs = new NpgsqlConnectionStringBuilder(ConnectionString(port, password, "postgres")) { Pooling = false }.ConnectionString;
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync(cancellationToken);
        await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
        exists.Parameters.AddWithValue("name", database);
        if (await exists.ExecuteScalarAsync(cancellationToken) is not null) return;
        try
        {
            await using var create = new NpgsqlCommand($"CREATE DATABASE {QuoteIdentifier(database)}", connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.DuplicateDatabase)
        {
            // Created by another process in the meantime (e.g. a test fixture against a shared server).
        }
    }

    /// <summary>Double-quotes a PostgreSQL identifier.</summary>
    public static string QuoteIdentifier(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";

    private static async Task<string> InstallAsync(bool allowInstall, ILogger? logger, CancellationToken cancellationToken)
    {
        string? installLog = null;
        var apt = new[] { "/usr/bin/apt-get", "/bin/apt-get" }.FirstOrDefault(File.Exists);
        if (allowInstall && Environment.IsPrivilegedProcess && apt is not null)
        {
            logger?.LogWarning("PostgreSQL server binaries not found; installing them with apt-get");
            var (exit, log) = await RunAsync(apt, ["-o", "DPkg::Lock::Timeout=600", "install", "-y", "postgresql"], null, cancellationToken, AptTimeout);
            if (exit != 0)
            {
                // A fresh image usually has no package lists yet.
                var (_, updateLog) = await RunAsync(apt, ["update"], null, cancellationToken, AptTimeout);
                (_, var retryLog) = await RunAsync(apt, ["-o", "DPkg::Lock::Timeout=600", "install", "-y", "postgresql"], null, cancellationToken, AptTimeout);
                log = log + updateLog + retryLog;
            }
            if (FindServerBinaries() is { } installed) return installed;
            installLog = log;
        }
        throw MissingBinaries(installLog);
    }

    private static InvalidOperationException MissingBinaries(string? installLog) => new(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) were not found in /usr/lib/postgresql/*/bin, "
        + $"pg_config --bindir or PATH. Install them with `{InstallHint}`, or set {BinDirectoryVariable} to their folder."
        + (installLog is null ? "" : $" An automatic apt-get install failed:{Environment.NewLine}{Tail(installLog, 2000)}"));

    private static string LogTail(Layout layout)
    {
        try { return File.Exists(layout.LogFile) ? Tail(File.ReadAllText(layout.LogFile), 2000) : "(no log file)"; }
        catch (IOException e) { return $"(log unreadable: {e.Message})"; }
    }

    private static string Tail(string text, int chars) => text.Length <= chars ? text : "..." + text[^chars..];

    // pg_ctl hands -o to /bin/sh, so paths inside it need shell quoting.
    private static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''") + "'";

    private static async Task RunCheckedAsync(string program, string[] arguments, string? runAs, string what,
        CancellationToken cancellationToken)
    {
        var (exit, output) = await RunAsync(program, arguments, runAs, cancellationToken);
        if (exit != 0)
            throw new InvalidOperationException($"{what} failed (exit {exit}):{Environment.NewLine}{Tail(output, 3000)}");
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string program, string[] arguments, string? runAs,
        CancellationToken cancellationToken, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo(runAs is null ? program : "runuser")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            // The postgres user may not be able to enter the caller's working directory.
            WorkingDirectory = "/",
        };
        if (runAs is not null)
        {
            foreach (var a in new[] { "-u", runAs, "--", program }) info.ArgumentList.Add(a);
        }
        foreach (var a in arguments) info.ArgumentList.Add(a);
        info.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        info.Environment["LC_ALL"] = "C";

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {program}.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, (await stdout) + (await stderr));
    }
}
