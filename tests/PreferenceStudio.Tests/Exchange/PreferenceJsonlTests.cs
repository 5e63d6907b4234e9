using PreferenceStudio.Core.Exchange;
using PreferenceStudio.Environments;

namespace PreferenceStudio.Tests.Exchange;

public class PreferenceJsonlTests
{
    // Hand-made lines in the published dataset's shape (not copied from the dataset file).
    private const string Line1 = """{"schema": "preferencestudio/preference@1", "id": "t/0", "environment": "delivery-gridworld", "rater": null, "group": "Trained-Control", "left": {"states": [[7, 3], [7, 2], [7, 1], [8, 1]], "actions": [2, 2, 1]}, "right": {"states": [[8, 5], [8, 6], [9, 6], [9, 7]], "actions": [3, 1, 3]}, "label": "equal"}""";
    private const string Line2 = """{"schema": "preferencestudio/preference@1", "id": "t/1", "environment": "delivery-gridworld", "rater": "r-17", "group": null, "left": {"states": [[2, 6], [1, 6], [2, 6], [3, 6]], "actions": [0, 1, 1]}, "right": {"states": [[9, 9], [8, 9]], "actions": [0]}, "label": "right", "shown_at": "2025-03-01T14:05:09Z", "answered_at": "2025-03-01T14:05:13.250+01:00", "extra_field": {"ignored": true}}""";

    private static PreferenceJsonlReadResult Read(params string[] lines) => PreferenceJsonl.ReadAll(new StringReader(string.Join("\n", lines) + "\n"));

    [Fact]
    public void Reads_lines_in_the_dataset_format()
    {
        var result = Read(Line1, "", Line2);
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Equal(2, result.Records.Count);
        var first = result.Records[0];
        Assert.Equal("delivery-gridworld", first.Environment);
        Assert.Equal(PreferenceChoice.Equal, first.Label);
        Assert.Null(first.Rater);
        Assert.Equal("Trained-Control", first.Group);
        Assert.Equal([7, 3], first.Left.States[0]);
        Assert.Equal([3, 1, 3], first.Right.ActionIndices());
        var second = result.Records[1];
        Assert.Equal(PreferenceChoice.Right, second.Label);
        Assert.Equal(1, second.Right.Length);
        Assert.Equal(new DateTimeOffset(2025, 3, 1, 14, 5, 9, TimeSpan.Zero), second.ShownAt);
        Assert.Equal(TimeSpan.FromHours(1), second.AnsweredAt!.Value.Offset);
    }

    [Fact]
    public void A_gold_answer_round_trips_and_an_unknown_one_is_an_error_on_its_line()
    {
        var gold = Line2.Replace("\"label\": \"right\"", "\"label\": \"left\", \"gold\": \"right\"");
        var read = Read(gold, Line1);
        Assert.True(read.IsValid, string.Join("; ", read.Errors));
        Assert.Equal(PreferenceChoice.Right, read.Records[0].Gold);
        Assert.Equal(PreferenceChoice.Left, read.Records[0].Label);
        Assert.Null(read.Records[1].Gold);
        var written = PreferenceJsonl.Write(read.Records[0]);
        Assert.Contains("\"gold\":\"right\"", written);
        Assert.DoesNotContain("gold", PreferenceJsonl.Write(read.Records[1]));
        Assert.Equal(PreferenceChoice.Right, Read(written).Records[0].Gold);

        var bad = Read(Line1, Line2.Replace("\"label\": \"right\"", "\"label\": \"right\", \"gold\": \"incomparable\""));
        Assert.False(bad.IsValid);
        Assert.Contains(bad.Errors, e => e.Line == 2 && e.Message.Contains("unknown gold answer \"incomparable\""));
    }

    [Theory]
    [InlineData("{not json", "not valid JSON")]
    [InlineData("[1, 2]", "expected a JSON object")]
    [InlineData("""{"id": "x"}""", "missing \"schema\"")]
    [InlineData("""{"schema": "preferencestudio/preference@2"}""", "unknown schema")]
    [InlineData("""{"schema": "preferencestudio/preference@1", "id": "x", "environment": "moon-lander"}""", "unknown environment \"moon-lander\"")]
    public void Structural_problems_name_the_line(string bad, string expected)
    {
        var result = Read(Line1, bad);
        Assert.False(result.IsValid);
        Assert.Empty(result.Records);
        Assert.Contains(result.Errors, e => e.Line == 2 && e.Message.Contains(expected, StringComparison.Ordinal));
        Assert.DoesNotContain(result.Errors, e => e.Line == 1);
    }

