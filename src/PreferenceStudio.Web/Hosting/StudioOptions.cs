using PreferenceStudio.Core.Data;
using System.ComponentModel.DataAnnotations;

namespace PreferenceStudio.Web.Hosting;

/// <summary>Settings of the studio host, bound from the "Studio" section of appsettings.json.</summary>
public sealed class StudioOptions
{
    public const string Section = "Studio";

    /// <summary>Folder for the local database cluster, media and checkpoints; empty means "&lt;content root&gt;/.studio".</summary>
    public string DataRoot { get; set; } = "";

    /// <summary>Port of the project-local PostgreSQL cluster started when no connection string is configured.</summary>
    [Range(1024, 65535)]
    public int LocalDatabasePort { get; set; } = 55432;

    public bool SeedDemoCampaign { get; set; } = true;

    /// <summary>Apply pending migrations when the web host starts. Null (the default): only in Development; elsewhere
    /// run <c>studio migrate</c> or apply <c>studio migrate --script</c>, or set this to true.</summary>
    public bool? ApplyMigrationsOnStart { get; set; }

    /// <summary>Install missing PostgreSQL server binaries and ffmpeg with apt-get (as root). Null (the default): only in Development.</summary>
    public bool? InstallMissingTools { get; set; }

    /// <summary>Serve the OpenAPI document at /openapi/v1.json. Null (the default): only in Development.</summary>
    public bool? ServeOpenApi { get; set; }

    /// <summary>
    /// The address people reach the studio at (for example https://studio.example.org), used in set-up and invite
    /// links. Empty: the address of the request, or on the console the address the server listens on.
    /// </summary>
    public string PublicUrl { get; set; } = "";

    /// <summary>How often the background worker looks for durable jobs when it was not woken up.</summary>
    [Range(0.05, 60)]
    public double WorkerPollSeconds { get; set; } = 1;

    /// <summary>Turn the background worker off (for a web-only node, or tests that drive steps themselves).</summary>
    public bool RunWorker { get; set; } = true;

    /// <summary>
    /// What this process does: <c>all</c> (serve pages and the API, and run background jobs), <c>web</c> (serve only;
    /// jobs are left to workers) or <c>worker</c> (run jobs; pages and the API are not served, only the health
    /// endpoints). Any number of each can share one database.
    /// </summary>
    [RegularExpression("^(all|web|worker)$", ErrorMessage = "Studio:Role is all, web or worker.")]
    public string Role { get; set; } = "all";

    /// <summary>Whether this process runs the background worker (its role allows it and <see cref="RunWorker"/> is on).</summary>
    public bool RunsWorker => RunWorker && Role != "web";

    /// <summary>Whether this process serves pages and the API.</summary>
    public bool ServesWeb => Role != "worker";

    public TrainingOptions Training { get; set; } = new();

    public JobOptions Jobs { get; set; } = new();

    public SecurityOptions Security { get; set; } = new();

    public ImportOptions Import { get; set; } = new();

    /// <summary>Where clips, posters and checkpoints are shared between nodes (Studio:Media).</summary>
    public MediaOptions Media { get; set; } = new();

    public string MediaPath => Path.Combine(DataRoot, "media");
    public string CheckpointPath => Path.Combine(DataRoot, "checkpoints");
    /// <summary>ASP.NET Core Data Protection keys (they protect sign-in and rater cookies); readable by the studio only.</summary>
    public string KeysPath => Path.Combine(DataRoot, "keys");
}

/// <summary>How the background worker treats a step (preparing or training a round) that fails.</summary>
public sealed class JobOptions
{
    /// <summary>
    /// Tries of a step before its campaign is marked failed; a try whose worker died (its lease expired) counts.
    /// Failures that no retry can mend (labels a model cannot learn from) fail the campaign at once.
    /// </summary>
    [Range(1, 50)]
    public int MaxAttempts { get; set; } = Core.Data.JobQueue.DefaultMaxAttempts;

