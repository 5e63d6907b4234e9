using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Environments.Planning;
using PreferenceStudio.Environments.Teachers;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Regret;

namespace PreferenceStudio.Tests.Learning;

public class RegretRewardModelTests
{
    private static readonly CorridorEnvironment Corridor = new();
    private static double Sigmoid(double d) => 1 / (1 + Math.Exp(-d));

    // By hand, w = [-1, 10], exact maximum: V*(3) = 0 (goal), V*(2) = 10, V*(1) = -1 + 10 = 9, V*(0) = -2 + 10 = 8.
    [Fact]
    public void Optimal_values_match_the_hand_computed_ones()
    {
        using var model = RegretRewardModel.FromLinearWeights(Corridor, CorridorEnvironment.TrueWeights, temperature: 0);
        Assert.Equal([8.0, 9.0, 10.0, 0.0], model.OptimalValues!.ToArray());
        Assert.Equal([-1.0, 10.0], model.LinearWeights!);
    }

    [Fact]
    public void Regret_likelihood_matches_hand_computed_values()
    {
        using var model = RegretRewardModel.FromLinearWeights(Corridor, CorridorEnvironment.TrueWeights, temperature: 0);
        var pairs = new List<PreferencePair>
        {
            // D(0,1,0) = -2 + 8 - 8 = -2; D(1,2,3) = 9 + 0 - 9 = 0.
            new(CorridorEnvironment.Path(0, 1, 0), CorridorEnvironment.Path(1, 2, 3), PreferenceChoice.Right),
            // Left reaches the goal in one move and is padded with one absorbing step (reward 0): D = 10 + 0 - 10 = 0.
            // Right bumps the wall, then moves: D = -2 + 9 - 8 = -1.
            new(CorridorEnvironment.Path(2, 3), CorridorEnvironment.Path(0, 0, 1), PreferenceChoice.Left),
            // Equal partial returns (-2 each), but only the left one makes progress: D = 0 versus -2.
            new(CorridorEnvironment.Path(0, 1, 2), CorridorEnvironment.Path(2, 1, 2), PreferenceChoice.Left),
        };
        double[] expected = [Sigmoid(2), Sigmoid(-1), Sigmoid(-2)];

        var p = model.PreferRightProbabilities(pairs);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], p[i], 9);
        Assert.Equal(expected[2], model.PreferRightProbability(pairs[2].Left, pairs[2].Right), 9);
        Assert.Equal(0.0, model.SegmentScore(CorridorEnvironment.Path(0, 1, 2)), 9);
        Assert.Equal(-2.0, model.SegmentReturn(CorridorEnvironment.Path(2, 1, 2)), 9);
    }

    [Fact]
    public void True_regret_scores_match_the_hand_computed_ones()
    {
        var truth = new RegretScores(Corridor);
        Assert.Equal(8.0, truth.OptimalValue([0]));
        Assert.Equal(0.0, truth.Score(CorridorEnvironment.Path(0, 1, 2)));
        Assert.Equal(-2.0, truth.Score(CorridorEnvironment.Path(2, 1, 2)));
        Assert.Equal(-1.0, truth.Score(CorridorEnvironment.Path(0, 0, 1)));
        Assert.Equal(PreferenceChoice.Left, truth.Label(CorridorEnvironment.Path(0, 1, 2), CorridorEnvironment.Path(2, 1, 2)));
        Assert.Equal(PreferenceChoice.Equal, truth.Label(CorridorEnvironment.Path(0, 1, 2), CorridorEnvironment.Path(1, 2, 3)));
        // sigmoid(beta * (0 - (-2))) with beta = 1 is 0.88: about 880 of 1000 draws prefer the optimal right segment.
        var rng = new Random(1);
        int right = Enumerable.Range(0, 1000).Count(_ =>
            truth.SampleLabel(CorridorEnvironment.Path(2, 1, 2), CorridorEnvironment.Path(0, 1, 2), 1.0, rng) == PreferenceChoice.Right);
        Assert.InRange(right, 850, 910);
    }

    [Fact]
    public void Label_noise_mixes_in_ten_percent_random_answers()
    {
        using var model = RegretRewardModel.FromLinearWeights(Corridor, CorridorEnvironment.TrueWeights, temperature: 0, labelNoise: true);
        double p = model.PreferRightProbability(CorridorEnvironment.Path(0, 1, 0), CorridorEnvironment.Path(1, 2, 3));
        Assert.Equal(0.9 * Sigmoid(2) + 0.05, p, 9);
    }

    [Fact]
    public void Small_temperature_soft_maximum_gives_the_exact_values()
    {
        using var exact = RegretRewardModel.FromLinearWeights(Corridor, CorridorEnvironment.TrueWeights, temperature: 0);
        using var soft = RegretRewardModel.FromLinearWeights(Corridor, CorridorEnvironment.TrueWeights, temperature: 1e-3);
        using var warm = RegretRewardModel.FromLinearWeights(Corridor, CorridorEnvironment.TrueWeights, temperature: 1);
        for (int s = 0; s < 4; s++) Assert.Equal(exact.OptimalValues![s], soft.OptimalValues![s], 6);
        // A large temperature adds an entropy bonus to states with several good actions, so it is not V*.
        Assert.True(warm.OptimalValues![0] > exact.OptimalValues![0] + 0.1);
    }

    [Fact]
    public void Scores_with_the_true_weights_equal_the_true_regret_scores_on_the_delivery_board()
    {
        var env = DeliveryGridworld.Standard;
        var truth = new RegretScores(env);
        using var model = RegretRewardModel.FromLinearWeights(env, DeliveryGridworld.TrueWeights, temperature: 0);
        var segments = RegretTrainerTests.RegretPairs(100, seed: 5).SelectMany(p => new[] { p.Left, p.Right }).ToList();
        foreach (var segment in segments)
            Assert.Equal(truth.Score(segment), model.SegmentScore(segment), 4);
        Assert.Contains(segments, s => truth.Score(s) < -1);
    }

    [Fact]
    public void Greedy_action_of_the_reward_form_heads_for_the_goal()
    {
        using var model = RegretRewardModel.FromLinearWeights(Corridor, CorridorEnvironment.TrueWeights);
        for (int cell = 0; cell < 3; cell++) Assert.Equal([1.0], model.GreedyAction([cell]));
        using var reversed = RegretRewardModel.FromLinearWeights(Corridor, [-1, -10]);
        Assert.Equal([0.0], reversed.GreedyAction([2]));
    }

    [Fact]
    public void Checkpoint_round_trip_gives_identical_predictions_for_linear_and_mlp_rewards()
    {
        var env = DeliveryGridworld.Standard;
        var train = RegretTrainerTests.RegretPairs(80, seed: 3);
        var probe = RegretTrainerTests.RegretPairs(40, seed: 8);
        var options = new RewardModelOptions { Device = "cpu", Seed = 2, HiddenSizes = [8], LabelNoise = true };
        foreach (var form in new[] { RegretForm.LinearReward, RegretForm.MlpReward })
        {
            using var model = new RegretTrainer(new RegretOptions { Form = form, Steps = 10, Horizon = 30 }).TrainModel(env, train, options);
            var path = Path.Combine(Path.GetTempPath(), $"regret-{Guid.NewGuid():N}.pt");
            try
            {
                model.Save(path);
                Assert.Equal("regret", RewardCheckpoint.PeekModelType(path));
                using var loaded = RegretRewardModel.Load(path, device: "cpu");
                Assert.Equal(form, loaded.Form);
                Assert.Equal(30, loaded.Horizon);
                Assert.True(loaded.LabelNoise);
                Assert.Equal(model.PreferRightProbabilities(probe), loaded.PreferRightProbabilities(probe));
                Assert.Equal(model.OptimalValues, loaded.OptimalValues);
                Assert.Equal(model.LinearWeights, loaded.LinearWeights);
                Assert.Equal(model.GreedyAction([0, 0]), loaded.GreedyAction([0, 0]));
                using var viaRegistry = RewardModels.Load(path, device: "cpu");
                Assert.Equal(model.PreferRightProbabilities(probe), Assert.IsType<RegretRewardModel>(viaRegistry).PreferRightProbabilities(probe));
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    [Fact]
    public void Loading_another_models_checkpoint_fails_clearly()
    {
        var path = Path.Combine(Path.GetTempPath(), $"regret-{Guid.NewGuid():N}.pt");
        try
        {
            File.WriteAllText(path, "not a checkpoint");
            Assert.Throws<RewardTrainingException>(() => RegretRewardModel.Load(path, Corridor, "cpu"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Training_without_usable_or_informative_labels_throws_a_clear_error()
    {
        var trainer = RewardModels.Trainer("regret");
        Assert.IsType<RegretTrainer>(trainer);
        var options = new RewardModelOptions { Device = "cpu" };
        var a = CorridorEnvironment.Path(0, 1, 2);
        var b = CorridorEnvironment.Path(2, 1, 0);
        var empty = Assert.Throws<RewardTrainingException>(() => trainer.Train(Corridor, [], options));
        Assert.Contains("No preference pairs", empty.Message);
        Assert.Throws<RewardTrainingException>(() => trainer.Train(Corridor, [new(a, b, PreferenceChoice.Incomparable)], options));
        var same = Assert.Throws<RewardTrainingException>(() => trainer.Train(Corridor,
            [new(a, b, PreferenceChoice.Right), new(b, a, PreferenceChoice.Right)], options));
        Assert.Contains("'right'", same.Message);
    }

    [Fact]
    public void A_non_finite_loss_throws_instead_of_returning_a_broken_model()
    {
        var poisoned = new CorridorEnvironment(poisonFeatures: true);
        var a = CorridorEnvironment.Path(0, 1, 2);
        var b = CorridorEnvironment.Path(2, 1, 0);
        var error = Assert.Throws<RewardTrainingException>(() => new RegretTrainer().Train(poisoned,
            [new(a, b, PreferenceChoice.Left), new(b, a, PreferenceChoice.Right)], new RewardModelOptions { Device = "cpu" }));
        Assert.Contains("NaN", error.Message);
    }

    [Fact]
    public void Reward_forms_refuse_an_environment_without_tabular_dynamics()
    {
        var env = new PointLineEnvironment();
        Assert.Throws<ArgumentException>(() => new RegretTrainer(new RegretOptions { Form = RegretForm.LinearReward })
            .Train(env, env.Pairs(10, seed: 1), new RewardModelOptions { Device = "cpu" }));
    }
}

/// <summary>
/// A 1 x 4 corridor: cells 0..3, actions left (0) and right (1), cell 3 the terminal goal. Features [step, goal]: a move
/// that ends off the goal (or bumps the wall) costs one step, entering the goal sets goal; the absorbing goal cell has
/// all-zero features. Small enough to compute V* and the regret likelihood by hand.
/// </summary>
internal sealed class CorridorEnvironment(bool poisonFeatures = false) : ITabularEnvironment
{
    public string Name => "test-corridor";
    public string DisplayName => "Test corridor";
    public ActionSpace ActionSpace { get; } = ActionSpace.Discrete("left", "right");
    public int FeatureSize => 2;
    public IReadOnlyList<string> FeatureNames { get; } = ["step", "goal"];
    public int DefaultSegmentLength => 2;
    public int MaxEpisodeSteps => 6;
    public int StateCount => 4;
    public IReadOnlyList<int> StartStates { get; } = [0, 1, 2];
    public IReadOnlyList<RewardFactor> Factors { get; } =
        [new("step", "Moves", FactorDirection.LowerIsBetter), new("goal", "Reached the goal", FactorDirection.HigherIsBetter)];

    /// <summary>True reward weights: -1 per step, +10 for the goal.</summary>
    public static readonly double[] TrueWeights = [-1, 10];

    public double[] SampleStart(Random rng) => [StartStates[rng.Next(StartStates.Count)]];
    public bool IsTerminal(double[] state) => state[0] == 3;
    public int StateIndex(double[] state) => (int)state[0];
    public double[] StateAt(int index) => [index];

    public string? ValidateState(double[] state) =>
        state.Length == 1 && state[0] is 0 or 1 or 2 or 3 ? null : $"[{string.Join(", ", state)}] is not a corridor cell";

    public Transition Step(double[] state, double[] action)
    {
        if (IsTerminal(state)) return new Transition(state, 0, true);
        double next = Math.Clamp(state[0] + (action[0] == 1 ? 1 : -1), 0, 3);
        var phi = StepFeatures(state, action, [next]);
        return new Transition([next], TrueWeights[0] * phi[0] + TrueWeights[1] * phi[1], next == 3);
    }

    public float[] StepFeatures(double[] state, double[] action, double[] next)
    {
        if (poisonFeatures) return [float.NaN, 0];
        if (IsTerminal(state)) return [0, 0];
        return next[0] == 3 ? [0, 1] : [1, 0];
    }

    public double[] StepFactors(double[] state, double[] action, double[] next) =>
        StepFeatures(state, action, next).Select(v => (double)v).ToArray();

    public static Segment Path(params int[] cells)
    {
        var actions = cells.Zip(cells.Skip(1), (a, b) => b > a ? 1 : 0);
        return Segment.Discrete(cells.Select(c => new double[] { c }).ToArray(), actions);
    }
}

