using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Planning;

namespace PreferenceStudio.Learning;

/// <summary>A learned reward tabulated over every (state, action) of a tabular environment, for planning.</summary>
public static class RewardTable
{
    /// <summary>
    /// r_hat(s, a) = model reward of the step's features under the true (deterministic) transition, evaluated in one
    /// batch without gradients; 0 for illegal states. Terminal states hold the learned reward of the absorbing step
    /// (acting in place there), which the planner accrues on every remaining step: the model is trained with
    /// terminated segments padded by such steps, so it fixes rewards only relative to that value, and a finite-horizon
    /// undiscounted plan is unchanged by adding a constant to every step reward including the absorbing one.
    /// </summary>
    public static double[,] ForTabular(IRewardModel model, ITabularEnvironment env, TransitionTable? table = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(env);
        table ??= TransitionTable.Build(env);
        var cells = new List<(int S, int A)>();
        var features = new List<float[]>();
        for (int s = 0; s < table.StateCount; s++)
        {
            if (!table.IsValid(s)) continue;
            var state = env.StateAt(s);
            for (int a = 0; a < table.ActionCount; a++)
            {
                cells.Add((s, a));
                features.Add(env.StepFeatures(state, a, env.StateAt(table.Next(s, a))));
            }
        }
        var rewards = model.StepRewards(features);
        var result = new double[table.StateCount, table.ActionCount];
        for (int i = 0; i < cells.Count; i++) result[cells[i].S, cells[i].A] = rewards[i];
        return result;
    }

    /// <summary>Value iteration (gamma = 1, horizon default MaxEpisodeSteps) on the model's reward: the greedy policy.</summary>
    public static PlanningResult Plan(IRewardModel model, ITabularEnvironment env, int? horizon = null)
    {
        ArgumentNullException.ThrowIfNull(env);
        var table = TransitionTable.Build(env);
        return ValueIteration.Solve(table, ForTabular(model, env, table), 1.0, horizon ?? env.MaxEpisodeSteps);
    }
}
