using PreferenceStudio.Core.Data;
using PreferenceStudio.Environments;
using PreferenceStudio.Learning.Policies;

namespace PreferenceStudio.Web.Features.Rounds;

/// <summary>
/// A stored policy ready to act in rollouts: the uniform policy (<see cref="Act"/> null), a tabular action table, or a
/// PPO Gaussian policy acting on its mean (the round's epsilon-random actions supply the exploration), or a SAC agent
/// sampling its actions. Use on the torch thread; dispose to free a network.
/// </summary>
public sealed class RolloutPolicy : IDisposable
{
    /// <summary>Policy kind of a regret model's learned advantage acted on greedily (its checkpoint is the reward model's).</summary>
    public const string AdvantageGreedy = "advantage-greedy";

    private readonly IDisposable? _network;

    private RolloutPolicy(Func<double[], double[]>? act, IDisposable? network)
    {
        Act = act;
        _network = network;
    }

    public Func<double[], double[]>? Act { get; }

    /// <param name="localPath">Where this node reads the policy's file (<see cref="Core.Media.Stores.IMediaStore.LocalCopyAsync"/>);
    /// null when no node published it.</param>
    public static RolloutPolicy Load(IPreferenceEnvironment env, Policy policy, string? localPath)
    {
        if (policy.CheckpointPath is null) return new RolloutPolicy(null, null);
        if (localPath is null || !File.Exists(localPath))
            throw new InvalidOperationException($"The policy file {policy.CheckpointPath} of round {policy.RoundIndex + 1} is missing.");
        switch (policy.Kind)
        {
            case AdvantageGreedy:
                var model = PreferenceStudio.Learning.Regret.RegretRewardModel.Load(localPath, env, "cpu");
                return new RolloutPolicy(s => model.GreedyAction(s), model);
            case PreferenceStudio.Learning.Policies.Sac.SacAgent.AlgorithmName:
                // SAC's own sampled actions: its experience, and so PEBBLE's queries, come from the stochastic policy.
                var agent = PreferenceStudio.Learning.Policies.Sac.SacAgent.Load(localPath, env);
                return new RolloutPolicy(s => agent.Act(s, deterministic: false), agent);
            case GaussianPolicy.AlgorithmName:
                var network = GaussianPolicy.Load(localPath, env);
                return new RolloutPolicy(s => network.Act(s, deterministic: true), network);
            default:
                if (env is not ITabularEnvironment tabular)
                    throw new InvalidOperationException($"A '{policy.Kind}' policy needs a tabular environment; {env.Name} is not one.");
                var table = PolicyFiles.Read(localPath);
                return new RolloutPolicy(s => [table[tabular.StateIndex(s)]], null);
        }
    }

    public void Dispose() => _network?.Dispose();
}
