using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Learning;
using PreferenceStudio.Learning.Loop;
using PreferenceStudio.Learning.Reliability;
using PreferenceStudio.Learning.Vpl;
using Xunit.Abstractions;

namespace PreferenceStudio.Tests.Learning;

/// <summary>Reliability weighting (Dawid-Skene EM around any reward model) on small seeded crowds.</summary>
public class ReliabilityTests(ITestOutputHelper output)
{
    private static readonly RewardModelOptions Fast = new() { Device = "cpu", Epochs = 100, EnsembleSize = 1 };

    private static CrowdSettings Crowd(string crowd, string weighting, int gold = 0) =>
        new(CrowdSpec.Parse(crowd), "bt", weighting, Pool: 120, LabelsPerRater: 40, GoldPerRater: gold, TestPairs: 300, SegmentLength: 10, Seed: 5,
            ModelOptions: Fast);

    [Fact]
    public void Weighting_recovers_the_true_reward_from_a_crowd_with_an_adversarial_minority_and_ranks_the_adversaries_lowest()
    {
        var env = DeliveryGridworld.Standard;
        var plain = CrowdSimulation.Run(env, Crowd("oracle:5,random:2,adversarial:3", RaterWeighting.None));
        var weighted = CrowdSimulation.Run(env, Crowd("oracle:5,random:2,adversarial:3", RaterWeighting.Reliability));
        output.WriteLine($"unweighted {plain.Clean.Accuracy:F3}, weighted {weighted.Clean.Accuracy:F3}; " +
                         string.Join(", ", weighted.Reliability!.OrderBy(r => r.Key).Select(r => $"{r.Key} {r.Value:F2}")));
        Assert.True(weighted.Clean.Accuracy >= 0.95, $"weighted accuracy {weighted.Clean.Accuracy:F3}");
        Assert.True(weighted.Clean.Accuracy > plain.Clean.Accuracy + 0.05, $"weighted {weighted.Clean.Accuracy:F3} vs unweighted {plain.Clean.Accuracy:F3}");
        var by = weighted.Reliability!.GroupBy(r => weighted.TeacherOf[r.Key]).ToDictionary(g => g.Key, g => g.Select(r => r.Value).ToList());
        Assert.True(by["adversarial"].Max() < by["random"].Min(), "every adversarial rater below every random one");
        Assert.True(by["random"].Max() < by["oracle"].Min(), "every random rater below every careful one");
        Assert.All(by["oracle"], a => Assert.True(a > 0.85, $"careful rater at {a:F2}"));
        Assert.All(by["adversarial"], a => Assert.True(a < 0.2, $"adversarial rater at {a:F2}"));
        Assert.All(by["random"], a => Assert.InRange(a, 0.3, 0.7));
    }

    [Fact]
    public void Gold_answers_turn_an_adversarial_majority_around()
    {
        var env = DeliveryGridworld.Standard;
        var without = CrowdSimulation.Run(env, Crowd("oracle:3,adversarial:5", RaterWeighting.Reliability));
        var with = CrowdSimulation.Run(env, Crowd("oracle:3,adversarial:5", RaterWeighting.Reliability, gold: 8));
        output.WriteLine($"without gold {without.Clean.Accuracy:F3}, with gold {with.Clean.Accuracy:F3}");
        // Without gold the majority defines "right" and the model learns it backwards; gold fixes the direction.
        Assert.True(without.Clean.Accuracy < 0.5, $"without gold {without.Clean.Accuracy:F3}");
        Assert.True(with.Clean.Accuracy >= 0.95, $"with gold {with.Clean.Accuracy:F3}");
        Assert.All(with.Reliability!.Where(r => r.Key.StartsWith("adversarial", StringComparison.Ordinal)), r => Assert.True(r.Value < 0.2));
    }

    [Fact]
    public void Gold_is_scored_exactly_and_rule_labels_train_without_being_judged()
    {
        var env = DeliveryGridworld.Standard;
        var crowd = CrowdSimulation.Run(env, Crowd("oracle:3", RaterWeighting.None, gold: 4));
        // A rater who calls every gold pair a tie: "equal" is not half right when the fixed answer is left or right.
        var ties = crowd.Labels.Where(p => p.Rater == "oracle-1" && p.Gold is not null)
            .Select(p => p with { Rater = "ties", Label = PreferenceChoice.Equal }).ToList();
        // Labels made by a rule (as from factor rankings): trained on, never given a reliability.
        var rule = crowd.Labels.Where(p => p.Rater == "oracle-2" && p.Gold is null).Take(10).Select(p => p with { Rater = "rule" }).ToList();
        var fit = new ReliabilityWeightedTrainer(new BradleyTerryTrainer())
            .Train(env, crowd.Labels.Concat(ties).ToList(), Fast with { Seed = 1 }, fixedPairs: rule);
        using (fit.Model)
        {
            Assert.Equal((0.0, 4), fit.GoldAccuracy["ties"]);
            Assert.Equal((1.0, 4), fit.GoldAccuracy["oracle-1"]);
            Assert.False(fit.Reliability.ContainsKey("rule"));
            Assert.True(fit.Reliability["ties"] < 0.5, $"ties at {fit.Reliability["ties"]:F2}");
        }
    }

