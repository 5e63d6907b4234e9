using PreferenceStudio.Environments.Hierarchy;
using System.Text.Json.Serialization;
using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;

namespace PreferenceStudio.Web.Features.Campaigns;

/// <summary>What a researcher chooses when creating a campaign (the admin form and POST /api/v1/campaigns).</summary>
public sealed class CampaignSettings
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("environment")] public string Environment { get; set; } = "delivery-gridworld";
    [JsonPropertyName("board")] public string Board { get; set; } = "standard";
    [JsonPropertyName("segment_length")] public int SegmentLength { get; set; } = 10;
    [JsonPropertyName("pairs_per_round")] public int PairsPerRound { get; set; } = 40;
    [JsonPropertyName("labels_per_round")] public int LabelsPerRound { get; set; } = 40;
    [JsonPropertyName("rounds")] public int Rounds { get; set; } = 3;
    [JsonPropertyName("seed")] public int Seed { get; set; } = 1;

    /// <summary>Environment parameters by name; missing ones take the environment's defaults.</summary>
    [JsonPropertyName("environment_parameters")] public Dictionary<string, double> EnvironmentParameters { get; set; } = [];

    /// <summary>The reward model whose reward trains the policy: "bt", "regret" or "vpl".</summary>
    [JsonPropertyName("reward_model")] public string RewardModel { get; set; } = "bt";

    /// <summary>Further model types trained on the same labels each round, for comparison on the campaign page.</summary>
    [JsonPropertyName("comparison_models")] public string[] ComparisonModels { get; set; } = [];

    /// <summary>"random", "disagreement" (ensemble disagreement) or "info-gain" (VPL information gain per rater).</summary>
    [JsonPropertyName("query_strategy")] public string QueryStrategy { get; set; } = "random";

    /// <summary>Train each rater their own policy on their own reward (needs reward_model "vpl").</summary>
    [JsonPropertyName("personalised_policies")] public bool PersonalisedPolicies { get; set; }

    /// <summary>Environment steps of policy training per round, for continuous environments (null: the learner's default).</summary>
    [JsonPropertyName("policy_steps")] public int? PolicySteps { get; set; }

    /// <summary>Continuous environments: "ppo" or "sac" (off-policy, its replay buffer relabelled when the reward changes);
    /// null: the measured default (<see cref="PreferenceStudio.Learning.Policies.PolicyLearners.DefaultFor"/>).</summary>
    [JsonPropertyName("policy_learner")] public string? PolicyLearner { get; set; }

    /// <summary>Continuous environments: unsupervised state-entropy exploration steps before the first round (0: none;
    /// null: the environment's default).</summary>
    [JsonPropertyName("exploration_steps")] public int? ExplorationSteps { get; set; }

    /// <summary>The learner, steps and exploration this campaign runs with: given values, else the defaults for <paramref name="env"/>.</summary>
    public (string Learner, int PolicySteps, int ExplorationSteps) PolicyPlan(IPreferenceEnvironment env)
    {
        // Per-rater policies are trained with PPO, so a personalised campaign without a named learner gets PPO.
        var learner = PolicyLearner ?? (PersonalisedPolicies ? PreferenceStudio.Learning.Policies.PolicyLearners.Ppo
            : PreferenceStudio.Learning.Policies.PolicyLearners.DefaultFor(env));
        return (learner, PolicySteps ?? PreferenceStudio.Learning.Policies.PolicyLearners.DefaultSteps(learner),
            ExplorationSteps ?? (env.ActionSpace.IsDiscrete ? 0 : PreferenceStudio.Learning.Policies.PolicyLearners.DefaultExplorationSteps(env)));
    }

    /// <summary>SURF: temporal crops and confident pseudo-labels in every reward model's training.</summary>
    [JsonPropertyName("surf")] public bool Surf { get; set; }

    /// <summary>
    /// Which labels train the reward models: "clips" (raters' clip choices), "hierarchy" (pairs of each round's segments
    /// labelled automatically by each rater's factor ranking, the HERON rule) or "both".
    /// </summary>
    [JsonPropertyName("label_source")] public string LabelSource { get; set; } = LabelSources.Clips;

    /// <summary>How much one automatic hierarchy label counts against one clip label (Bradley-Terry models only).</summary>
    [JsonPropertyName("hierarchy_weight")] public double HierarchyWeight { get; set; } = 1.0;

    /// <summary>Pairs of each round's segments each rater's ranking labels (pairs no level decides are dropped).</summary>
    [JsonPropertyName("hierarchy_pairs_per_round")] public int HierarchyPairsPerRound { get; set; } = 500;

    /// <summary>Most raters who may join by link (null: no limit).</summary>
    [JsonPropertyName("max_raters")] public int? MaxRaters { get; set; }

    /// <summary>Raters join only with a personal invite link (POST .../invites makes a batch).</summary>
    [JsonPropertyName("invite_only")] public bool InviteOnly { get; set; }

    /// <summary>Markdown instructions for raters (see <see cref="RaterSettings"/>).</summary>
    [JsonPropertyName("instructions")] public string Instructions { get; set; } = "";
    /// <summary>Markdown consent text raters accept before the first pair; empty: none asked.</summary>
    [JsonPropertyName("consent")] public string Consent { get; set; } = "";
    /// <summary>Pairs each rater answers at most (null: no quota).</summary>
    [JsonPropertyName("labels_per_rater")] public int? LabelsPerRater { get; set; }
    /// <summary>Shown to a rater who has finished.</summary>
    [JsonPropertyName("completion_code")] public string CompletionCode { get; set; } = "";
    /// <summary>Where a rater who has finished is sent.</summary>
    [JsonPropertyName("completion_url")] public string CompletionUrl { get; set; } = "";
    /// <summary>The answer buttons wait until both clips have played once.</summary>
    [JsonPropertyName("require_full_playback")] public bool RequireFullPlayback { get; set; }

    /// <summary>Raters per pair (k): served to at most k at once, answered by at most k; null: no cap.</summary>
    [JsonPropertyName("labels_per_pair")] public int? LabelsPerPair { get; set; }
    /// <summary>Seconds a served pair keeps its place among the k before it is offered to someone else.</summary>
    [JsonPropertyName("serving_lease_seconds")] public int ServingLeaseSeconds { get; set; } = 120;
    /// <summary>Share of servings that are gold pairs (0 to 0.5).</summary>
    [JsonPropertyName("gold_rate")] public double GoldRate { get; set; }
    /// <summary>Each round adds gold pairs answered by the environment's true reward.</summary>
    [JsonPropertyName("gold_from_true_reward")] public bool GoldFromTrueReward { get; set; }
    /// <summary>Generated gold pairs' true returns differ by at least this fraction of the mean absolute segment return.</summary>
    [JsonPropertyName("gold_margin")] public double GoldMargin { get; set; } = 0.5;
    /// <summary>Gold pairs generated per round from the true reward.</summary>
    [JsonPropertyName("gold_pairs_per_round")] public int GoldPairsPerRound { get; set; } = 10;
    /// <summary>Gold pairs each rater answers first, with feedback.</summary>
    [JsonPropertyName("practice_gold_pairs")] public int PracticeGoldPairs { get; set; }
    /// <summary>Raters below this gold accuracy are flagged (null: nobody).</summary>
    [JsonPropertyName("min_gold_accuracy")] public double? MinGoldAccuracy { get; set; }
    /// <summary>Flagged raters' labels do not train the models (overridable per rater).</summary>
    [JsonPropertyName("exclude_flagged_raters")] public bool ExcludeFlaggedRaters { get; set; }
    /// <summary>"none" or "reliability": every model type weights each label by its rater's estimated reliability.</summary>
    [JsonPropertyName("rater_weighting")] public string RaterWeighting { get; set; } = "none";
    /// <summary>Answers faster than this (seconds) count as suspiciously fast in the quality statistics.</summary>
    [JsonPropertyName("fast_answer_seconds")] public double FastAnswerSeconds { get; set; } = 1.0;

    /// <summary>The rater-facing part of these settings.</summary>
    public RaterSettings RaterSettings() => new()
    {
        Instructions = Instructions, Consent = Consent, LabelsPerRater = LabelsPerRater, CompletionCode = CompletionCode,
        CompletionUrl = CompletionUrl, RequireFullPlayback = RequireFullPlayback, MaxRaters = MaxRaters, InviteOnly = InviteOnly,
    };
}

