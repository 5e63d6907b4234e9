using System.Runtime.InteropServices;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.Environments.Teachers;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Regret;

namespace PreferenceStudio.Tests.Learning;

public class RegretTrainerTests
{
    private static readonly DeliveryGridworld Env = DeliveryGridworld.Standard;
    private static readonly Lazy<RegretScores> Truth = new(() => new RegretScores(Env));

    /// <summary>Random-rollout delivery segments (3 moves, shorter at a terminal) labelled by a deterministic regret teacher.</summary>
    internal static List<PreferencePair> RegretPairs(int count, int seed, int length = 3)
    {
        var rng = new Random(seed);
        var segments = new List<Segment>();
        while (segments.Count < 2 * count)
            foreach (var t in Rollouts.CollectRandom(Env, 1, rng))
                segments.AddRange(SegmentCutter.Cut(Env, t, length));
        rng.Shuffle(CollectionsMarshal.AsSpan(segments));
        return Enumerable.Range(0, count)
            .Select(i => new PreferencePair(segments[2 * i], segments[2 * i + 1], Truth.Value.Label(segments[2 * i], segments[2 * i + 1])))
            .ToList();
    }

    [Fact]
    public void Recovers_the_delivery_reward_from_300_regret_labels_well_enough_to_plan_near_optimally()
    {
        var train = RegretPairs(300, seed: 11);
        using var model = new RegretTrainer().TrainModel(Env, train, new RewardModelOptions { Device = "cpu", Seed = 5 });

        var w = model.LinearWeights!;
        // True w = [gas -1, goal +50, sheep -50, coin +1, roadblock -1, mud -2]: same signs, and goal > coin > gas > mud > sheep.
        for (int i = 0; i < w.Length; i++) Assert.True(Math.Sign(w[i]) == Math.Sign(DeliveryGridworld.TrueWeights[i]), $"w = [{string.Join(", ", w)}]");
        Assert.True(w[1] > w[3] && w[3] > w[0] && w[0] > w[5] && w[5] > w[2], $"w = [{string.Join(", ", w)}]");

        var heldOut = PreferenceMetrics.Evaluate(model, RegretPairs(500, seed: 12));
        Assert.True(heldOut.Accuracy > 0.9, $"held-out accuracy {heldOut.Accuracy:F3}");
        double scaled = ScaledReturn.Evaluate(Env, RewardTable.Plan(model, Env).Policy).ScaledReturn;
        Assert.True(scaled > 0.9, $"scaled return {scaled:F3}");
    }

    [Fact]
    public void Same_seed_same_data_gives_the_same_model()
    {
        var train = RegretPairs(60, seed: 3);
        var regret = new RegretOptions { Form = RegretForm.MlpReward, Steps = 5, Horizon = 20 };
        var options = new RewardModelOptions { Device = "cpu", Seed = 4, HiddenSizes = [8] };
        using var a = new RegretTrainer(regret).TrainModel(Env, train, options);
        using var b = new RegretTrainer(regret).TrainModel(Env, train, options);
        using var c = new RegretTrainer(regret).TrainModel(Env, train, options with { Seed = 99 });
        Assert.Equal(a.PreferRightProbabilities(train), b.PreferRightProbabilities(train));
        Assert.NotEqual(a.PreferRightProbabilities(train), c.PreferRightProbabilities(train));
    }

    [Fact]
    public void Keeps_the_lowest_loss_weights_and_reports_progress_each_step()
    {
        // Coin-flip labels put the best fit near w = 0, and a learning rate this large makes Adam overshoot it, so the
        // last step is not the best one.
        var coin = new Random(6);
        var train = RegretPairs(100, seed: 6).Select(p => p with { Label = coin.Next(2) == 0 ? PreferenceChoice.Left : PreferenceChoice.Right }).ToList();
        var steps = new List<TrainingProgress>();
        using var model = new RegretTrainer(new RegretOptions { Steps = 40, LinearLearningRate = 5 })
            .TrainModel(Env, train, new RewardModelOptions { Device = "cpu" }, new SynchronousProgress(steps));
        Assert.Equal(Enumerable.Range(1, 40), steps.Select(s => s.Epoch));
        Assert.True(steps[^1].Loss > steps.Min(s => s.Loss) + 0.01, "the schedule no longer overshoots, so this test checks nothing");
        double kept = -PreferenceMetrics.Evaluate(model, train).MeanLogLikelihood;
        Assert.True(kept <= steps.Min(s => s.Loss) + 1e-6, $"kept loss {kept}, best seen {steps.Min(s => s.Loss)}");
    }

