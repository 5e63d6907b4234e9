using System.Text;
using System.Text.Json;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Metrics;
using TorchSharp;
using static TorchSharp.torch.nn;

namespace PreferenceStudio.Tests.Learning;

public class EnsembleTests
{
    private static readonly DeliveryGridworld Env = DeliveryGridworld.Standard;
    private static readonly RewardModelOptions Options = new() { Device = "cpu", Seed = 7, Epochs = 30, HiddenSizes = [16, 16] };

    private static double Logit(double p) => Math.Log(p / (1 - p));

    [Fact]
    public void Ensemble_probability_is_the_sigmoid_of_the_members_mean_return_difference()
    {
        var train = OraclePairs.Make(150, seed: 31);
        var probe = OraclePairs.Make(40, seed: 32);
        using var model = (BradleyTerryRewardModel)new BradleyTerryTrainer().Train(Env, train, Options with { EnsembleSize = 3 });

        Assert.Equal(3, model.MemberCount);
        var members = model.MemberPreferRightProbabilities(probe);
        var ensemble = model.PreferRightProbabilities(probe);
        Assert.Equal(3, members.Length);
        for (int i = 0; i < probe.Count; i++)
            Assert.Equal(members.Average(m => Logit(m[i])), Logit(ensemble[i]), 4);
        // Members start from different weights, so they cannot all agree everywhere.
        Assert.Contains(Enumerable.Range(0, probe.Count), i => Math.Abs(members[0][i] - members[1][i]) > 1e-3);
        // The reward is the members' mean, so segment returns and step rewards agree with the probabilities.
        var d = model.SegmentReturns(probe.Select(p => p.Right).ToList())
            .Zip(model.SegmentReturns(probe.Select(p => p.Left).ToList()), (r, l) => r - l).ToArray();
        for (int i = 0; i < probe.Count; i++)
            if (probe[i].Left.Length == probe[i].Right.Length)
                Assert.Equal(Logit(ensemble[i]), d[i], 4);
    }

    [Fact]
    public void One_member_is_the_plain_model()
    {
        var probe = OraclePairs.Make(20, seed: 34);
        using var model = (BradleyTerryRewardModel)new BradleyTerryTrainer().Train(Env, OraclePairs.Make(100, seed: 33), Options with { EnsembleSize = 1 });
        Assert.Equal(1, model.MemberCount);
        Assert.Equal(model.PreferRightProbabilities(probe), model.MemberPreferRightProbabilities(probe)[0]);
    }

    [Fact]
    public void Bootstrap_ensemble_still_learns_the_oracle_preferences()
    {
        var options = Options with { EnsembleSize = 3, Bootstrap = true, Epochs = 100, HiddenSizes = [32, 32] };
        using var model = new BradleyTerryTrainer().Train(Env, OraclePairs.Make(300, seed: 35), options);
        using var plain = new BradleyTerryTrainer().Train(Env, OraclePairs.Make(300, seed: 35), options with { Bootstrap = false });
        var test = OraclePairs.Make(300, seed: 36);
        Assert.True(PreferenceMetrics.Evaluate(model, test).Accuracy > 0.9);
        Assert.NotEqual(model.PreferRightProbabilities(test), plain.PreferRightProbabilities(test));
    }

