using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Control;

namespace PreferenceStudio.Learning.Policies;

/// <summary>How a policy did over evaluation episodes under the environment's true reward.</summary>
/// <param name="SuccessRate">Fraction of episodes that reached the goal; null where the environment has none.</param>
public sealed record PolicyEvaluationResult(int Episodes, double MeanReturn, double StdReturn, double MeanLength, double? SuccessRate, double[] Returns);

/// <summary>Runs a policy for whole episodes (to a terminal state or <see cref="IPreferenceEnvironment.MaxEpisodeSteps"/>).</summary>
public static class PolicyEvaluation
{
    /// <summary>
    /// Mean true return over <paramref name="episodes"/> episodes from seeded start states, the deterministic (mean)
    /// action by default. <paramref name="reward"/> replaces the environment's reward (e.g. one rater kind's);
    /// success is <see cref="IGoalEnvironment.IsSuccess"/> of any visited state, or <paramref name="success"/> when given.
    /// </summary>
    public static PolicyEvaluationResult Evaluate(
        IPreferenceEnvironment env,
        Func<double[], double[]> policy,
        int episodes = 10,
        int seed = 12345,
        Func<double[], double[], double[], double>? reward = null,
        Func<double[], bool>? success = null)
    {
        ArgumentNullException.ThrowIfNull(env);
        ArgumentNullException.ThrowIfNull(policy);
        if (episodes < 1) throw new ArgumentOutOfRangeException(nameof(episodes), episodes, "Evaluate at least one episode.");
        success ??= env is IGoalEnvironment goal ? goal.IsSuccess : null;
        var rng = new Random(seed);
        var returns = new double[episodes];
        int successes = 0;
        long steps = 0;
        for (int e = 0; e < episodes; e++)
        {
            var state = env.SampleStart(rng);
            bool reached = success?.Invoke(state) ?? false;
            for (int t = 0; t < env.MaxEpisodeSteps; t++)
            {
                var action = policy(state);
                var step = env.Step(state, action);
                returns[e] += reward?.Invoke(state, action, step.Next) ?? step.Reward;
                steps++;
                state = step.Next;
                reached |= success?.Invoke(state) ?? false;
                if (step.Terminal) break;
            }
            if (reached) successes++;
        }
        double mean = returns.Average();
        double std = Math.Sqrt(returns.Sum(r => (r - mean) * (r - mean)) / episodes);
        return new PolicyEvaluationResult(episodes, mean, std, (double)steps / episodes,
            success is null ? null : (double)successes / episodes, returns);
    }

    /// <summary>The trained policy's deterministic actions, evaluated as above.</summary>
    public static PolicyEvaluationResult Evaluate(IPreferenceEnvironment env, GaussianPolicy policy, int episodes = 10, int seed = 12345,
        Func<double[], double[], double[], double>? reward = null, Func<double[], bool>? success = null) =>
        Evaluate(env, s => policy.Act(s, deterministic: true), episodes, seed, reward, success);
}