    [Fact]
    public void Advantage_form_learns_a_greedy_policy_on_a_continuous_environment()
    {
        var env = new PointLineEnvironment();
        var trainer = new RegretTrainer();
        Assert.Equal(RegretForm.Advantage, RegretTrainer.DefaultForm(env));
        using var model = trainer.TrainModel(env, env.Pairs(300, seed: 1), new RewardModelOptions { Device = "cpu", Seed = 3, HiddenSizes = [32] });
        Assert.Equal(RegretForm.Advantage, model.Form);
        Assert.Null(model.OptimalValues);

        var heldOut = PreferenceMetrics.Evaluate(model, env.Pairs(300, seed: 2));
        Assert.True(heldOut.Accuracy > 0.9, $"held-out accuracy {heldOut.Accuracy:F3}");
        // The true optimal action is u = -x; greedy on A_hat over sampled candidates should land near it.
        foreach (double x in new[] { -0.8, -0.3, 0.0, 0.5, 0.9 })
        {
            var u = model.GreedyAction([x]);
            Assert.True(Math.Abs(u[0] + x) < 0.25, $"x = {x}: greedy u = {u[0]:F3}");
            Assert.Null(env.ActionSpace.Validate(u));
        }
    }

    [Fact]
    public void Advantage_checkpoint_round_trip_gives_identical_predictions_and_actions()
    {
        var env = new PointLineEnvironment();
        using var model = new RegretTrainer(new RegretOptions { Steps = 5 })
            .TrainModel(env, env.Pairs(50, seed: 1), new RewardModelOptions { Device = "cpu", HiddenSizes = [8] });
        var probe = env.Pairs(20, seed: 9);
        var path = Path.Combine(Path.GetTempPath(), $"regret-adv-{Guid.NewGuid():N}.pt");
        try
        {
            var first = model.PreferRightProbabilities(probe);
            for (int rep = 0; rep < 5; rep++) Assert.Equal(first, model.PreferRightProbabilities(probe));
            model.Save(path);
            using var loaded = RegretRewardModel.Load(path, env, "cpu");
            Assert.Equal(RegretForm.Advantage, loaded.Form);
            Assert.Equal(model.PreferRightProbabilities(probe), loaded.PreferRightProbabilities(probe));
            Assert.Equal(model.GreedyAction([0.3]), loaded.GreedyAction([0.3]));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private sealed class SynchronousProgress(List<TrainingProgress> sink) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => sink.Add(value);
    }
}

/// <summary>
/// A point on a line, x in [-1, 1], pushed by a continuous control u in [-1, 1]: x' = clamp(x + 0.2 u). Step features
/// [u^2, x u, x^2, u, x] include the action, as continuous environments' do. The teacher's optimal advantage is
/// A*(x, u) = -(u + x)^2, so the best action is u = -x.
/// </summary>
internal sealed class PointLineEnvironment : IPreferenceEnvironment
{
    public string Name => "test-point-line";
    public string DisplayName => "Test point on a line";
    public ActionSpace ActionSpace { get; } = ActionSpace.Continuous([-1], [1], "push");
    public int FeatureSize => 5;
    public IReadOnlyList<string> FeatureNames { get; } = ["u2", "xu", "x2", "u", "x"];
    public int DefaultSegmentLength => 3;
    public int MaxEpisodeSteps => 20;
    public IReadOnlyList<RewardFactor> Factors { get; } = [new("distance", "Distance from 0", FactorDirection.LowerIsBetter)];

    public static double TrueAdvantage(double x, double u) => -(u + x) * (u + x);

    public double[] SampleStart(Random rng) => [rng.NextDouble() * 2 - 1];
    public bool IsTerminal(double[] state) => false;

    public Transition Step(double[] state, double[] action) =>
        new([Math.Clamp(state[0] + 0.2 * action[0], -1, 1)], TrueAdvantage(state[0], action[0]), false);

    public float[] StepFeatures(double[] state, double[] action, double[] next)
    {
        double x = state[0], u = action[0];
        return [(float)(u * u), (float)(x * u), (float)(x * x), (float)u, (float)x];
    }

    public double[] StepFactors(double[] state, double[] action, double[] next) => [Math.Abs(next[0])];

    public string? ValidateState(double[] state) =>
        state.Length == 1 && state[0] is >= -1 and <= 1 ? null : "x must be one number in [-1, 1]";

    /// <summary>Random-action segments labelled by the sum of the true optimal advantage (a regret teacher).</summary>
    public List<PreferencePair> Pairs(int count, int seed)
    {
        var rng = new Random(seed);
        Segment Random3()
        {
            var states = new List<double[]> { SampleStart(rng) };
            var actions = new List<double[]>();
            for (int t = 0; t < 3; t++)
            {
                var u = ActionSpace.Sample(rng);
                actions.Add(u);
                states.Add(Step(states[^1], u).Next);
            }
            return new Segment(states.ToArray(), actions.ToArray());
        }
        double Score(Segment s) => s.Actions.Select((u, t) => TrueAdvantage(s.States[t][0], u[0])).Sum();
        var pairs = new List<PreferencePair>(count);
        for (int i = 0; i < count; i++)
        {
            var (left, right) = (Random3(), Random3());
            pairs.Add(new PreferencePair(left, right, Score(right) > Score(left) ? PreferenceChoice.Right : PreferenceChoice.Left));
        }
        return pairs;
    }
}
