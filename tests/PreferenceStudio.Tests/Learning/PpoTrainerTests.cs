using PreferenceStudio.Environments;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Policies;

namespace PreferenceStudio.Tests.Learning;

public class PpoTrainerTests
{
    /// <summary>Small enough to run in about a second: 512 steps per iteration, 80 minibatches per update.</summary>
    internal static PpoOptions Quick(long steps) => new()
    {
        TotalSteps = steps,
        Envs = 4,
        StepsPerEnv = 128,
        Epochs = 10,
        MinibatchSize = 64,
        LearningRate = 1e-3,
        Gamma = 0.9,
        Seed = 3,
        HiddenSizes = [32, 32],
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Ppo_learns_to_drive_the_point_to_the_origin(bool stateDependent)
    {
        var env = new PointTask();
        var result = new PpoTrainer().Train(env, TrueRewardSource.Instance, Quick(8 * 512) with { StateDependentExploration = stateDependent });
        using var policy = result.Policy;
        var trained = PolicyEvaluation.Evaluate(env, result.Policy, episodes: 20, seed: 7);
        // What the untrained policy does (its mean action is close to 0) and the best possible policy.
        var idle = PolicyEvaluation.Evaluate(env, _ => [0.0], episodes: 20, seed: 7);
        var best = PolicyEvaluation.Evaluate(env, s => [Math.Clamp(-s[0] / PointTask.Speed, -1, 1)], episodes: 20, seed: 7);
        Assert.True(best.MeanReturn - idle.MeanReturn > 5, "the task must leave room to improve");
        double closed = (trained.MeanReturn - idle.MeanReturn) / (best.MeanReturn - idle.MeanReturn);
        Assert.True(closed > 0.8, $"PPO closed {closed:P0} of the gap (idle {idle.MeanReturn:F2}, trained {trained.MeanReturn:F2}, best {best.MeanReturn:F2}).");
        Assert.Equal(8 * 512, result.Steps);
        Assert.Equal(8, result.Iterations);
        Assert.True(result.Last!.MeanEpisodeReturn > idle.MeanReturn, "training episodes should report the improvement too");
    }

    [Fact]
    public void Learned_reward_is_queried_once_per_rollout_and_drives_training()
    {
        var env = new PointTask();
        using var model = new CountingRewardModel(env);
        using var policy = new PpoTrainer().Train(env, new LearnedRewardSource(model), Quick(3 * 512)).Policy;
        Assert.Equal([512, 512, 512], model.BatchSizes);
    }

    [Fact]
    public void A_nan_reward_stops_training_with_a_policy_training_exception()
    {
        var env = new PointTask();
        var error = Assert.Throws<PolicyTrainingException>(() => new PpoTrainer().Train(env, new NanAfter(600), Quick(4 * 512)));
        Assert.Contains("NaN", error.Message);
    }

    [Fact]
    public void A_nan_observation_surfaces_as_a_non_finite_loss()
    {
        // The reward stays finite, so only the loss and parameter checks can catch the poisoned network input.
        var env = new PointTask(poisonAfter: 3);
        var error = Assert.Throws<PolicyTrainingException>(() =>
            new PpoTrainer().Train(env, new ConstantReward(), Quick(2 * 512) with { NormalizeObservations = false }));
        Assert.True(error.Message.Contains("loss") || error.Message.Contains("parameter"), error.Message);
    }

    private sealed class NanAfter(int step) : IStepRewardSource
    {
        private int _seen;

        public string Name => "nan-after";

        public double[] Rewards(IPreferenceEnvironment env, StepBatch steps)
        {
            var r = (double[])steps.TrueRewards.Clone();
            for (int i = 0; i < r.Length; i++) if (_seen++ >= step) r[i] = double.NaN;
            return r;
        }
    }

    private sealed class ConstantReward : IStepRewardSource
    {
        public string Name => "zero";

        public double[] Rewards(IPreferenceEnvironment env, StepBatch steps) => new double[steps.Count];
    }

    /// <summary>A "learned" reward that is the true one read back from the features, recording each call's batch size.</summary>
    private sealed class CountingRewardModel(PointTask env) : IRewardModel
    {
        public List<int> BatchSizes { get; } = [];

        public string ModelType => "counting";

        public string EnvironmentName => env.Name;

        public double[] StepRewards(IReadOnlyList<float[]> stepFeatures)
        {
            BatchSizes.Add(stepFeatures.Count);
            return stepFeatures.Select(f => -Math.Abs((double)f[0])).ToArray();
        }

        public double SegmentReturn(Segment segment) => throw new NotSupportedException();

        public double[] SegmentReturns(IReadOnlyList<Segment> segments) => throw new NotSupportedException();

        public double PreferRightProbability(Segment left, Segment right) => throw new NotSupportedException();

        public double[] PreferRightProbabilities(IReadOnlyList<PreferencePair> pairs) => throw new NotSupportedException();

        public void Save(string path) => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }
}

/// <summary>
/// A point on a line that should be driven to 0: state [x], x0 ~ U(-1, 1), action [v] in [-1, 1], x' = x + 0.1 v,
/// reward -|x|, 20-step episodes, never terminal. Optionally its state turns NaN after some steps of an episode.
/// </summary>
internal sealed class PointTask(int poisonAfter = int.MaxValue) : IPreferenceEnvironment
{
    public const double Speed = 0.1;

    public string Name => "point-task";
    public string DisplayName => "Point task";
    public ActionSpace ActionSpace { get; } = ActionSpace.Continuous([-1], [1], "velocity");
    public int FeatureSize => 2;
    public IReadOnlyList<string> FeatureNames { get; } = ["x", "velocity"];
    public int DefaultSegmentLength => 10;
    public int MaxEpisodeSteps => 20;
    public IReadOnlyList<RewardFactor> Factors { get; } = [new("distance", "|x|", FactorDirection.LowerIsBetter)];

    public double[] SampleStart(Random rng) => [rng.NextDouble() * 2 - 1, 0];

    public bool IsTerminal(double[] state) => false;

    public Transition Step(double[] state, double[] action)
    {
        double x = state[0] + Speed * Math.Clamp(action[0], -1, 1);
        double t = state[1] + 1;
        return new Transition([t > poisonAfter ? double.NaN : x, t], -Math.Abs(state[0]), false);
    }

    public float[] StepFeatures(double[] state, double[] action, double[] next) => [(float)state[0], (float)action[0]];

    public double[] StepFactors(double[] state, double[] action, double[] next) => [Math.Abs(state[0])];

    public string? ValidateState(double[] state) => state.Length == 2 ? null : "a state is [x, t]";
}
