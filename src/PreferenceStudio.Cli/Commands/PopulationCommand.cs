using System.CommandLine;
using System.Text.Json;
using PreferenceStudio.Core.Exchange;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Delivery;
using PreferenceStudio.Environments.Teachers;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio population</c>: writes a simulated rater population (<see cref="RaterPopulation"/>) as an exchange file
/// for <c>studio train --model vpl</c>: raters of unequal kinds that weigh the reward factors in conflicting ways,
/// Boltzmann answers, some noisy raters. Each record's <c>group</c> is its rater's kind (the models never read it).
/// The last line says what a model that knew the kinds could reach (<c>oracle_accuracy</c>) and what one reward for
/// everyone reaches (<c>pooled_accuracy</c>).
/// </summary>
public static class PopulationCommand
{
    public static Command Create()
    {
        var o = new PopulationOptions("raters of each kind, e.g. 16,8 (two kinds of unequal size)", requireEnvironment: true);
        var output = CliOptions.Required<string>("--out", "the exchange file to write", "FILE.jsonl");
        var command = new Command("population", "write a simulated population of raters of conflicting kinds as an exchange file (for per-rater models)");
        foreach (var option in o.All) command.Options.Add(option);
        command.Options.Add(output);
        return command.WithAction(async (parse, ct) =>
        {
            var environment = o.Environment(parse);
            var settings = o.Read(parse);
            var population = RaterPopulation.Generate(environment, settings);
            var path = Path.GetFullPath(parse.GetRequiredValue(output));
            await using (var writer = new StreamWriter(path))
                foreach (var rater in population.Raters)
                    for (int i = 0; i < rater.Labels.Count; i++)
                    {
                        var label = rater.Labels[i];
                        await writer.WriteLineAsync(PreferenceJsonl.Write(new PreferenceRecord($"{rater.Name}/{i}", environment.Name, label.Left, label.Right, label.Answer)
                        {
                            Rater = rater.Name,
                            Group = $"kind-{rater.Kind}",
                        }));
                    }
            static double R(double v) => Math.Round(v, 4);
            parse.InvocationConfiguration.Output.WriteLine(JsonSerializer.Serialize(new
            {
                environment = environment.Name, path, raters = population.Raters.Count, kinds = settings.KindSizes,
                noisy = population.Raters.Count(r => r.Noisy), labels = population.Raters.Sum(r => r.Labels.Count),
                labels_min = population.Raters.Min(r => r.Labels.Count), labels_max = population.Raters.Max(r => r.Labels.Count),
                beta = settings.Beta, noisy_beta = settings.NoisyBeta, segment_length = settings.SegmentLength,
                oracle_accuracy = R(population.OracleAccuracy), pooled_accuracy = R(population.PooledAccuracy),
                kind_weights = population.KindWeights.Select(w => w.Select(R)), factors = environment.Factors.Select(f => f.Name), seed = settings.Seed,
            }));
            return 0;
        });
    }
}

/// <summary>The options that describe a simulated population (<see cref="PopulationSettings"/>), shared by the verbs that generate one.</summary>
internal sealed class PopulationOptions(string kindsDescription, bool requireEnvironment)
{
    public readonly Option<string> Env = CliOptions.Environment(requireEnvironment
        ? "the environment whose reward factors the kinds weigh"
        : $"the environment whose reward factors the kinds weigh (default: {DeliveryGridworld.EnvironmentName})", requireEnvironment);
    public readonly Option<int[]> Kinds = CliOptions.Counts("--kinds", [16, 8], kindsDescription);
    public readonly Option<int> MinLabels = CliOptions.With("--min-labels", 40, "fewest labels a rater gives");
    public readonly Option<int> MaxLabels = CliOptions.With("--max-labels", 100, "most labels a rater gives");
    public readonly Option<int> SegmentLength = CliOptions.With("--segment-length", 3, "steps per segment");
    public readonly Option<double> Beta = CliOptions.With("--beta", 2.0, "Boltzmann rationality of a rater, per standard deviation of their kind's segment returns");
    public readonly Option<double> NoisyShare = CliOptions.With("--noisy-share", 0.2, "share of each kind's raters who are noisy");
    public readonly Option<double> NoisyBeta = CliOptions.With("--noisy-beta", 0.5, "the noisy raters' beta");
    public readonly Option<int> Pool = CliOptions.With("--pool", 600, "segments the pairs are drawn from");
    public readonly Option<int> Seed = CliOptions.With("--seed", 1, "seed of rollouts, kinds and answers");

    public IPreferenceEnvironment Environment(ParseResult parse) => EnvironmentRegistry.Get(parse.GetValue(Env) ?? DeliveryGridworld.EnvironmentName);

    public IEnumerable<Option> All => [Env, Kinds, MinLabels, MaxLabels, SegmentLength, Beta, NoisyShare, NoisyBeta, Pool, Seed];

    /// <summary>The settings given, with <paramref name="extraPerKind"/> more raters of every kind; bad values are a usage error.</summary>
    public PopulationSettings Read(ParseResult parse, int extraPerKind = 0)
    {
        var settings = new PopulationSettings(parse.GetRequiredValue(Kinds).Select(k => k + extraPerKind).ToArray(), parse.GetValue(MinLabels),
            parse.GetValue(MaxLabels), parse.GetValue(SegmentLength), parse.GetValue(Beta), parse.GetValue(NoisyShare), parse.GetValue(NoisyBeta),
            parse.GetValue(Pool), parse.GetValue(Seed));
        try
        {
            settings.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CliUsageException(e.Message);
        }
        return settings;
    }
}