    [Fact]
    public void A_clean_crowd_trains_the_same_model_with_or_without_weighting()
    {
        var env = DeliveryGridworld.Standard;
        var plain = CrowdSimulation.Run(env, Crowd("oracle:6", RaterWeighting.None));
        var weighted = CrowdSimulation.Run(env, Crowd("oracle:6", RaterWeighting.Reliability));
        output.WriteLine($"unweighted {plain.Clean.Accuracy:F4}, weighted {weighted.Clean.Accuracy:F4}");
        Assert.Equal(plain.Clean.Accuracy, weighted.Clean.Accuracy, 2);
        Assert.All(weighted.Reliability!.Values, a => Assert.True(a > 0.9, $"a careful rater at {a:F2}"));
    }

    [Fact]
    public void Equally_reliable_raters_keep_their_labels_and_unit_weights_and_a_backwards_one_is_turned_around()
    {
        var env = DeliveryGridworld.Standard;
        var pairs = TwoKindRaters.Labels([0, 0], 5, seed: 2);
        var raters = pairs.Select(p => p.Rater!).ToArray();
        var same = ReliabilityWeightedTrainer.Weighted(pairs, raters, raters.Distinct().ToDictionary(r => r, _ => 0.8));
        Assert.Equal(pairs.Select(p => p.Label), same.Select(p => p.Label));
        Assert.All(same, p => Assert.Equal(1.0, p.Weight, 12));

        var mixed = ReliabilityWeightedTrainer.Weighted(pairs, raters, new Dictionary<string, double> { [raters[0]] = 0.1, [raters[^1]] = 0.5 });
        for (int i = 0; i < pairs.Count; i++)
        {
            bool backwards = raters[i] == raters[0];
            // A rater at 0.5 is a coin: weight 0. One at 0.1 is reliably backwards: turned around, and all the weight.
            Assert.Equal(backwards ? 2.0 : 0.0, mixed[i].Weight, 9);
            if (backwards && pairs[i].Label is PreferenceChoice.Left or PreferenceChoice.Right) Assert.NotEqual(pairs[i].Label, mixed[i].Label);
        }
    }

    [Fact]
    public void With_per_rater_rewards_a_rater_of_another_kind_stays_reliable()
    {
        // Two kinds of careful raters (TwoKindRaters, two of each): with VPL each is predicted by their own latent, so
        // both kinds are reliable; one Bradley-Terry reward for all takes the disagreement for unreliability.
        var train = TwoKindRaters.Labels(VplModelFixture.Kinds, 150, seed: 4);
        var options = VplModelFixture.Options;
        var small = new ReliabilityOptions { MaxIterations = 1 };
        var vpl = new ReliabilityWeightedTrainer(new VplTrainer(VplModelFixture.Vpl), small).Train(TwoKindRaters.Env, train, options);
        using (vpl.Model)
        {
            var bt = new ReliabilityWeightedTrainer(new BradleyTerryTrainer(), small).Train(TwoKindRaters.Env, train, options with { Epochs = 60, EnsembleSize = 1 });
            bt.Model.Dispose();
            output.WriteLine("vpl: " + string.Join(", ", vpl.Reliability.OrderBy(r => r.Key).Select(r => $"{r.Key} {r.Value:F2}")));
            output.WriteLine("bt:  " + string.Join(", ", bt.Reliability.OrderBy(r => r.Key).Select(r => $"{r.Key} {r.Value:F2}")));
            Assert.All(vpl.Reliability.Values, a => Assert.True(a > 0.85, $"VPL reliability {a:F2}"));
            Assert.True(bt.Reliability.Values.Average() < vpl.Reliability.Values.Average() - 0.1,
                $"one reward for both kinds: mean reliability {bt.Reliability.Values.Average():F2}; each rater's own latent: {vpl.Reliability.Values.Average():F2}");
        }
    }

    [Fact]
    public void A_crowd_is_read_from_teacher_counts_and_a_bad_one_is_refused_with_the_reason()
    {
        var crowd = CrowdSpec.Parse("oracle:8, random:6,adversarial:6");
        Assert.Equal(20, crowd.Raters);
        Assert.Equal("oracle:8,random:6,adversarial:6", crowd.ToString());
        Assert.Contains("Unknown teacher 'sloppy'", Assert.Throws<ArgumentException>(() => CrowdSpec.Parse("sloppy:3")).Message);
        Assert.Contains("'oracle'", Assert.Throws<ArgumentException>(() => CrowdSpec.Parse("oracle")).Message);
        Assert.Contains("'random:0'", Assert.Throws<ArgumentException>(() => CrowdSpec.Parse("random:0")).Message);
    }
}
