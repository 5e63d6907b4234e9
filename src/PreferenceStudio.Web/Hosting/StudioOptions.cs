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

    public bool ApplyMigrationsOnStart { get; set; } = true;

    /// <summary>How often the background worker looks for durable jobs when it was not woken up.</summary>
    [Range(0.05, 60)]
    public double WorkerPollSeconds { get; set; } = 1;

    /// <summary>Turn the background worker off (for a web-only node, or tests that drive steps themselves).</summary>
    public bool RunWorker { get; set; } = true;

    public TrainingOptions Training { get; set; } = new();

    public string MediaPath => Path.Combine(DataRoot, "media");
    public string CheckpointPath => Path.Combine(DataRoot, "checkpoints");
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
