using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Control;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Policies;
using PreferenceStudio.Learning.Policies.Sac;
using Xunit.Abstractions;

namespace PreferenceStudio.Tests.Learning;

public class SacAgentTests(ITestOutputHelper output)
{
    private static SacOptions Quick => new() { HiddenSizes = [64, 64], BatchSize = 64, LearningStarts = 200, Seed = 5, Gamma = 0.9 };

    [Fact]
    public void Sac_learns_to_drive_the_point_to_the_origin()
    {
        var env = new PointTask();
        using var agent = new SacAgent(env, Quick with { ActorLearningRate = 1e-3 });
        agent.UseReward(null);
        agent.Train(3_000);
        var trained = PolicyEvaluation.Evaluate(env, s => agent.Act(s, deterministic: true), episodes: 20, seed: 7);
        var idle = PolicyEvaluation.Evaluate(env, _ => [0.0], episodes: 20, seed: 7);
        var best = PolicyEvaluation.Evaluate(env, s => [Math.Clamp(-s[0] / PointTask.Speed, -1, 1)], episodes: 20, seed: 7);
        double closed = (trained.MeanReturn - idle.MeanReturn) / (best.MeanReturn - idle.MeanReturn);
        Assert.True(closed > 0.8, $"SAC closed {closed:P0} of the gap (idle {idle.MeanReturn:F2}, trained {trained.MeanReturn:F2}, best {best.MeanReturn:F2}).");
        Assert.Equal(3_000, agent.Steps);
        Assert.Equal(3_000, agent.Buffer.Count);
    }

    [Fact]
    public void Changing_the_reward_model_relabels_the_stored_rewards()
    {
        var env = new PointTask();
        using var agent = new SacAgent(env, Quick with { LearningStarts = 10_000 });
        using var distance = new LinearStepReward(env, [-1, 0]);
        using var effort = new LinearStepReward(env, [0, -2]);
        agent.UseReward(distance);
        agent.Train(500);
        int i = agent.Buffer.Recent(0);
        double expected = (-agent.Buffer.Features(i)[0] - agent.RewardShift) / agent.RewardScale;
        Assert.Equal(expected, agent.Buffer.Reward(i), 4);

        int changed = agent.UseReward(effort);
        Assert.True(changed > 450, $"only {changed} of 500 stored rewards changed");
        for (int k = 0; k < agent.Buffer.Count; k++)
            Assert.Equal((-2 * agent.Buffer.Features(k)[1] - agent.RewardShift) / agent.RewardScale, agent.Buffer.Reward(k), 4);
        // Learned rewards are scaled to unit spread over the buffer, whatever the model's own scale, and shifted so the
        // largest is 0 (ending an episode is never a loss).
        var rewards = Enumerable.Range(0, agent.Buffer.Count).Select(k => (double)agent.Buffer.Reward(k)).ToArray();
        double mean = rewards.Average();
        Assert.Equal(1.0, Math.Sqrt(rewards.Average(r => (r - mean) * (r - mean))), 2);
        Assert.Equal(0.0, rewards.Max(), 5);

        Assert.True(agent.UseReward(null) > 450, "the true reward relabels too");

        // A reward given to an empty buffer is scaled and shifted once learning starts, before any update.
        using var fresh = new SacAgent(env, Quick with { LearningStarts = 200 });
        fresh.UseReward(distance);
        Assert.Equal((1.0, 0.0), (fresh.RewardScale, fresh.RewardShift));
        fresh.Train(150);
        Assert.Equal((1.0, 0.0), (fresh.RewardScale, fresh.RewardShift));
        fresh.Train(150);
        Assert.NotEqual(1.0, fresh.RewardScale);
        Assert.NotEqual(0.0, fresh.RewardShift);
        Assert.Equal((-fresh.Buffer.Features(0)[0] - fresh.RewardShift) / fresh.RewardScale, fresh.Buffer.Reward(0), 4);
        Assert.Equal(agent.Buffer.TrueReward(i), agent.Buffer.Reward(i), 5);
    }

    [Fact]
    public void State_entropy_exploration_covers_more_of_a_maze_than_random_actions()
    {
        // The medium maze from one corner, 100-step episodes: random forces jitter in place (damping eats them).
        var env = new FixedStart(new MultiGoalNavigation(MazeLayout.Medium, episodeSteps: 100), [1.5, 1.5, 0, 0]);
        const int steps = 4_000;
        using var explorer = new SacAgent(env, Quick with { Gamma = 0.95 });
        explorer.Explore(steps);
        using var random = new SacAgent(env, Quick with { LearningStarts = steps + 1 });
        random.Explore(steps);
        int explored = Cells(explorer.Buffer), wandered = Cells(random.Buffer);
        int free = MazeLayout.Medium.FreeCells.Count;
        output.WriteLine($"cells visited in {steps} steps: explorer {explored}, random actions {wandered}, of {free}");
        Assert.True(explored >= wandered + 5, $"the explorer visited {explored} of {free} cells, random actions {wandered}");
    }

