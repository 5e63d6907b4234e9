using System.Security.Cryptography;
using System.Text;
using System.Globalization;
using PreferenceStudio.Environments;

namespace PreferenceStudio.Core.Data;

/// <summary>A stored trajectory segment (table "segments"), the unit raters compare.</summary>
public class SegmentRecord
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public Guid CampaignId { get; set; }
    public Guid? RoundId { get; set; }
    public Guid? RolloutId { get; set; }
    /// <summary>Step of the rollout the segment starts at; null for imported segments.</summary>
    public int? StartStep { get; set; }
    public double[][] States { get; set; } = [];
    public double[][] Actions { get; set; } = [];
    /// <summary>Per-step true-reward features, one vector per action.</summary>
    public float[][]? Features { get; set; }
    public double? TrueReturn { get; set; }
    /// <summary>SHA-256 hex of the canonical states and actions; see <see cref="ComputeContentHash"/>.</summary>
    public string ContentHash { get; set; } = "";

    public List<Clip> Clips { get; set; } = [];

    /// <summary>The segment as the environments' record.</summary>
    public Segment ToSegment() => new(States, Actions);

    /// <summary>
    /// Lowercase SHA-256 hex of "s:v,v;v,v|a:a a,a a" with round-trip ("R") formatting under the invariant culture,
    /// so equal segments hash equally across machines and imports can be deduplicated.
    /// </summary>
    public static string ComputeContentHash(double[][] states, double[][] actions)
    {
        var text = new StringBuilder("s:");
        for (int i = 0; i < states.Length; i++)
        {
            if (i > 0) text.Append(';');
            text.AppendJoin(',', states[i].Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
        }
        // Entries of one action are space-separated, so a discrete action [3] reads "3" as before actions were vectors.
        text.Append("|a:").AppendJoin(',', actions.Select(a => string.Join(' ', a.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>A record for <paramref name="segment"/> with its content hash filled in.</summary>
    public static SegmentRecord From(Guid campaignId, Segment segment) => new()
    {
        CampaignId = campaignId,
        States = segment.States,
        Actions = segment.Actions,
        ContentHash = ComputeContentHash(segment.States, segment.Actions),
    };
}
