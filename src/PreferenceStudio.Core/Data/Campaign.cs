using PreferenceStudio.Environments.Hierarchy;
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
    /// <summary>Environment parameters by name (jsonb), validated against the environment's definition; missing ones take defaults.</summary>
    public Dictionary<string, double> EnvironmentParameters { get; set; } = [];
    /// <summary>Preference model whose reward trains the policy, e.g. "bt" (Bradley-Terry ensemble), "regret", "vpl".</summary>
    public string RewardModel { get; set; } = "bt";
    /// <summary>Further model types trained on the same labels each round, so their metrics can be compared.</summary>
    public string[] ComparisonModels { get; set; } = [];
    /// <summary>How a round's pairs are chosen: "random", "disagreement" (ensemble) or "info-gain" (VPL, per rater).</summary>
    public string QueryStrategy { get; set; } = "random";
    /// <summary>Train one policy per rater on that rater's reward (needs a per-rater model such as "vpl").</summary>
    public bool PersonalisedPolicies { get; set; }
    /// <summary>Environment steps of policy training per round (PPO, continuous environments).</summary>
    public int PolicySteps { get; set; } = 50_000;
    /// <summary>Continuous environments: "ppo", or "sac" (off-policy; its replay buffer is relabelled with each round's reward, PEBBLE).</summary>
    public string PolicyLearner { get; set; } = "ppo";
    /// <summary>Continuous environments: steps of unsupervised state-entropy exploration before the first round, whose clips it provides (0: none).</summary>
    public int ExplorationSteps { get; set; }
    /// <summary>SURF: every reward model also trains on temporally cropped pairs and confident pseudo-labels of unlabelled pairs.</summary>
    public bool Surf { get; set; }

    /// <summary>
    /// Which labels train the reward models: "clips" (raters' clip choices), "hierarchy" (pairs of the round's segments
    /// labelled automatically by each rater's factor ranking, the HERON rule) or "both". See <see cref="LabelSources"/>.
    /// </summary>
    public string LabelSource { get; set; } = LabelSources.Clips;
    /// <summary>How much one automatic hierarchy label counts against one clip label when both sources train.</summary>
    public double HierarchyWeight { get; set; } = 1.0;
    /// <summary>Pairs of the round's segments each rater's hierarchy is asked to label (undecided pairs are dropped).</summary>
    public int HierarchyPairsPerRound { get; set; } = 500;

    /// <summary>Most raters who may join by link (null: no limit); scripted raters a researcher creates are not counted.</summary>
    public int? MaxRaters { get; set; }
    /// <summary>Raters may join only with a personal invite link (<see cref="Access.RaterInvite"/>), not with the plain join link.</summary>
    public bool InviteOnly { get; set; }

    /// <summary>What raters read before and while they rate (Markdown, rendered without raw HTML).</summary>
    public string Instructions { get; set; } = "";
    /// <summary>Consent text a rater must accept before the first pair (Markdown); empty: none asked.</summary>
    public string Consent { get; set; } = "";
    /// <summary>Pairs each rater answers at most; when they have, they get the completion code. Null: no quota.</summary>
    public int? LabelsPerRater { get; set; }
    /// <summary>What a rater who finished is shown to enter on the recruiting platform (e.g. a Prolific completion code).</summary>
    public string CompletionCode { get; set; } = "";
    /// <summary>Where a rater who finished is sent (e.g. the platform's completion address); empty: they stay on the page.</summary>
    public string CompletionUrl { get; set; } = "";
    /// <summary>The answer buttons wait until both clips have played through once.</summary>
    public bool RequireFullPlayback { get; set; }

    /// <summary>Raters per pair (k): a pair is served to at most k raters at once and answered by at most k; null: no cap.</summary>
    public int? LabelsPerPair { get; set; }
    /// <summary>How long a served pair holds its place among the k before it is offered to someone else.</summary>
    public int ServingLeaseSeconds { get; set; } = 120;
    /// <summary>Share of servings that are gold pairs (0: none), mixed in at random, never one a rater has seen.</summary>
    public double GoldRate { get; set; }
    /// <summary>Each round adds gold pairs answered by the environment's true reward (where it has one).</summary>
    public bool GoldFromTrueReward { get; set; }
    /// <summary>Generated gold pairs' true returns differ by at least this fraction of a segment's mean absolute return.</summary>
    public double GoldMargin { get; set; } = 0.5;
    /// <summary>Gold pairs generated per round from the true reward.</summary>
    public int GoldPairsPerRound { get; set; } = 10;
    /// <summary>Gold pairs each rater answers first, told after each whether the answer matched.</summary>
    public int PracticeGoldPairs { get; set; }
    /// <summary>Raters whose gold accuracy falls below this are flagged (null: nobody is).</summary>
    public double? MinGoldAccuracy { get; set; }
    /// <summary>Flagged raters' labels are left out of training (a researcher may override per rater).</summary>
    public bool ExcludeFlaggedRaters { get; set; }
    /// <summary>How labels are weighted by their rater in every reward model: "none" or "reliability" (Dawid-Skene EM).</summary>
    public string RaterWeighting { get; set; } = "none";
    /// <summary>Answers faster than this many seconds are counted as suspiciously fast in the quality statistics.</summary>
    public double FastAnswerSeconds { get; set; } = 1.0;

    /// <summary>Whether raters are asked for a factor ranking (the campaign learns from hierarchies).</summary>
    public bool UsesFactorRankings => LabelSource is LabelSources.Hierarchy or LabelSources.Both;

    /// <summary>Every model type the campaign trains each round, the policy's first.</summary>
    public IEnumerable<string> AllRewardModels() => new[] { RewardModel }.Concat(ComparisonModels.Where(m => m != RewardModel)).Distinct();
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
