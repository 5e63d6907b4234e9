namespace PreferenceStudio.Cli.Commands;

/// <summary>`studio bench &lt;what&gt;`: benchmarks that print their numbers as one JSON object on the last line.</summary>
public static class BenchCommand
{
    public const string Usage = """
        usage: studio bench <train|render|labels|vpl|serving|ingest|round> [options]
          train    reward-model training throughput (Bradley-Terry ensemble, B-Pref sizes)
          render   clip rendering throughput against ffmpeg's own encoding floor
          vpl      per-rater VPL reward models and info-gain queries vs one Bradley-Terry model, raters of conflicting kinds
          labels   labels a simulated campaign needs to reach a scaled return of 0.9, per model and query strategy
          serving  k raters per pair: a crowd of scripted raters against a running studio, answers per pair counted
          ingest   labels per second and latency of the rating path through HTTP, stored against acknowledged
          round    round turnaround: last label of a round to the next round's first pair served
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help")
        {
            Console.Error.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }
        return args[0] switch
        {
            "train" => await BenchTrainCommand.RunAsync(args[1..]),
            "render" => await BenchRenderCommand.RunAsync(args[1..]),
            "vpl" => await BenchVplCommand.RunAsync(args[1..]),
            "labels" => await BenchLabelsCommand.RunAsync(args[1..]),
            "serving" => await BenchServingCommand.RunAsync(args[1..]),
            "ingest" => await BenchIngestCommand.RunAsync(args[1..]),
            "round" => await BenchRoundCommand.RunAsync(args[1..]),
            _ => Unknown(args[0]),
        };
    }

    private static int Unknown(string what)
    {
        Console.Error.WriteLine($"error: unknown benchmark '{what}'.");
        Console.Error.WriteLine(Usage);
        return 2;
    }
}
