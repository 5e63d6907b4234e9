namespace PreferenceStudio.Core.Data.Access;

/// <summary>
/// A rater's place in one campaign. Raters are not accounts: the server issues the identity (a protected cookie when
/// someone opens a join link, or a rater token for a scripted rater) and the rater is known to researchers, exports and
/// run metrics only by <see cref="Pseudonym"/>, which is per campaign. <see cref="RaterId"/> is internal and
/// never shown.
/// </summary>
public class CampaignRater
{
    public Guid CampaignId { get; set; }
    public string RaterId { get; set; } = "";
    /// <summary>How the campaign's researchers, its exports and its models name this rater; unique within the campaign.</summary>
    public string Pseudonym { get; set; } = "";
    /// <summary>See <see cref="RaterKinds"/>.</summary>
    public string Kind { get; set; } = RaterKinds.Human;
    /// <summary>UTC.</summary>
    public DateTimeOffset JoinedAt { get; set; } = DateTimeOffset.UtcNow;
    /// <summary>Lower-case hex SHA-256 of the rater token of a scripted rater; null for people.</summary>
    public string? TokenHash { get; set; }
    /// <summary>The personal invite link the rater joined with (invite-only campaigns).</summary>
    public Guid? InviteId { get; set; }
    /// <summary>UTC; set when a researcher erased this rater's data from the campaign. The identity is refused from then on.</summary>
    public DateTimeOffset? ErasedAt { get; set; }
    /// <summary>UTC; when the rater accepted the campaign's consent text (null: not yet, or none asked).</summary>
    public DateTimeOffset? ConsentedAt { get; set; }
    /// <summary>The recruiting platform the rater came from ("prolific", "mturk"), from the join link's parameters.</summary>
    public string? ParticipantPlatform { get; set; }
    /// <summary>The platform's id of the participant (Prolific PROLIFIC_PID, MTurk workerId); a return visit with it resumes this rater.</summary>
    public string? ParticipantId { get; set; }
    /// <summary>The platform's study (Prolific STUDY_ID, MTurk hitId).</summary>
    public string? ParticipantStudy { get; set; }
    /// <summary>The platform's session (Prolific SESSION_ID, MTurk assignmentId).</summary>
    public string? ParticipantSession { get; set; }
    /// <summary>UTC; when the rater was first shown the completion code (quota reached or campaign over).</summary>
    public DateTimeOffset? CompletedAt { get; set; }

    public Rater? Rater { get; set; }
    /// <summary>A researcher's decision on whether this rater's labels train the models: null follows the campaign's
    /// rule (flagged raters left out when it says so), true always includes them, false always leaves them out.</summary>
    public bool? TrainingOverride { get; set; }
}

/// <summary>How a rater came to the campaign.</summary>
public static class RaterKinds
{
    /// <summary>A person who opened a join link.</summary>
    public const string Human = "human";
    /// <summary>A program with a rater token, created by a researcher.</summary>
    public const string Scripted = "scripted";
    /// <summary>A simulated teacher with a rater token, created by a researcher; its labels are marked simulated.</summary>
    public const string Simulated = "simulated";
    /// <summary>Named in an imported file.</summary>
    public const string Imported = "imported";

    public static readonly IReadOnlyList<string> Creatable = [Scripted, Simulated];
}
