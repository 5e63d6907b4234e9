namespace PreferenceStudio.Learning;

/// <summary>How well a reward model's preference likelihood explains held-out labels.</summary>
/// <param name="Accuracy">Share of left/right labels the model ranks the same way (ties and incomparable excluded; a
/// prediction of exactly 0.5 counts as half right). NaN when there are no such labels.</param>
/// <param name="MeanLogLikelihood">Mean log P(label) over left, right and equal labels (equal as the 0.5 target).
/// NaN when there are none.</param>
/// <param name="Count">Pairs in the log-likelihood (all but incomparable).</param>
/// <param name="DecisiveCount">Pairs in the accuracy (left or right).</param>
public sealed record PreferenceMetricsResult(double Accuracy, double MeanLogLikelihood, int Count, int DecisiveCount);

/// <summary>Held-out preference accuracy and log-likelihood (METHODS.md section 4).</summary>
public static class PreferenceMetrics
{
    private const double Floor = 1e-12;

    public static PreferenceMetricsResult Evaluate(IRewardModel model, IReadOnlyList<PreferencePair> pairs)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(pairs);
        var usable = pairs.Where(p => p.RightTarget is not null).ToList();
        if (usable.Count == 0) return new PreferenceMetricsResult(double.NaN, double.NaN, 0, 0);

        var probabilities = model.PreferRightProbabilities(usable);
        double logLik = 0, correct = 0;
        int decisive = 0;
        for (int i = 0; i < usable.Count; i++)
        {
            double y = usable[i].RightTarget!.Value;
            double p = Math.Clamp(probabilities[i], Floor, 1 - Floor);
            logLik += y * Math.Log(p) + (1 - y) * Math.Log(1 - p);
            if (y == 0.5) continue;
            decisive++;
            double raw = probabilities[i];
            correct += raw == 0.5 ? 0.5 : (raw > 0.5) == (y == 1.0) ? 1 : 0;
        }
        return new PreferenceMetricsResult(
            decisive == 0 ? double.NaN : correct / decisive, logLik / usable.Count, usable.Count, decisive);
    }
}
