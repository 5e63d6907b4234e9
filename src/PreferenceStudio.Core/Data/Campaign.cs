using System.Security.Cryptography;

namespace PreferenceStudio.Core.Data;

/// <summary>A preference-learning campaign: an environment, a schedule of rounds, and the people who label it.</summary>
public class Campaign
{
    public Guid Id { get; set; } = Guid.CreateVersion7();
    public string Name { get; set; } = "";
    /// <summary>Environment name as registered in the environment registry, e.g. "delivery-gridworld".</summary>
    public string Environment { get; set; } = "delivery-gridworld";
    public string Board { get; set; } = "standard";
    public int SegmentLength { get; set; }
    public int PairsPerRound { get; set; }
    public int LabelsPerRound { get; set; }
    public int RoundCount { get; set; }
    public int Seed { get; set; }
    /// <summary>Preference model to train, e.g. "bt" (Bradley-Terry).</summary>
    public string RewardModel { get; set; } = "bt";
    public CampaignStatus Status { get; set; } = CampaignStatus.Draft;
    /// <summary>Short url-safe code raters use to join; unique across campaigns.</summary>
    public string JoinCode { get; set; } = NewJoinCode();
    public int CurrentRound { get; set; }
    /// <summary>UTC; Npgsql rejects non-zero offsets for timestamptz.</summary>
    public DateTimeOffset CreatedAt { get; set; } = DateTimeOffset.UtcNow;
    public string? StatusMessage { get; set; }

    public List<Round> Rounds { get; set; } = [];

    // No 0/o/1/l/i so a code read aloud or from a projector is not misread.
    private const string JoinCodeAlphabet = "23456789abcdefghjkmnpqrstuvwxyz";

    /// <summary>A random 8-character code from a lowercase alphabet without look-alike characters.</summary>
    public static string NewJoinCode(int length = 8) =>
        RandomNumberGenerator.GetString(JoinCodeAlphabet, length);
}
