namespace PreferenceStudio.Environments.Planning;

/// <summary>The parts of a scaled-return evaluation, all under the true reward and averaged over start states.</summary>
public sealed record ScaledReturnResult(double ScaledReturn, double PolicyValue, double OptimalValue, double UniformValue);

/// <summary>
/// Scaled return of Knox et al. (METHODS.md section 1): (V^pi - V^uniform) / (V* - V^uniform) under the TRUE reward.
/// 1 is optimal, 0 is no better than acting at random; above 0.9 counts as near-optimal.
/// </summary>
/// <remarks>
/// Each V is first averaged over the uniform start distribution, then the ratio is taken (a ratio of means, not a mean
/// of per-state ratios, so start states where every policy does equally well cannot divide by zero). gamma = 1 over
/// the finite horizon (default <see cref="IPreferenceEnvironment.MaxEpisodeSteps"/>; see <see cref="ValueIteration"/>).
/// </remarks>
public static class ScaledReturn
{
    /// <summary>The scaled return of a deterministic policy (one action per state index).</summary>
    public static double Compute(ITabularEnvironment env, int[] policy, int? horizon = null) =>
        Evaluate(env, policy, horizon).ScaledReturn;

    /// <summary>The scaled return with the values it is made of.</summary>
    public static ScaledReturnResult Evaluate(ITabularEnvironment env, int[] policy, int? horizon = null)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(policy);
        int h = horizon ?? env.MaxEpisodeSteps;
        var table = TransitionTable.Build(env);
        var reward = TabularRewards.True(env, table);
        double optimal = PolicyEvaluation.MeanOverStarts(env, ValueIteration.Solve(table, reward, 1.0, h).Values);
        double uniform = PolicyEvaluation.MeanOverStarts(env, PolicyEvaluation.Uniform(table, reward, h));
        double value = PolicyEvaluation.MeanOverStarts(env, PolicyEvaluation.Deterministic(table, reward, policy, h));
        double gap = optimal - uniform;
        // When random play is already optimal every policy is optimal; call that 1 rather than dividing by zero.
        double scaled = Math.Abs(gap) < 1e-12 ? 1.0 : (value - uniform) / gap;
        return new ScaledReturnResult(scaled, value, optimal, uniform);
    }
}
