namespace PreferenceStudio.Core.Data.Access;

/// <summary>
/// A researcher's API token. The secret is shown once when it is created; only its SHA-256 is kept. A token carries
/// scopes (see <see cref="ApiScopes"/>) and never more than its owner may do.
/// </summary>
public class ApiToken
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public string UserId { get; set; } = "";
    /// <summary>What the researcher called it ("laptop", "nightly export").</summary>
    public string Name { get; set; } = "";
    /// <summary>The token's first characters, shown in lists so a person can tell tokens apart.</summary>
    public string Prefix { get; set; } = "";
    /// <summary>Lower-case hex SHA-256 of the whole token.</summary>
    public string TokenHash { get; set; } = "";
    public string[] Scopes { get; set; } = [];
    /// <summary>UTC.</summary>
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    /// <summary>UTC; the token is refused from then on.</summary>
    public DateTimeOffset ExpiresAt { get; set; }
    /// <summary>UTC; set when revoked, refused from then on.</summary>
    public DateTimeOffset? RevokedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }

    public StudioUser? User { get; set; }
}

/// <summary>What an API token may be used for. A signed-in browser session has every scope its account's role allows.</summary>
public static class ApiScopes
{
    public const string CampaignsRead = "campaigns:read";
    public const string CampaignsWrite = "campaigns:write";
    public const string DatasetsRead = "datasets:read";
    public const string DatasetsWrite = "datasets:write";

    public static readonly IReadOnlyList<string> All = [CampaignsRead, CampaignsWrite, DatasetsRead, DatasetsWrite];

    public static string Describe(string scope) => scope switch
    {
        CampaignsRead => "read campaigns, runs, rankings, raters and members; watch live updates; fetch clips",
        CampaignsWrite => "create, start and pause campaigns; manage members, scripted raters, invite links; erase a rater's data",
        DatasetsRead => "export datasets and download reward-model checkpoints",
        DatasetsWrite => "import datasets",
        _ => scope,
    };
}
