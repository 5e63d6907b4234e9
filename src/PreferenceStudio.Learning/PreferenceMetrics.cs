namespace PreferenceStudio.Learning;

/// <summary>How well a reward model's preference likelihood explains held-out labels.</summary>
/// <param name="Accuracy">Share of left/right labels the model ranks the same way (ties and incomparable excluded; a
/// prediction of exactly 0.5 counts as half right). NaN when there are no such labels.</param>
/// <param name="MeanLogLikelihood">Mean log P(label) over left, right and equal labels (equal as the 0.5 target).
/// NaN when there are none.</param>
/// <param name="Count">Pairs in the log-likelihood (all but incomparable).</param>
/// <param name="DecisiveCount">Pairs in the accuracy (left or right).</param>
/// <param name="ExpectedCalibrationError">Expected calibration error of P(right) on the decisive pairs (see
/// <see cref="PreferenceMetrics.CalibrationError"/>). NaN when there are no decisive pairs.</param>
/// <param name="PerRater">Accuracy over each rater's decisive pairs, for pairs that carry a rater; empty when none do.</param>
public sealed record PreferenceMetricsResult(
    double Accuracy,
    double MeanLogLikelihood,
    int Count,
    int DecisiveCount,
    double ExpectedCalibrationError = double.NaN,
    IReadOnlyDictionary<string, RaterAccuracy>? PerRater = null);

/// <summary>One rater's held-out accuracy over <paramref name="Count"/> decisive pairs (NaN when Count is 0).</summary>
public sealed record RaterAccuracy(double Accuracy, int Count);

/// <summary>Held-out preference accuracy, log-likelihood, calibration and per-rater accuracy (METHODS.md section 4).</summary>
public static class PreferenceMetrics
{
    /// <summary>Equal-width bins of P(right) in the calibration error.</summary>
    public const int CalibrationBins = 10;

    private const double Floor = 1e-12;

    /// <summary>
    /// Scores <paramref name="model"/> on <paramref name="pairs"/>. When the model is an <see cref="IPerRaterRewardModel"/>,
    /// pairs whose rater is one of its <see cref="IPerRaterRewardModel.Raters"/> are predicted by that rater's reward
    /// (<see cref="IPerRaterRewardModel.ForRater"/>; the returned view is not disposed here), the rest by the population's.
    /// </summary>
    public static PreferenceMetricsResult Evaluate(IRewardModel model, IReadOnlyList<PreferencePair> pairs)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pairs);
        var usable = pairs.Where(p => p.RightTarget is not null).ToList();
        if (usable.Count == 0) return new PreferenceMetricsResult(double.NaN, double.NaN, 0, 0, double.NaN, new Dictionary<string, RaterAccuracy>());

        var probabilities = Predict(model, usable);
        double logLik = 0, correct = 0;
        var decisiveP = new List<double>();
        var decisiveY = new List<double>();
        var perRater = new Dictionary<string, (double Correct, int Count)>(StringComparer.Ordinal);
        for (int i = 0; i < usable.Count; i++)
        {
            double y = usable[i].RightTarget!.Value;
            double p = Math.Clamp(probabilities[i], Floor, 1 - Floor);
            logLik += y * Math.Log(p) + (1 - y) * Math.Log(1 - p);
            if (y == 0.5) continue;
            double raw = probabilities[i];
            double hit = raw == 0.5 ? 0.5 : (raw > 0.5) == (y == 1.0) ? 1 : 0;
            correct += hit;
            decisiveP.Add(raw);
            decisiveY.Add(y);
            if (usable[i].Rater is { } rater)
            {
                var (c, n) = perRater.GetValueOrDefault(rater);
                perRater[rater] = (c + hit, n + 1);
            }
        }
        int decisive = decisiveP.Count;
        var raters = perRater.ToDictionary(kv => kv.Key, kv => new RaterAccuracy(kv.Value.Correct / kv.Value.Count, kv.Value.Count), StringComparer.Ordinal);
        // Raters whose only labels were ties still appear, with no accuracy.
        foreach (var rater in usable.Select(p => p.Rater).OfType<string>().Distinct())
            raters.TryAdd(rater, new RaterAccuracy(double.NaN, 0));
        return new PreferenceMetricsResult(
            decisive == 0 ? double.NaN : correct / decisive, logLik / usable.Count, usable.Count, decisive,
            CalibrationError(decisiveP, decisiveY), raters);
    }

    /// <summary>
    /// Expected calibration error of P(right): predictions fall into <see cref="CalibrationBins"/> equal-width bins of
    /// [0, 1] (the last bin closed), and ECE = sum over bins of (n_bin / n) * |mean P(right) - share labelled right|.
    /// Binning P(right) rather than the confidence of the predicted side also catches a model that is biased toward one
    /// side. <paramref name="rightLabels"/> holds 1 (right) or 0 (left). NaN for no predictions.
    /// </summary>
    public static double CalibrationError(IReadOnlyList<double> preferRight, IReadOnlyList<double> rightLabels)
    {
        ArgumentNullException.ThrowIfNull(preferRight);
        ArgumentNullException.ThrowIfNull(rightLabels);
        if (preferRight.Count != rightLabels.Count) throw new ArgumentException("One label per prediction is needed.");
        if (preferRight.Count == 0) return double.NaN;
        var sumP = new double[CalibrationBins];
        var sumY = new double[CalibrationBins];
        var count = new int[CalibrationBins];
        for (int i = 0; i < preferRight.Count; i++)
        {
            double p = Math.Clamp(preferRight[i], 0, 1);
            int bin = Math.Min((int)(p * CalibrationBins), CalibrationBins - 1);
            sumP[bin] += p;
            sumY[bin] += rightLabels[i];
            count[bin]++;
        }
        double ece = 0;
        for (int b = 0; b < CalibrationBins; b++)
            if (count[b] > 0) ece += Math.Abs(sumP[b] - sumY[b]) / preferRight.Count;
        return ece;
    }

    /// <summary>
    /// P(right preferred) for each pair, by the pair's own rater's reward when the model has one for them
    /// (<see cref="IPerRaterRewardModel"/>), else by the population's.
    /// </summary>
    public static double[] Predict(IRewardModel model, IReadOnlyList<PreferencePair> pairs)
    {
        if (model is not IPerRaterRewardModel perRater || perRater.Raters.Count == 0) return model.PreferRightProbabilities(pairs);
        var known = perRater.Raters.ToHashSet(StringComparer.Ordinal);
        var result = new double[pairs.Count];
        foreach (var group in Enumerable.Range(0, pairs.Count).GroupBy(i => pairs[i].Rater is { } r && known.Contains(r) ? r : null))
        {
            var indices = group.ToList();
            var source = group.Key is null ? model : perRater.ForRater(group.Key);
            var p = source.PreferRightProbabilities(indices.Select(i => pairs[i]).ToList());
            for (int j = 0; j < indices.Count; j++) result[indices[j]] = p[j];
        }
        return result;
    }
}
