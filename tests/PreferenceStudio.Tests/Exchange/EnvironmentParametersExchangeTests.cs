using PreferenceStudio.Core.Exchange;
using PreferenceStudio.Environments;
using PreferenceStudio.Environments.Planning;

namespace PreferenceStudio.Tests.Exchange;

/// <summary>A dataset recorded with non-default environment parameters carries them and is checked against them.</summary>
public sealed class EnvironmentParametersExchangeTests
{
    private static readonly Dictionary<string, double> LowGravity = new() { ["gravity"] = 4 };

    private static PreferenceRecord Record(IReadOnlyDictionary<string, double>? parameters)
    {
        var env = EnvironmentRegistry.Create("pendulum", LowGravity);
        var episodes = Rollouts.CollectRandom(env, 2, new Random(3));
        var left = SegmentCutter.Cut(env, episodes[0], 5)[0];
        var right = SegmentCutter.Cut(env, episodes[1], 5)[0];
        return new PreferenceRecord("p1", "pendulum", left, right, PreferenceChoice.Left) { EnvironmentParameters = parameters };
    }

    [Fact]
    public void Parameters_round_trip_and_the_segments_are_checked_against_them()
    {
        var line = PreferenceJsonl.Write(Record(LowGravity));
        Assert.Contains("\"environment_parameters\":{\"gravity\":4}", line);
        var read = PreferenceJsonl.ReadAll(new StringReader(line));
        Assert.True(read.IsValid, string.Join("; ", read.Errors.Select(e => e.Message)));
        var record = Assert.Single(read.Records);
        Assert.Equal(4, record.EnvironmentParameters!["gravity"]);
        // Continuous actions survive the round trip exactly.
        Assert.Equal(Record(LowGravity).Left, record.Left);
    }

    [Fact]
    public void Segments_of_other_parameters_are_refused_and_bad_parameters_named()
    {
        // The same low-gravity segments claimed to be default pendulum segments: the dynamics do not match.
        var withoutParameters = PreferenceJsonl.ReadAll(new StringReader(PreferenceJsonl.Write(Record(null))));
        Assert.False(withoutParameters.IsValid);
        Assert.Contains(withoutParameters.Errors, e => e.Message.Contains("leads to"));

        var outOfRange = PreferenceJsonl.Write(Record(LowGravity)).Replace("\"gravity\":4", "\"gravity\":400");
        var rejected = PreferenceJsonl.ReadAll(new StringReader(outOfRange));
        Assert.Contains(rejected.Errors, e => e.Message.Contains("gravity must lie between"));

        var notAnObject = PreferenceJsonl.Write(Record(LowGravity)).Replace("{\"gravity\":4}", "[4]");
        Assert.Contains(PreferenceJsonl.ReadAll(new StringReader(notAnObject)).Errors, e => e.Message.Contains("environment_parameters\" must be an object"));
    }
}
