using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Environments.Teachers;

namespace PreferenceStudio.Tests.Teachers;

public class SimulatedTeacherTests
{
    private static readonly DeliveryGridworld Env = DeliveryGridworld.Standard;

    // Two road moves from (2,3): -1 + -1 = -2.
    private static readonly Segment TwoRoadMoves = Segment.Discrete([[2, 3], [2, 4], [2, 5]], [3, 3]);

    // Into the coin at (1,4) (0), then road (-1): -1.
    private static readonly Segment ThroughCoin = Segment.Discrete([[1, 3], [1, 4], [1, 5]], [3, 3]);

    [Fact]
    public void Oracle_prefers_the_segment_with_the_higher_true_return()
    {
        Assert.Equal(-2, ((IPreferenceEnvironment)Env).TrueReturn(TwoRoadMoves));
        Assert.Equal(-1, ((IPreferenceEnvironment)Env).TrueReturn(ThroughCoin));
        var oracle = SimulatedTeacher.Create("oracle", returnScale: 2, seed: 1);

        Assert.Equal(PreferenceChoice.Right, oracle.Answer(Env, TwoRoadMoves, ThroughCoin));
        Assert.Equal(PreferenceChoice.Left, oracle.Answer(Env, ThroughCoin, TwoRoadMoves));
    }

    [Fact]
    public void The_adversarial_teacher_answers_backwards_and_the_random_one_ignores_the_clips()
    {
        var adversarial = SimulatedTeacher.Create("adversarial", returnScale: 2, seed: 1);
        Assert.Equal(PreferenceChoice.Left, adversarial.Answer(Env, TwoRoadMoves, ThroughCoin));
        Assert.Equal(PreferenceChoice.Right, adversarial.Answer(Env, ThroughCoin, TwoRoadMoves));

        var random = SimulatedTeacher.Create("random", returnScale: 2, seed: 1);
        var answers = Enumerable.Range(0, 2000).Select(_ => random.Answer(Env, TwoRoadMoves, ThroughCoin)).ToList();
        Assert.All(answers, a => Assert.True(a is PreferenceChoice.Left or PreferenceChoice.Right));
        // The better clip (right) is picked about half of the time: 1000 +- 4.5 standard deviations.
        Assert.InRange(answers.Count(a => a == PreferenceChoice.Right), 900, 1100);
        // Even an exact tie gets a side: a careless rater does not look.
        Assert.NotEqual(PreferenceChoice.Equal, random.Answer([-1, -1], [-2, 0]));
    }

    [Fact]
    public void Oracle_answers_equal_on_an_exact_tie_instead_of_favouring_a_side()
    {
        var oracle = SimulatedTeacher.Create("oracle", 2, seed: 1);
        Assert.Equal(PreferenceChoice.Equal, oracle.Answer([-1, -1], [-2, 0]));
    }

    [Fact]
    public void Equal_teacher_says_equal_only_within_its_scaled_threshold()
    {
        // Threshold = 0.1 * 10 = 1.
        var equal = SimulatedTeacher.Create("equal", returnScale: 10, seed: 1);
        var oracle = SimulatedTeacher.Create("oracle", returnScale: 10, seed: 1);
        Assert.Equal(1, equal.EqualThreshold, 12);

        Assert.Equal(PreferenceChoice.Equal, equal.Answer([-1, -1, -1], [-1, -1, -1.5]));
        Assert.Equal(PreferenceChoice.Left, oracle.Answer([-1, -1, -1], [-1, -1, -1.5]));
        Assert.Equal(PreferenceChoice.Left, equal.Answer([-1, -1, -1], [-1, -1, -3]));
    }

    [Fact]
    public void Skip_teacher_declines_pairs_whose_best_return_is_below_its_threshold()
    {
        // Threshold = 0.1 * 10 = 1: a pair is kept only if max(R1, R2) > 1.
        var skip = SimulatedTeacher.Create("skip", returnScale: 10, seed: 1);

        Assert.Null(skip.Answer([0.5], [0.2]));
        Assert.Null(skip.Answer(Env, TwoRoadMoves, ThroughCoin));
        Assert.Equal(PreferenceChoice.Right, skip.Answer([0.5], [2]));
    }

    [Fact]
    public void Myopic_weighting_changes_the_answer_when_early_reward_is_discounted()
    {
        // Undiscounted: 10 vs 9. Myopic (gamma 0.9, weight 0.9^(H-1-t)): 10 * 0.81 = 8.1 vs 9.
        double[] earlyReward = [10, 0, 0], lateReward = [0, 0, 9];

        Assert.Equal(PreferenceChoice.Left, SimulatedTeacher.Create("oracle", 10, 1).Answer(earlyReward, lateReward));
        Assert.Equal(PreferenceChoice.Right, SimulatedTeacher.Create("myopic", 10, 1).Answer(earlyReward, lateReward));
    }

    [Fact]
    public void Mistake_teacher_flips_about_epsilon_of_its_answers()
    {
        var mistake = SimulatedTeacher.Create("mistake", 1, seed: 7);
        const int pairs = 4000;
        int flipped = 0;
        for (int i = 0; i < pairs; i++)
            if (mistake.Answer([0.0], [1.0]) == PreferenceChoice.Left) flipped++;

        // epsilon = 0.1; the binomial standard deviation is ~0.0047, so 0.02 is more than 4 of them.
        Assert.InRange(flipped / (double)pairs, 0.08, 0.12);
    }

    [Fact]
    public void Noisy_teacher_samples_from_the_bradley_terry_probability()
    {
        var noisy = SimulatedTeacher.Create("noisy", 1, seed: 3);
        const int pairs = 4000;
        int right = 0;
        for (int i = 0; i < pairs; i++)
            if (noisy.Answer([0.0], [1.0]) == PreferenceChoice.Right) right++;

        double expected = 1 / (1 + Math.Exp(-1.0)); // beta = 1, R2 - R1 = 1: 0.731
        Assert.InRange(right / (double)pairs, expected - 0.03, expected + 0.03);
    }

    [Fact]
    public void Answers_are_reproducible_under_the_same_seed()
    {
        var rng = new Random(11);
        var queries = Enumerable.Range(0, 200)
            .Select(_ => (L: new[] { rng.NextDouble() * 4 - 2 }, R: new[] { rng.NextDouble() * 4 - 2 }))
            .ToArray();
        PreferenceChoice?[] Run(int seed)
        {
            var teacher = SimulatedTeacher.Create("noisy", 1, seed);
            return queries.Select(q => teacher.Answer(q.L, q.R)).ToArray();
        }

        Assert.Equal(Run(5), Run(5));
        Assert.NotEqual(Run(5), Run(6));
    }

    [Fact]
    public void Unknown_teacher_name_is_rejected_with_the_known_names()
    {
        var e = Assert.Throws<ArgumentException>(() => SimulatedTeacher.Create("psychic", 1, 1));
        foreach (var name in new[] { "oracle", "mistake", "noisy", "skip", "myopic", "equal" })
            Assert.Contains(name, e.Message);
    }

    [Fact]
    public void Return_scale_is_the_mean_absolute_segment_return()
    {
        Assert.Equal(1.5, SimulatedTeacher.EstimateReturnScale(Env, [TwoRoadMoves, ThroughCoin]), 12);
    }
}