    [Fact]
    public void A_saved_agent_loads_with_its_networks_buffer_and_step_count()
    {
        var env = new PointTask();
        string path = Path.Combine(Path.GetTempPath(), $"sac-{Guid.NewGuid():N}.sac");
        try
        {
            using var agent = new SacAgent(env, Quick);
            agent.UseReward(null);
            agent.Train(400);
            agent.Save(path);
            using var loaded = SacAgent.Load(path, env);
            Assert.Equal(agent.Steps, loaded.Steps);
            Assert.Equal(agent.Buffer.Count, loaded.Buffer.Count);
            Assert.Equal(agent.Alpha, loaded.Alpha, 6);
            for (int i = 0; i < agent.Buffer.Count; i += 37)
            {
                Assert.Equal(agent.Buffer.Reward(i), loaded.Buffer.Reward(i));
                Assert.Equal(agent.Buffer.Features(i), loaded.Buffer.Features(i));
            }
            // Episode ends (20-step episodes) come back too: n-step targets stop at them.
            var ends = Enumerable.Range(0, agent.Buffer.Count).Where(agent.Buffer.EpisodeEnd).ToList();
            Assert.Equal(Enumerable.Range(1, 20).Select(k => 20 * k - 1), ends);
            Assert.Equal(ends, Enumerable.Range(0, loaded.Buffer.Count).Where(loaded.Buffer.EpisodeEnd));
            foreach (var x in new[] { -0.8, 0.1, 0.6 })
                Assert.Equal(agent.Act([x, 3], deterministic: true), loaded.Act([x, 3], deterministic: true));
            // It trains on from where it was.
            loaded.UseReward(null);
            loaded.Train(100);
            Assert.Equal(500, loaded.Steps);
            File.WriteAllText(path, "not an agent");
            Assert.Throws<PolicyTrainingException>(() => SacAgent.Load(path, env));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static int Cells(ReplayBuffer buffer) =>
        Enumerable.Range(0, buffer.Count).Select(i => ((int)buffer.Next(i)[0], (int)buffer.Next(i)[1])).Distinct().Count();

    /// <summary>A reward that is a fixed linear function of the step features.</summary>
    private sealed class LinearStepReward(IPreferenceEnvironment env, double[] weights) : IRewardModel
    {
        public string ModelType => "linear";
        public string EnvironmentName => env.Name;

        public double[] StepRewards(IReadOnlyList<float[]> stepFeatures) =>
            stepFeatures.Select(f => f.Select((v, j) => v * weights[j]).Sum()).ToArray();

        public double SegmentReturn(Segment segment) => throw new NotSupportedException();
        public double[] SegmentReturns(IReadOnlyList<Segment> segments) => throw new NotSupportedException();
        public double PreferRightProbability(Segment left, Segment right) => throw new NotSupportedException();
        public double[] PreferRightProbabilities(IReadOnlyList<PreferencePair> pairs) => throw new NotSupportedException();
        public void Save(string path) => throw new NotSupportedException();

        public void Dispose()
        {
        }
    }

    /// <summary>An environment whose episodes all start in one state.</summary>
    private sealed class FixedStart(MultiGoalNavigation inner, double[] start) : IObservedEnvironment
    {
        public string Name => inner.Name;
        public string DisplayName => inner.DisplayName;
        public ActionSpace ActionSpace => inner.ActionSpace;
        public int FeatureSize => inner.FeatureSize;
        public IReadOnlyList<string> FeatureNames => inner.FeatureNames;
        public int DefaultSegmentLength => inner.DefaultSegmentLength;
        public int MaxEpisodeSteps => inner.MaxEpisodeSteps;
        public IReadOnlyList<RewardFactor> Factors => inner.Factors;
        public int ObservationSize => inner.ObservationSize;
        public IReadOnlyList<string> ObservationNames => inner.ObservationNames;
        public double[] SampleStart(Random rng) => (double[])start.Clone();
        public bool IsTerminal(double[] state) => inner.IsTerminal(state);
        public Transition Step(double[] state, double[] action) => inner.Step(state, action);
        public float[] StepFeatures(double[] state, double[] action, double[] next) => inner.StepFeatures(state, action, next);
        public double[] StepFactors(double[] state, double[] action, double[] next) => inner.StepFactors(state, action, next);
        public string? ValidateState(double[] state) => inner.ValidateState(state);
        public float[] Observe(double[] state) => inner.Observe(state);
    }
}
