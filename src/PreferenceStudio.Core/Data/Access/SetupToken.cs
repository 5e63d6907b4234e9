namespace PreferenceStudio.Core.Data.Access;

/// <summary>
/// The one-time token of the first-start set-up link, with which the first administrator chooses a password. Only its
/// SHA-256 is kept; it is valid until used, and a new start without an administrator replaces it.
/// </summary>
public class SetupToken
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public string TokenHash { get; set; } = "";
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public DateTimeOffset? UsedAt { get; set; }
}
