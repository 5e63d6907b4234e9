using PreferenceStudio.Core.Exchange;

namespace PreferenceStudio.Tests.Exchange;

public sealed class FactorRankingJsonlTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 3, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_ranking_line_round_trips_beside_comparisons()
    {
        var ranking = new FactorRankingRecord("k1", "pendulum", "r-1", ["angle", "velocity", "torque"], [1, 0.5, 0], At)
        {
            EnvironmentParameters = new Dictionary<string, double> { ["gravity"] = 9 },
        };
        var line = PreferenceJsonl.Write(ranking);
        Assert.Contains("\"schema\":\"preferencestudio/factor-ranking@1\"", line);

        var read = PreferenceJsonl.ReadAll(new StringReader(line + "\n"));

        Assert.True(read.IsValid, string.Join("; ", read.Errors));
        Assert.Empty(read.Records);
        Assert.Equal(ranking, Assert.Single(read.Rankings));
        Assert.Equal([1], read.RankingLines);
    }

    [Theory]
    [InlineData("\"factors\":[\"angle\",\"velocity\"],\"margins\":[1,1]", "'torque' is missing")]
    [InlineData("\"factors\":[\"angle\",\"angle\",\"torque\"],\"margins\":[1,1,1]", "'angle' appears 2 times")]
    [InlineData("\"factors\":[\"angle\",\"velocity\",\"torque\"],\"margins\":[1,-1,1]", "margins[1]")]
    [InlineData("\"factors\":[\"angle\",\"velocity\",\"torque\"],\"margins\":[1,1]", "one margin per ranked factor")]
    [InlineData("\"factors\":\"angle\",\"margins\":[1]", "\"factors\" must be an array of factor names")]
    public void A_bad_ranking_is_an_error_on_its_line(string fields, string expected)
    {
        var line = $"{{\"schema\":\"preferencestudio/factor-ranking@1\",\"id\":\"k\",\"environment\":\"pendulum\",\"rater\":\"r-1\",{fields},\"created_at\":\"2026-11-03T08:00:00Z\"}}";

        var read = PreferenceJsonl.ReadAll(new StringReader("\n" + line + "\n"));

        Assert.Empty(read.Rankings);
        Assert.NotEmpty(read.Errors);
        Assert.All(read.Errors, e => Assert.Equal(2, e.Line));
        Assert.Contains(read.Errors, e => e.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_ranking_needs_its_rater_and_time()
    {
        var line = "{\"schema\":\"preferencestudio/factor-ranking@1\",\"id\":\"k\",\"environment\":\"pendulum\",\"factors\":[\"angle\",\"velocity\",\"torque\"],\"margins\":[1,1,1]}";

        var read = PreferenceJsonl.ReadAll(new StringReader(line));

        Assert.Contains(read.Errors, e => e.Message.Contains("missing \"rater\""));
        Assert.Contains(read.Errors, e => e.Message.Contains("missing \"created_at\""));
    }
}
