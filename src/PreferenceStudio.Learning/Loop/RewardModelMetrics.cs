using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace PreferenceStudio.Learning.Loop;

/// <summary>
/// What one training of a reward model measured, in the one shape that every face of the studio uses: `studio train`
/// and `studio simulate` print it, the web rounds store it in <c>reward_model_runs.metrics</c>, the campaign page and the
/// runs API read it back. <see cref="ModelEvaluation"/> computes it; <see cref="Serialize"/> and <see cref="Parse"/> are
/// the only places it becomes JSON and back. A metric that was not measured (no held-out pairs, no true reward, not a
/// per-rater model) is null and left out of the JSON.
/// </summary>
public sealed record RewardModelMetrics
{
    [JsonPropertyName("model")] public string? Model { get; init; }

    /// <summary>Decisive training pairs (incomparable ones are not trained on).</summary>
    [JsonPropertyName("n_train")] public int? NTrain { get; init; }

    /// <summary>Held-out pairs, ties included.</summary>
    [JsonPropertyName("n_test")] public int? NTest { get; init; }

    /// <summary>Held-out pairs with a winner: those that count in the accuracy.</summary>
    [JsonPropertyName("n_test_decisive")] public int? NTestDecisive { get; init; }

    /// <summary>Accuracy on held-out pairs, ties excluded.</summary>
    [JsonPropertyName("heldout_accuracy")] public double? HeldoutAccuracy { get; init; }

    /// <summary>Mean log-likelihood of the held-out answers, a tie counted as 0.5 each way.</summary>
    [JsonPropertyName("heldout_loglik")] public double? HeldoutLogLikelihood { get; init; }

    /// <summary>Expected calibration error on held-out pairs (10 bins).</summary>
    [JsonPropertyName("ece")] public double? ExpectedCalibrationError { get; init; }

    /// <summary>Accuracy on the training pairs themselves (how well the model fits; measured by `studio train`).</summary>
    [JsonPropertyName("train_accuracy")] public double? TrainAccuracy { get; init; }

    [JsonPropertyName("train_loglik")] public double? TrainLogLikelihood { get; init; }

    /// <summary>EPIC distance to the environment's true reward (0 same ranking of transitions, 1 unrelated).</summary>
    [JsonPropertyName("epic")] public double? Epic { get; init; }

    /// <summary>Tabular environments: the scaled return of the greedy policy planned on the learned reward, and its parts.</summary>
    [JsonPropertyName("scaled_return")] public double? ScaledReturn { get; init; }

    [JsonPropertyName("policy_value")] public double? PolicyValue { get; init; }

    [JsonPropertyName("optimal_value")] public double? OptimalValue { get; init; }

    [JsonPropertyName("uniform_value")] public double? UniformValue { get; init; }

    /// <summary>Each rater's held-out accuracy (and, for a per-rater model, how unsure it is of the rater), by rater name.</summary>
    [JsonPropertyName("per_rater")] public SortedDictionary<string, RaterMetrics>? PerRater { get; init; }

    /// <summary>
    /// Per-rater models: held-out accuracy of each rater's pairs with their own latent minus with another rater's
    /// (raters shuffled). Near zero means the latent carries nothing about who answered.
    /// </summary>
    [JsonPropertyName("latent_gain")] public double? LatentGain { get; init; }

    /// <summary>Per-rater models: held-out accuracy of known raters' pairs with their own latents.</summary>
    [JsonPropertyName("own_latent_accuracy")] public double? OwnLatentAccuracy { get; init; }

    /// <summary>Per-rater models: the same pairs scored with another rater's latent (mean over shuffles).</summary>
    [JsonPropertyName("shuffled_latent_accuracy")] public double? ShuffledLatentAccuracy { get; init; }

    /// <summary>Per-rater models: the same pairs scored with the prior's latent (z = 0), as for a rater never seen.</summary>
    [JsonPropertyName("prior_latent_accuracy")] public double? PriorLatentAccuracy { get; init; }

    /// <summary>SURF: pseudo-labels of confident unlabelled pairs the model also trained on (null without SURF).</summary>
    [JsonPropertyName("surf_pseudo_labels")] public int? SurfPseudoLabels { get; init; }

    /// <summary>SURF: temporally cropped copies of labelled pairs the model also trained on.</summary>
    [JsonPropertyName("surf_crops")] public int? SurfCrops { get; init; }

    /// <summary>Which label sources trained the run and how many labels each gave (web rounds).</summary>
    [JsonPropertyName("sources")] public LabelSourceCounts? Sources { get; init; }

    /// <summary>How raters' labels were weighted in training: none or reliability.</summary>
    [JsonPropertyName("rater_weighting")] public string? RaterWeighting { get; init; }

    /// <summary>Each rater's estimated reliability when labels were weighted by it (Dawid-Skene EM).</summary>
    [JsonPropertyName("rater_reliability")] public SortedDictionary<string, double>? RaterReliability { get; init; }

    /// <summary>Each rater's accuracy on gold pairs among the training labels, when reliability weighting saw any.</summary>
    [JsonPropertyName("gold_accuracy")] public SortedDictionary<string, double>? GoldAccuracy { get; init; }

    /// <summary>The held-out accuracies of the raters in <see cref="PerRater"/> that had a decisive held-out pair.</summary>
    public IReadOnlyList<double> RaterAccuracies() =>
        PerRater?.Values.Where(r => r.Accuracy is not null).Select(r => r.Accuracy!.Value).ToList() ?? [];

    private static readonly JsonSerializerOptions Options = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Runs stored before a field existed, or by a newer studio, still read.
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    };

    /// <summary>The one JSON form: snake_case names, unmeasured metrics left out, never NaN (see <see cref="Finite"/>).</summary>
    public string Serialize() => JsonSerializer.Serialize(this, Options);

    /// <summary>The JSON form as a node, for a command that prints it with a few fields of its own around it.</summary>
    public JsonObject ToJsonObject() => JsonSerializer.SerializeToNode(this, Options)!.AsObject();

    /// <summary>Reads what <see cref="Serialize"/> wrote; an empty or missing text is an empty record.</summary>
    public static RewardModelMetrics Parse(string? json) =>
        string.IsNullOrWhiteSpace(json) ? new RewardModelMetrics() : JsonSerializer.Deserialize<RewardModelMetrics>(json, Options) ?? new RewardModelMetrics();

    /// <summary>NaN (nothing to measure on) is not a number JSON can carry: it becomes null.</summary>
    public static double? Finite(double value) => double.IsFinite(value) ? value : null;
}

/// <summary>One rater's line of <see cref="RewardModelMetrics.PerRater"/>.</summary>
public sealed record RaterMetrics(
    [property: JsonPropertyName("accuracy")] double? Accuracy,
    [property: JsonPropertyName("count")] int Count,
    [property: JsonPropertyName("latent_std"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? LatentStd = null);

/// <summary>The label sources of a web round's run: clip answers, labels drawn from factor rankings, and their weight.</summary>
public sealed record LabelSourceCounts(
    [property: JsonPropertyName("label_source")] string LabelSource,
    [property: JsonPropertyName("clips")] int Clips,
    [property: JsonPropertyName("hierarchy")] int Hierarchy,
    [property: JsonPropertyName("hierarchy_weight")] double HierarchyWeight,
    [property: JsonPropertyName("rankings")] int Rankings,
    [property: JsonPropertyName("weighted")] bool Weighted,
    [property: JsonPropertyName("hierarchy_piece_steps"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? HierarchyPieceSteps = null,
    [property: JsonPropertyName("note"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Note = null);