    /// <summary>Wait before the second try; doubled for each further one, up to <see cref="MaxRetryDelaySeconds"/>.</summary>
    [Range(0.01, 3600)]
    public double RetryDelaySeconds { get; set; } = 5;

    [Range(0.01, 86400)]
    public double MaxRetryDelaySeconds { get; set; } = 300;

    /// <summary>The kinds of job this worker takes (PrepareRound, TrainRound); empty: all. E.g. only TrainRound on a GPU machine.</summary>
    public List<JobKind> Kinds { get; set; } = [];

    /// <summary>The wait after a job's <paramref name="attempt"/>th try failed.</summary>
    public TimeSpan DelayAfter(int attempt) =>
        TimeSpan.FromSeconds(Math.Min(MaxRetryDelaySeconds, RetryDelaySeconds * Math.Pow(2, Math.Max(0, attempt - 1))));
}

public sealed class SecurityOptions
{
    /// <summary>Redirect HTTP to HTTPS and send HSTS. Null (the default): everywhere but Development.</summary>
    public bool? HttpsRedirection { get; set; }

    /// <summary>Trust X-Forwarded-For/-Proto/-Host from a reverse proxy (only from <see cref="KnownProxies"/> and <see cref="KnownNetworks"/>; loopback always).</summary>
    public bool ForwardedHeaders { get; set; }

    /// <summary>IP addresses of reverse proxies whose forwarded headers are trusted.</summary>
    public string[] KnownProxies { get; set; } = [];

    /// <summary>Networks (CIDR, e.g. 10.0.0.0/8) of reverse proxies whose forwarded headers are trusted.</summary>
    public string[] KnownNetworks { get; set; } = [];

    /// <summary>Failed sign-ins before an account is locked out, and for how long.</summary>
    [Range(1, 100)]
    public int MaxFailedSignIns { get; set; } = 5;

    [Range(1, 1440)]
    public int LockoutMinutes { get; set; } = 15;

    public RateLimitOptions RateLimits { get; set; } = new();
}

/// <summary>Requests allowed per minute; each is a fixed one-minute window.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Sign-in attempts (form posts) per client address.</summary>
    [Range(1, 1_000_000)]
    public int SignInPerClient { get; set; } = 10;

    /// <summary>Join-link openings per client address.</summary>
    [Range(1, 1_000_000)]
    public int JoinPerClient { get; set; } = 30;

    /// <summary>Labels per client address (many raters behind one address share it).</summary>
    [Range(1, 10_000_000)]
    public int LabelsPerClient { get; set; } = 6000;

    /// <summary>Labels per rater.</summary>
    [Range(1, 1_000_000)]
    public int LabelsPerRater { get; set; } = 120;
}

public sealed class ImportOptions
{
    /// <summary>Largest import body in bytes; a larger one is answered 413 (the human dataset of 9,630 comparisons is 3.2 MB).</summary>
    [Range(1, long.MaxValue)]
    public long MaxBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Most steps (actions) a segment of an imported comparison may have.</summary>
    [Range(1, 1_000_000)]
    public int MaxSegmentSteps { get; set; } = 2000;
}

public sealed class MediaOptions
{
    /// <summary>
    /// folder: files live in the data folder, which every node must share (one machine, a shared volume, NFS);
    /// s3: an S3-compatible bucket (<see cref="S3"/>) holds them and each node's data folder is its cache.
    /// </summary>
    [RegularExpression("^(folder|s3)$")]
    public string Store { get; set; } = "folder";

    public PreferenceStudio.Core.Media.Stores.S3StoreOptions S3 { get; set; } = new();
}

public sealed class TrainingOptions
{
    /// <summary>auto (CUDA when a CUDA libtorch is present), cpu or cuda.</summary>
    [RegularExpression("^(auto|cpu|cuda)$")]
    public string Device { get; set; } = "auto";

    /// <summary>Torch intra-op threads; keep below the core count so the web server stays responsive.</summary>
    [Range(1, 256)]
    public int Threads { get; set; } = 1;
}