    [Fact]
    public void Ensemble_checkpoint_loads_back_to_identical_predictions_through_the_registry()
    {
        var options = Options with { EnsembleSize = 3, TanhOutput = true, LabelNoise = true, Epochs = 5 };
        using var model = (BradleyTerryRewardModel)new BradleyTerryTrainer().Train(Env, OraclePairs.Make(100, seed: 37), options);
        var probe = OraclePairs.Make(60, seed: 38);
        var path = Path.Combine(Path.GetTempPath(), $"bt-ens-{Guid.NewGuid():N}.pt");
        try
        {
            model.Save(path);
            Assert.Equal("bt", RewardCheckpoint.PeekModelType(path));
            using var loaded = RewardModels.Load(path, device: "cpu");
            var ensemble = Assert.IsType<BradleyTerryRewardModel>(loaded);
            Assert.Equal(3, ensemble.MemberCount);
            Assert.True(ensemble.LabelNoise);
            Assert.Equal(model.PreferRightProbabilities(probe), loaded.PreferRightProbabilities(probe));
            Assert.Equal(model.MemberPreferRightProbabilities(probe), ensemble.MemberPreferRightProbabilities(probe));
            Assert.Equal(model.StepRewards([Env.StepFeatures([0, 0], 3, [0, 1])]), loaded.StepRewards([Env.StepFeatures([0, 0], 3, [0, 1])]));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_single_model_checkpoint_from_before_ensembles_loads_as_one_member()
    {
        // The old layout: header without Members, then a Sequential of fc0, act0, fc1, act1, head.
        torch.manual_seed(3);
        using var old = Sequential(
            ("fc0", Linear(6, 8)), ("act0", LeakyReLU(0.01)), ("fc1", Linear(8, 4)), ("act1", LeakyReLU(0.01)), ("head", Linear(4, 1)));
        var header = new { ModelType = "bt", Environment = Env.Name, FeatureSize = 6, HiddenSizes = new[] { 8, 4 }, LeakySlope = 0.01, TanhOutput = false, LabelNoise = false, Bias = true };
        var path = Path.Combine(Path.GetTempPath(), $"bt-old-{Guid.NewGuid():N}.pt");
        try
        {
            using (var stream = File.Create(path))
            using (var writer = new BinaryWriter(stream, Encoding.UTF8))
            {
                writer.Write("preferencestudio/reward-model@1");
                writer.Write(JsonSerializer.Serialize(header));
                old.save(writer);
            }
            using var loaded = BradleyTerryRewardModel.Load(path, device: "cpu");
            Assert.Equal(1, loaded.MemberCount);
            var features = Enumerable.Range(0, 6).Select(i => { var f = new float[6]; f[i] = 1; return f; }).ToList();
            double[] expected;
            using (torch.no_grad())
            {
                var input = torch.tensor(features.SelectMany(f => f).ToArray(), [6, 6]);
                expected = old.forward(input).squeeze(-1).to_type(torch.ScalarType.Float64).data<double>().ToArray();
            }
            var actual = loaded.StepRewards(features);
            for (int i = 0; i < 6; i++) Assert.Equal(expected[i], actual[i], 5);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// Continuous states, so nearly every step has its own feature vector and training takes the dense path rather than
    /// the table of distinct steps: next = 0.5 * state + action, features = next, true reward = w . next.
    /// </summary>
    internal sealed class LinearToyEnvironment : IPreferenceEnvironment
    {
        private static readonly double[] W = [1.0, -2.0, 0.5];
        public string Name => "linear-toy";
        public string DisplayName => "Linear toy";
        public ActionSpace ActionSpace { get; } = ActionSpace.Continuous([-1, -1, -1], [1, 1, 1], "a0", "a1", "a2");
        public int FeatureSize => 3;
        public IReadOnlyList<string> FeatureNames => ["x0", "x1", "x2"];
        public int DefaultSegmentLength => 5;
        public int MaxEpisodeSteps => 20;
        public IReadOnlyList<RewardFactor> Factors => [];
        public double[] SampleStart(Random rng) => [rng.NextDouble() - 0.5, rng.NextDouble() - 0.5, rng.NextDouble() - 0.5];
        public bool IsTerminal(double[] state) => false;
        public Transition Step(double[] state, double[] action)
        {
            var next = state.Zip(action, (s, a) => 0.5 * s + a).ToArray();
            return new Transition(next, next.Zip(W, (x, w) => x * w).Sum(), false);
        }
        public float[] StepFeatures(double[] state, double[] action, double[] next) => next.Select(v => (float)v).ToArray();
        public double[] StepFactors(double[] state, double[] action, double[] next) => [];
        public string? ValidateState(double[] state) => state.Length == 3 ? null : "three numbers";

        public List<PreferencePair> Pairs(int count, int seed)
        {
            var rng = new Random(seed);
            IPreferenceEnvironment self = this;
            Segment Rollout()
            {
                var states = new List<double[]> { SampleStart(rng) };
                var actions = new List<double[]>();
                for (int t = 0; t < 5; t++)
                {
                    actions.Add(ActionSpace.Sample(rng));
                    states.Add(Step(states[^1], actions[^1]).Next);
                }
                return new Segment(states.ToArray(), actions.ToArray());
            }
            return Enumerable.Range(0, count).Select(_ =>
            {
                var (l, r) = (Rollout(), Rollout());
                return new PreferencePair(l, r, self.TrueReturn(r) > self.TrueReturn(l) ? PreferenceChoice.Right : PreferenceChoice.Left);
            }).ToList();
        }
    }

    [Fact]
    public void Ensemble_learns_a_continuous_reward_whose_steps_are_all_distinct()
    {
        var env = new LinearToyEnvironment();
        var options = Options with { EnsembleSize = 3, Epochs = 40, HiddenSizes = [16], BatchSize = 32 };
        using var model = new BradleyTerryTrainer().Train(env, env.Pairs(300, seed: 61), options);
        Assert.True(PreferenceMetrics.Evaluate(model, env.Pairs(300, seed: 62)).Accuracy > 0.9);
        var samples = EpicDistance.Sample(env, new Random(63), transitions: 300, expectationSamples: 32);
        double epic = EpicDistance.Sampled(
            EpicReward.Model(model, env), EpicReward.True(env), samples);
        Assert.True(epic < 0.2, $"EPIC {epic:F3}");
    }
}
