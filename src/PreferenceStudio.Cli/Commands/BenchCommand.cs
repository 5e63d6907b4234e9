using System.CommandLine;

namespace PreferenceStudio.Cli.Commands;

/// <summary>`studio bench &lt;what&gt;`: benchmarks that print their numbers as one JSON object on the last line.</summary>
public static class BenchCommand
{
    public static Command Create() => new("bench", "benchmarks; each prints its numbers as one JSON object on the last line")
    {
        BenchTrainCommand.Create(),
        BenchRenderCommand.Create(),
        BenchVplCommand.Create(),
        BenchPopulationCommand.Create(),
        BenchLabelsCommand.Create(),
        BenchServingCommand.Create(),
        BenchIngestCommand.Create(),
        BenchRoundCommand.Create(),
    };
}
