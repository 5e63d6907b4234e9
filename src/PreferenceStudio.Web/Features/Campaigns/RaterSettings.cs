using System.Text.Json.Serialization;
using PreferenceStudio.Core.Data;

namespace PreferenceStudio.Web.Features.Campaigns;

/// <summary>
/// What raters meet in a campaign: its texts, the quota and completion code, playback and who may join. Set when the
/// campaign is created (the same fields of <see cref="CampaignSettings"/>) and changed later with
/// PUT /api/v1/campaigns/{id}/rater-settings or on the campaign page.
/// </summary>
public sealed class RaterSettings
{
    public const int MaxTextLength = 20_000;
    public const int MaxLabelsPerRater = 100_000;

    /// <summary>Markdown shown before the first pair and from the help button; no raw HTML.</summary>
    [JsonPropertyName("instructions")] public string Instructions { get; set; } = "";
    /// <summary>Markdown a rater must accept before the first pair; empty: none asked.</summary>
    [JsonPropertyName("consent")] public string Consent { get; set; } = "";
    /// <summary>Pairs each rater answers at most (null: no quota).</summary>
    [JsonPropertyName("labels_per_rater")] public int? LabelsPerRater { get; set; }
    /// <summary>Shown to a rater who has finished, to enter on the recruiting platform.</summary>
    [JsonPropertyName("completion_code")] public string CompletionCode { get; set; } = "";
    /// <summary>Where a rater who has finished is sent (http or https), e.g. the platform's completion address.</summary>
    [JsonPropertyName("completion_url")] public string CompletionUrl { get; set; } = "";
    /// <summary>The answer buttons wait until both clips have played through once.</summary>
    [JsonPropertyName("require_full_playback")] public bool RequireFullPlayback { get; set; }
    /// <summary>Most raters who may join by link (null: no limit).</summary>
    [JsonPropertyName("max_raters")] public int? MaxRaters { get; set; }
    /// <summary>Raters join only with a personal invite link.</summary>
    [JsonPropertyName("invite_only")] public bool InviteOnly { get; set; }

    public static RaterSettings Of(Campaign c) => new()
    {
        Instructions = c.Instructions, Consent = c.Consent, LabelsPerRater = c.LabelsPerRater, CompletionCode = c.CompletionCode,
        CompletionUrl = c.CompletionUrl, RequireFullPlayback = c.RequireFullPlayback, MaxRaters = c.MaxRaters, InviteOnly = c.InviteOnly,
    };

    /// <summary>Copies these fields into a campaign's creation settings (the admin form edits both at once).</summary>
    public void CopyTo(CampaignSettings s)
    {
        s.Instructions = Instructions; s.Consent = Consent; s.LabelsPerRater = LabelsPerRater; s.CompletionCode = CompletionCode;
        s.CompletionUrl = CompletionUrl; s.RequireFullPlayback = RequireFullPlayback; s.MaxRaters = MaxRaters; s.InviteOnly = InviteOnly;
    }

    public void ApplyTo(Campaign c)
    {
        c.Instructions = (Instructions ?? "").Trim();
        c.Consent = (Consent ?? "").Trim();
        c.LabelsPerRater = LabelsPerRater;
        c.CompletionCode = (CompletionCode ?? "").Trim();
        c.CompletionUrl = (CompletionUrl ?? "").Trim();
        c.RequireFullPlayback = RequireFullPlayback;
        c.MaxRaters = MaxRaters;
        c.InviteOnly = InviteOnly;
    }

    /// <summary>Adds an error per unusable field (by its JSON name).</summary>
    public static void Validate(string? instructions, string? consent, int? labelsPerRater, string? completionCode, string? completionUrl, int? maxRaters,
        Action<string, string> add)
    {
        if ((instructions ?? "").Length > MaxTextLength) add("instructions", $"The instructions have at most {MaxTextLength:N0} characters.");
        if ((consent ?? "").Length > MaxTextLength) add("consent", $"The consent text has at most {MaxTextLength:N0} characters.");
        if (labelsPerRater is < 1 or > MaxLabelsPerRater)
            add("labels_per_rater", $"The quota of pairs per rater must be between 1 and {MaxLabelsPerRater:N0}, or left out for none.");
        var code = (completionCode ?? "").Trim();
        if (code.Length > 100 || code.Any(char.IsControl)) add("completion_code", "A completion code has at most 100 characters and no line breaks.");
        var url = (completionUrl ?? "").Trim();
        if (url.Length > 0 && (url.Length > 2000 || !Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme is not ("https" or "http")))
            add("completion_url", "The completion URL is an absolute http or https address, e.g. https://app.prolific.com/submissions/complete?cc=XXXX.");
        if (maxRaters is < 1 or > CampaignSettingsValidator.MaxRaters)
            add("max_raters", $"The most raters must be between 1 and {CampaignSettingsValidator.MaxRaters:N0}, or left out for no limit.");
    }

    public Dictionary<string, string[]> Validate()
    {
        var errors = new Dictionary<string, List<string>>();
        Validate(Instructions, Consent, LabelsPerRater, CompletionCode, CompletionUrl, MaxRaters, (f, m) =>
        {
            if (!errors.TryGetValue(f, out var list)) errors[f] = list = [];
            list.Add(m);
        });
        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
    }
}
