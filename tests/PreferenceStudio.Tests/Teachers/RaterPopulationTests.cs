using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Teachers;

namespace PreferenceStudio.Tests.Teachers;

/// <summary>The independent rater-population generator has the properties it claims, on small seeded cases.</summary>
public sealed class RaterPopulationTests
{
    private static readonly IPreferenceEnvironment Delivery = EnvironmentRegistry.Get("delivery-gridworld");

    private static double Agreement(IEnumerable<PopulationLabel> labels)
    {
        var decisive = labels.Where(l => l.Answer != PreferenceChoice.Equal && l.KindPrefers != PreferenceChoice.Equal).ToList();
        return (double)decisive.Count(l => l.Answer == l.KindPrefers) / decisive.Count;
    }

    [Fact]
    public void Kinds_label_counts_and_noisy_raters_are_as_asked()
    {
        var population = RaterPopulation.Generate(Delivery, new PopulationSettings([6, 3, 1], MinLabels: 40, MaxLabels: 60, NoisyShare: 0.34, Seed: 3));
        Assert.Equal([6, 3, 1], Enumerable.Range(0, 3).Select(k => population.Raters.Count(r => r.Kind == k)));
        Assert.All(population.Raters, r => Assert.InRange(r.Labels.Count, 40, 60));
        Assert.True(population.Raters.Select(r => r.Labels.Count).Distinct().Count() > 3, "label counts vary between raters");
        // round(0.34 * size) noisy raters in each kind: 2 of 6, 1 of 3, 0 of 1.
        Assert.Equal([2, 1, 0], Enumerable.Range(0, 3).Select(k => population.Raters.Count(r => r.Kind == k && r.Noisy)));
        Assert.All(population.Raters, r => Assert.Equal(r.Noisy ? 0.5 : 2.0, r.Beta));
        // Short segments: three moves, fewer only where the episode ended.
        var segments = population.Raters.SelectMany(r => r.Labels).SelectMany(l => new[] { l.Left, l.Right }).ToList();
        Assert.All(segments, s => Assert.InRange(s.Length, 1, 3));
        Assert.True(segments.Count(s => s.Length == 3) > segments.Count / 2);
        // Names are unique and do not follow the kinds.
        Assert.Equal(10, population.Raters.Select(r => r.Name).Distinct().Count());
        Assert.NotEqual(population.Raters.OrderBy(r => r.Kind).Select(r => r.Name), population.Raters.Select(r => r.Name));
    }

    [Fact]
    public void The_same_seed_gives_the_same_population_and_another_seed_another()
    {
        static string Fingerprint(Population p) => string.Join(";", p.Raters.Select(r => $"{r.Name}:{r.Kind}:{string.Concat(r.Labels.Select(l => (int)l.Answer))}"));
        var settings = new PopulationSettings([3, 2], Seed: 5);
        Assert.Equal(Fingerprint(RaterPopulation.Generate(Delivery, settings)), Fingerprint(RaterPopulation.Generate(Delivery, settings)));
        Assert.NotEqual(Fingerprint(RaterPopulation.Generate(Delivery, settings)), Fingerprint(RaterPopulation.Generate(Delivery, settings with { Seed = 6 })));
    }

    [Fact]
    public void Answers_follow_beta_noisy_raters_answer_closer_to_chance()
    {
        var population = RaterPopulation.Generate(Delivery, new PopulationSettings([10, 10], MinLabels: 100, MaxLabels: 100, Beta: 8, NoisyShare: 0.5, NoisyBeta: 0, Seed: 7));
        double careful = Agreement(population.Raters.Where(r => !r.Noisy).SelectMany(r => r.Labels));
        double noisy = Agreement(population.Raters.Where(r => r.Noisy).SelectMany(r => r.Labels));
        Assert.True(careful > 0.85, $"careful raters agree with their kind {careful:F3}");
        Assert.InRange(noisy, 0.4, 0.6); // beta 0: a coin
        var sharper = RaterPopulation.Generate(Delivery, new PopulationSettings([10, 10], MinLabels: 100, MaxLabels: 100, Beta: 1, NoisyShare: 0, Seed: 7));
        Assert.True(Agreement(sharper.Raters.SelectMany(r => r.Labels)) < careful - 0.05, "a lower beta answers less consistently");
    }

    [Fact]
    public void Kinds_conflict_so_knowing_the_kind_beats_one_reward_for_everyone()
    {
        var population = RaterPopulation.Generate(Delivery, new PopulationSettings([12, 12], MinLabels: 80, MaxLabels: 80, Beta: 4, NoisyShare: 0, Seed: 9));
        var pairs = population.Raters.SelectMany(r => r.Labels).ToList();
        int disagree = pairs.Count(l => RaterPopulation.Prefers(Delivery, population.KindWeights[0], l.Left, l.Right) is var a
            && RaterPopulation.Prefers(Delivery, population.KindWeights[1], l.Left, l.Right) is var b
            && a != PreferenceChoice.Equal && b != PreferenceChoice.Equal && a != b);
        Assert.True(disagree > pairs.Count / 5, $"the kinds disagree on {disagree} of {pairs.Count} pairs");
        Assert.True(population.OracleAccuracy > population.PooledAccuracy + 0.1,
            $"oracle {population.OracleAccuracy:F3}, pooled {population.PooledAccuracy:F3}");
    }

    [Fact]
    public void A_further_question_is_answered_as_the_generated_labels_were()
    {
        var population = RaterPopulation.Generate(Delivery, new PopulationSettings([4, 4], MinLabels: 40, MaxLabels: 40, Beta: 8, NoisyShare: 0, Seed: 4));
        Assert.Equal(600, population.Segments.Count);
        var rng = new Random(1);
        foreach (var rater in population.Raters)
        {
            var asked = Enumerable.Range(0, 60).Select(_ => population.Ask(rater, population.Segments[rng.Next(600)], population.Segments[rng.Next(600)], rng)).ToList();
            // What the kind prefers is its own reward's verdict, and a careful rater mostly agrees with it.
            Assert.All(asked, l => Assert.Equal(RaterPopulation.Prefers(Delivery, population.KindWeights[rater.Kind], l.Left, l.Right), l.KindPrefers));
            Assert.All(asked.Where(l => l.KindPrefers == PreferenceChoice.Equal), l => Assert.Equal(PreferenceChoice.Equal, l.Answer));
            Assert.True(Agreement(asked) > 0.8, $"{rater.Name} agrees with their kind on {Agreement(asked):F3} of new questions");
        }
        // The two kinds answer the same questions differently (the other kind's verdicts disagree often).
        var kind0 = population.Raters.First(r => r.Kind == 0);
        var shared = Enumerable.Range(0, 200).Select(_ => (population.Segments[rng.Next(600)], population.Segments[rng.Next(600)])).ToList();
        int differ = shared.Count(p => RaterPopulation.Prefers(Delivery, population.KindWeights[1], p.Item1, p.Item2) is var other
            && population.Ask(kind0, p.Item1, p.Item2, rng).KindPrefers is var own && own != PreferenceChoice.Equal && other != PreferenceChoice.Equal && own != other);
        Assert.True(differ > 20, $"kinds differ on {differ} of 200 questions");
    }
}
