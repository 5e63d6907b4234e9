namespace PreferenceStudio.Core.Infrastructure;

/// <summary>Where the studio keeps its local state (PostgreSQL cluster, media, checkpoints, logs).</summary>
public static class StudioPaths
{
    /// <summary>File that marks the repository root.</summary>
    public const string SolutionFileName = "PreferenceStudio.sln";

    /// <summary>Environment variable that overrides <see cref="DataRoot"/>.</summary>
    public const string DataRootVariable = "STUDIO_DATA_ROOT";

    /// <summary>
    /// The folder holding <c>PreferenceStudio.sln</c>, searched upwards from the current directory and then from
    /// the application's base directory; null when running outside a checkout (e.g. a container).
    /// </summary>
    public static string? FindRepositoryRoot() =>
        FindUpwards(Directory.GetCurrentDirectory()) ?? FindUpwards(AppContext.BaseDirectory);

    /// <summary>
    /// Root of local state: <c>$STUDIO_DATA_ROOT</c> if set, else <c>&lt;repo&gt;/.studio</c> (gitignored), else
    /// a per-user application-data folder.
    /// </summary>
    public static string DataRoot
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(DataRootVariable);
            if (!string.IsNullOrWhiteSpace(configured)) return Path.GetFullPath(configured);
            var repo = FindRepositoryRoot();
            if (repo is not null) return Path.Combine(repo, ".studio");
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData,
                Environment.SpecialFolderOption.Create), "preference-studio");
        }
    }

    /// <summary>The studio's own PostgreSQL cluster folder, <c>&lt;DataRoot&gt;/postgres</c>.</summary>
    public static string PostgresDirectory => Path.Combine(DataRoot, "postgres");

    private static string? FindUpwards(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, SolutionFileName))) return dir.FullName;
        return null;
    }
}