/// <summary>Field-level checks of <see cref="CampaignSettings"/>, shared by the admin form and the API.</summary>
public static class CampaignSettingsValidator
{
    public const int MaxSegmentLength = 50;
    public const int MaxPairsPerRound = 2000;
    public const int MaxRounds = 100;

    /// <summary>How many raters may label one pair; bounds the labels a round can ask for.</summary>
    public const int MaxLabelsPerPair = 5;

    public static readonly IReadOnlyList<string> Boards = ["standard"];

    public const int MinPolicySteps = 1_000;
    public const int MaxPolicySteps = 5_000_000;

    public const int MaxExplorationSteps = 1_000_000;

    public const int MaxHierarchyPairsPerRound = 100_000;
    public const int MaxRaters = 1_000_000;

    /// <summary>Query strategies a campaign can use (see Learning/QuerySelection).</summary>
    public static IReadOnlyList<string> QueryStrategies => PreferenceStudio.Learning.QuerySelection.QuerySelectors.Names;

    /// <summary>Errors by field name (the JSON name); empty when the settings are usable.</summary>
    public static Dictionary<string, string[]> Validate(CampaignSettings s)
    {
        var errors = new Dictionary<string, List<string>>();
        void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list)) errors[field] = list = [];
            list.Add(message);
        }

        if (string.IsNullOrWhiteSpace(s.Name)) Add("name", "Give the campaign a name.");
        else if (s.Name.Length > 200) Add("name", "A name has at most 200 characters.");

        IPreferenceEnvironment? env = null;
        var definition = EnvironmentRegistry.Find(s.Environment ?? "");
        if (definition is null)
            Add("environment", $"Unknown environment '{s.Environment}'. Choose one of: {string.Join(", ", EnvironmentRegistry.Names)}.");
        else
        {
            var parameterErrors = EnvironmentRegistry.Validate(definition, s.EnvironmentParameters);
            foreach (var (name, messages) in parameterErrors)
                foreach (var message in messages) Add($"environment_parameters.{name}", message + ".");
            if (parameterErrors.Count == 0)
            {
                try { env = EnvironmentRegistry.Create(definition.Name, s.EnvironmentParameters); }
                catch (ArgumentException e) { Add("environment_parameters", e.Message); }
            }
        }
        if (!Boards.Contains(s.Board)) Add("board", $"Unknown board '{s.Board}'. Choose one of: {string.Join(", ", Boards)}.");

        if (s.SegmentLength < 1 || s.SegmentLength > MaxSegmentLength)
            Add("segment_length", $"Segment length must be between 1 and {MaxSegmentLength} steps.");
        else if (env is not null && s.SegmentLength > env.MaxEpisodeSteps)
            Add("segment_length", $"Segment length cannot exceed the environment's episode length ({env.MaxEpisodeSteps} steps).");

        if (s.PairsPerRound < 2 || s.PairsPerRound > MaxPairsPerRound)
            Add("pairs_per_round", $"Pairs per round must be between 2 and {MaxPairsPerRound}.");
        if (s.LabelsPerRound < 1)
            Add("labels_per_round", "A round needs at least one label.");
        else if (s.PairsPerRound >= 2 && s.LabelsPerRound > s.PairsPerRound * MaxLabelsPerPair)
            Add("labels_per_round", $"A round of {s.PairsPerRound} pairs can collect at most {s.PairsPerRound * MaxLabelsPerPair} labels ({MaxLabelsPerPair} raters per pair); ask for fewer labels or more pairs.");
        if (s.Rounds < 1 || s.Rounds > MaxRounds)
            Add("rounds", $"Number of rounds must be between 1 and {MaxRounds}.");
        if (s.Seed < 0) Add("seed", "The seed must be zero or positive.");

        var modelTypes = PreferenceStudio.Learning.RewardModels.Types;
        if (!modelTypes.Contains(s.RewardModel ?? ""))
            Add("reward_model", $"Unknown reward model '{s.RewardModel}'. Choose one of: {string.Join(", ", modelTypes)}.");
        foreach (var m in (s.ComparisonModels ?? []).Where(m => !modelTypes.Contains(m ?? "")))
            Add("comparison_models", $"Unknown reward model '{m}'. Choose from: {string.Join(", ", modelTypes)}.");
        if (!QueryStrategies.Contains(s.QueryStrategy ?? ""))
            Add("query_strategy", $"Unknown query strategy '{s.QueryStrategy}'. Choose one of: {string.Join(", ", QueryStrategies)}.");
        else if (s.QueryStrategy == "info-gain" && s.RewardModel != "vpl")
            Add("query_strategy", "Information-gain queries need per-rater latents: choose reward model \"vpl\", or another strategy.");
        if (s.PersonalisedPolicies && s.RewardModel != "vpl")
            Add("personalised_policies", "Personalised policies need a per-rater reward: choose reward model \"vpl\".");
        if (s.PolicySteps is { } policySteps && (policySteps < MinPolicySteps || policySteps > MaxPolicySteps))
            Add("policy_steps", $"Policy training steps per round must be between {MinPolicySteps:N0} and {MaxPolicySteps:N0}.");
        var learners = PreferenceStudio.Learning.Policies.PolicyLearners.All;
        if (s.PolicyLearner is not null && !learners.Contains(s.PolicyLearner))
            Add("policy_learner", $"Unknown policy learner '{s.PolicyLearner}'. Choose one of: {string.Join(", ", learners)}.");
        else if (s.PolicyLearner == PreferenceStudio.Learning.Policies.PolicyLearners.Sac && s.PersonalisedPolicies)
            Add("policy_learner", "Personalised policies are trained with PPO; choose policy learner \"ppo\" or turn personalised policies off.");
        if (s.ExplorationSteps is < 0 or > MaxExplorationSteps)
            Add("exploration_steps", $"Exploration steps must be between 0 (none) and {MaxExplorationSteps:N0}.");
        if (env is not null && env.ActionSpace.IsDiscrete)
        {
            if (s.PolicyLearner == PreferenceStudio.Learning.Policies.PolicyLearners.Sac)
                Add("policy_learner", $"{env.Name} has discrete actions and is planned exactly; SAC is for continuous-action environments.");
            if (s.ExplorationSteps > 0)
                Add("exploration_steps", $"{env.Name} has discrete actions; exploration before the first round is for continuous-action environments (use 0).");
        }

        if (!LabelSources.All.Contains(s.LabelSource ?? ""))
            Add("label_source", $"Unknown label source '{s.LabelSource}'. Choose one of: {string.Join(", ", LabelSources.All)}.");
        else if (LabelSources.UsesHierarchy(s.LabelSource!) && env is not null && env.Factors.Count == 0)
            Add("label_source", $"{env.Name} names no reward factors for raters to rank; choose label source \"{LabelSources.Clips}\".");
        if (!double.IsFinite(s.HierarchyWeight) || s.HierarchyWeight <= 0)
            Add("hierarchy_weight", "The hierarchy weight must be a number above 0: how much one automatic hierarchy label counts against one clip label (1 = the same).");
        if (s.HierarchyPairsPerRound < 1 || s.HierarchyPairsPerRound > MaxHierarchyPairsPerRound)
            Add("hierarchy_pairs_per_round", $"Hierarchy pairs per round must be between 1 and {MaxHierarchyPairsPerRound:N0}.");

        if (s.LabelsPerPair is { } k)
        {
            if (k < 1 || k > MaxLabelsPerPair)
                Add("labels_per_pair", $"Raters per pair must be between 1 and {MaxLabelsPerPair}, or left out for no cap.");
            else if (s.PairsPerRound >= 2 && s.LabelsPerRound > s.PairsPerRound * k)
                Add("labels_per_round", $"With {k} rater(s) per pair, a round of {s.PairsPerRound} pairs can collect at most {s.PairsPerRound * k} labels; ask for fewer labels, more pairs or more raters per pair.");
        }
        if (s.ServingLeaseSeconds < 10 || s.ServingLeaseSeconds > 3600)
            Add("serving_lease_seconds", "A serving lease lasts between 10 and 3,600 seconds.");
        if (!(s.GoldRate >= 0 && s.GoldRate <= 0.5))
            Add("gold_rate", "The gold rate is the share of servings that are gold pairs: between 0 and 0.5.");
        if (!(s.GoldMargin > 0) || !double.IsFinite(s.GoldMargin))
            Add("gold_margin", "The gold margin is a positive fraction of a segment's mean absolute return, e.g. 0.5.");
        if (s.GoldPairsPerRound < 1 || s.GoldPairsPerRound > 200)
            Add("gold_pairs_per_round", "Gold pairs per round must be between 1 and 200.");
        if (s.PracticeGoldPairs < 0 || s.PracticeGoldPairs > 20)
            Add("practice_gold_pairs", "Practice gold pairs must be between 0 and 20.");
        if (s.MinGoldAccuracy is { } min && !(min >= 0 && min <= 1))
            Add("min_gold_accuracy", "The least gold accuracy is a share between 0 and 1, or left out for no flagging.");
        if (s.ExcludeFlaggedRaters && s.MinGoldAccuracy is null)
            Add("exclude_flagged_raters", "Leaving flagged raters out needs a least gold accuracy (min_gold_accuracy) to flag them by.");
        if (!PreferenceStudio.Learning.Reliability.RaterWeighting.All.Contains(s.RaterWeighting ?? ""))
            Add("rater_weighting", $"Unknown rater weighting '{s.RaterWeighting}'. Choose one of: {string.Join(", ", PreferenceStudio.Learning.Reliability.RaterWeighting.All)}.");
        if (!(s.FastAnswerSeconds >= 0 && s.FastAnswerSeconds <= 60))
            Add("fast_answer_seconds", "The fast-answer threshold is between 0 and 60 seconds.");

        PreferenceStudio.Web.Features.Campaigns.RaterSettings.Validate(s.Instructions, s.Consent, s.LabelsPerRater, s.CompletionCode, s.CompletionUrl, s.MaxRaters, Add);

        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
    }
}
