using System.Security.Cryptography;
using System.Text;

namespace PreferenceStudio.Web.Features.Access;

/// <summary>
/// Random bearer secrets and their hashes. A secret has 256 random bits after a prefix saying what it is for
/// ("pst_" researcher API token, "psr_" rater token, "psi_" invite, "pss_" set-up link); the database keeps only
/// SHA-256 of it, which is enough for secrets this long (no password stretching needed) and lets a lookup be one
/// indexed equality.
/// </summary>
public static class SecretTokens
{
    public const string ApiPrefix = "pst_";
    public const string RaterPrefix = "psr_";
    public const string InvitePrefix = "psi_";
    public const string SetupPrefix = "pss_";

    public static string New(string prefix) => prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    /// <summary>A syntactically possible secret of this kind (so junk is refused before any database lookup).</summary>
    public static bool LooksLike(string? secret, string prefix) =>
        secret is { Length: > 4 and <= 100 } && secret.StartsWith(prefix, StringComparison.Ordinal)
        && secret.AsSpan(prefix.Length).IndexOfAnyExcept("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") < 0;

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