    [Theory]
    [InlineData("[[7, 3], [7, 2], [7, 1], [8, 1]]", "[[12, 3], [7, 2], [7, 1], [8, 1]]", "off the 10 x 10 board")]
    [InlineData("[[7, 3], [7, 2], [7, 1], [8, 1]]", "[[3, 4], [7, 2], [7, 1], [8, 1]]", "is a house")]
    [InlineData("[[7, 3], [7, 2], [7, 1], [8, 1]]", "[[7, 3], [7, 2], [7, 1], [7, 0]]", "leads to")]
    [InlineData("[[7, 3], [7, 2], [7, 1], [8, 1]]", "[[7, 3], [7, 2], [7, 1]]", "3 states and 3 actions")]
    public void Segment_problems_name_the_line_and_the_step(string good, string bad, string expected)
    {
        var result = Read(Line1, Line1.Replace("\"t/0\"", "\"t/9\"").Replace(good, bad));
        Assert.Contains(result.Errors, e => e.Line == 2 && e.Message.Contains("left", StringComparison.Ordinal) && e.Message.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("\"label\": \"equal\"", "\"label\": \"better\"", "unknown label \"better\"")]
    [InlineData("\"label\": \"equal\"", "\"label\": \"equal\", \"shown_at\": \"yesterday\"", "\"shown_at\" must be an ISO-8601")]
    [InlineData("\"label\": \"equal\"", "\"label\": \"equal\", \"answered_at\": \"1/2/2024\"", "\"answered_at\" must be an ISO-8601")]
    [InlineData("\"id\": \"t/0\"", "\"id\": 5", "\"id\" must be a non-empty string")]
    [InlineData("\"rater\": null", "\"rater\": 17", "\"rater\" must be a string or null")]
    [InlineData("\"actions\": [2, 2, 1]", "\"actions\": [2, 2.5, 1]", "left: action 1: action 2.5 is not one of 0..3")]
    [InlineData("\"t/0\"", "\"t/1\"", "already used on line 1")]
    public void Field_problems_name_the_line(string good, string bad, string expected)
    {
        var result = Read(Line2, Line1.Replace(good, bad));
        Assert.Contains(result.Errors, e => e.Line == 2 && e.Message.Contains(expected, StringComparison.Ordinal));
        Assert.StartsWith("line 2: ", result.Errors.First(e => e.Line == 2).ToString());
    }

    [Fact]
    public void Write_then_read_round_trips_every_field()
    {
        var record = new PreferenceRecord(
            "c-1", "delivery-gridworld",
            Segment.Discrete([[9, 8], [9, 9], [8, 9]], [3, 0]),
            Segment.Discrete([[0, 0], [0, 1]], [3]),
            PreferenceChoice.Incomparable)
        {
            Rater = "r-17",
            Group = "pilot",
            ShownAt = new DateTimeOffset(2025, 3, 1, 14, 5, 9, 125, TimeSpan.FromHours(2)),
            AnsweredAt = new DateTimeOffset(2025, 3, 1, 12, 5, 13, TimeSpan.Zero),
            Round = 3,
            LeftClipSha256 = new string('a', 64),
            RightClipSha256 = new string('b', 64),
            PolicyId = "policy-7",
            ComparisonId = "42",
        };
        var minimal = new PreferenceRecord("c-2", "delivery-gridworld", record.Right, record.Left, PreferenceChoice.Left);

        var text = PreferenceJsonl.Write(record) + "\n" + PreferenceJsonl.Write(minimal);
        Assert.DoesNotContain("\n", PreferenceJsonl.Write(record));
        Assert.Contains("\"rater\":null,\"group\":null", PreferenceJsonl.Write(minimal));
        Assert.Contains("\"shown_at\":null,\"answered_at\":null", PreferenceJsonl.Write(minimal));
        Assert.Contains("\"states\":[[9,8],[9,9],[8,9]]", text);
        Assert.DoesNotContain("round", PreferenceJsonl.Write(minimal));

        var result = PreferenceJsonl.ReadAll(new StringReader(text));
        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Equal(record, result.Records[0]);
        Assert.Equal(minimal, result.Records[1]);
    }

    [Fact]
    public async Task Async_reading_yields_each_line_with_its_own_errors()
    {
        var lines = new List<PreferenceJsonlLine>();
        await foreach (var line in PreferenceJsonl.ReadAsync(new StringReader(Line1 + "\n\n{oops\n" + Line2)))
            lines.Add(line);
        Assert.Equal([1, 3, 4], lines.Select(l => l.Line));
        Assert.NotNull(lines[0].Record);
        Assert.Null(lines[1].Record);
        Assert.Single(lines[1].Errors);
        Assert.NotNull(lines[2].Record);
    }
}
