using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Metrics;

namespace PreferenceStudio.Tests.Learning;

public class EpicTests
{
    private static readonly DeliveryGridworld Env = DeliveryGridworld.Standard;
    private static IPreferenceEnvironment PEnv => Env;

    /// <summary>A potential with no structure: one random value per cell.</summary>
    private static Func<double[], double> RandomPotential(int seed)
    {
        var rng = new Random(seed);
        var phi = Enumerable.Range(0, Env.StateCount).Select(_ => rng.NextDouble() * 100 - 50).ToArray();
        return s => phi[Env.StateIndex(s)];
    }

    private static EpicReward Shaped(double scale, double gamma, Func<double[], double> phi) =>
        EpicReward.FromFunction((s, a, s2) => scale * PEnv.Step(s, a).Reward + gamma * phi(s2) - phi(s));

    [Theory]
    [InlineData(1.0)]
    [InlineData(0.9)]
    public void Tabular_EPIC_is_zero_for_the_same_reward_scaled_and_shaped_and_one_for_its_negation(double gamma)
    {
        var truth = EpicReward.True(Env);
        Assert.Equal(0, EpicDistance.Tabular(Env, truth, truth, gamma), 6);
        Assert.Equal(0, EpicDistance.Tabular(Env, truth, Shaped(2.5, gamma, RandomPotential(1)), gamma), 6);
        Assert.Equal(1, EpicDistance.Tabular(Env, truth, EpicReward.FromFunction((s, a, _) => -PEnv.Step(s, a).Reward), gamma), 6);
    }

    [Fact]
    public void Tabular_EPIC_sees_a_reward_that_is_not_a_shaping_of_the_truth()
    {
        var truth = EpicReward.True(Env);
        // Shaping with the wrong discount is not a potential shaping under gamma = 1.
        double wrongShaping = EpicDistance.Tabular(Env, truth, Shaped(1, 0.5, RandomPotential(2)));
        double noise = EpicDistance.Tabular(Env, truth, EpicReward.FromFunction((s, a, _) => new Random(Env.StateIndex(s) * 4 + (int)a[0]).NextDouble()));
        Assert.InRange(wrongShaping, 0.1, 0.95);
        Assert.InRange(noise, 0.4, 0.95);
    }

    [Fact]
    public void Sampled_EPIC_is_zero_for_scaled_and_shaped_rewards_and_one_for_the_negation()
    {
        var samples = EpicDistance.Sample(Env, new Random(3), transitions: 500, expectationSamples: 64);
        var truth = EpicReward.True(Env);
        Assert.Equal(500, samples.Coverage.Count);
        Assert.Equal(0, EpicDistance.Sampled(truth, truth, samples), 6);
        Assert.Equal(0, EpicDistance.Sampled(truth, Shaped(0.3, 1, RandomPotential(4)), samples), 6);
        Assert.Equal(1, EpicDistance.Sampled(truth, EpicReward.FromFunction((s, a, _) => -PEnv.Step(s, a).Reward), samples), 6);
    }

    [Fact]
    public void A_model_trained_on_oracle_labels_is_close_to_the_truth_and_one_trained_on_flipped_labels_is_far()
    {
        var options = new RewardModelOptions { Device = "cpu", Seed = 5, EnsembleSize = 1 };
        var pairs = OraclePairs.Make(300, seed: 11);
        var flipped = pairs.Select(p => p with
        {
            Label = p.Label switch { PreferenceChoice.Left => PreferenceChoice.Right, PreferenceChoice.Right => PreferenceChoice.Left, var l => l },
        }).ToList();
        using var good = new BradleyTerryTrainer().Train(Env, pairs, options);
        using var bad = new BradleyTerryTrainer().Train(Env, flipped, options);
        var truth = EpicReward.True(Env);
        double near = EpicDistance.Tabular(Env, EpicReward.Model(good, Env), truth);
        double far = EpicDistance.Tabular(Env, EpicReward.Model(bad, Env), truth);
        // Not near 0: 3-move random segments rarely reach the +-50 goal and sheep cells, so their scale is learned loosely.
        Assert.True(near < 0.4 && far > 0.8, $"EPIC of the oracle-trained model {near:F3}, of the flipped-label model {far:F3}");
    }

    [Fact]
    public void A_constant_reward_has_no_defined_distance()
    {
        Assert.True(double.IsNaN(EpicDistance.Tabular(Env, EpicReward.True(Env), EpicReward.FromFunction((_, _, _) => 3.0))));
    }
}
