using PreferenceStudio.Cli.Commands;

namespace PreferenceStudio.Cli;

/// <summary>
/// studio: the headless face of PreferenceStudio. Each verb prints its result as one JSON object on the last stdout
/// line (progress goes to stderr), so scripts can read it with <c>tail -n 1</c>.
/// </summary>
public static class StudioCli
{
    private const string Usage = """
        usage: studio <verb> [options]
          train      train a reward model from a preference file and report held-out metrics
          simulate   run the preference loop with a simulated teacher instead of people
          train-policy  train a policy headless (PPO, or value iteration in tabular environments)
          bench      benchmarks: `bench train`, `bench render`, `bench labels`, `bench vpl`, `bench serving`
          export     a campaign's data into a folder: jsonl, csv, parquet or a bundle (zip with a dataset card)
          convert    an exchange JSONL file as Parquet or CSV tables, without a database
          migrate    apply the database migrations to the configured PostgreSQL
          users      accounts: `users add --email E --role admin|researcher` (password on stdin), `users list`
          tokens     API tokens: `tokens create --email E --name N --scopes S,...`, `tokens list`, `tokens revoke`
        Run `studio <verb> --help` for a verb's options.
        """;

    public static async Task<int> Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            Console.Error.WriteLine(Usage);
            return args.Length == 0 ? 2 : 0;
        }

        var rest = args[1..];
        return args[0] switch
        {
            "train" => await TrainCommand.RunAsync(rest),
            "simulate" => await SimulateCommand.RunAsync(rest),
            "train-policy" => await TrainPolicyCommand.RunAsync(rest),
            "bench" => await BenchCommand.RunAsync(rest),
            "export" => await ExportCommand.RunAsync(rest),
            "convert" => await ConvertCommand.RunAsync(rest),
            "migrate" => await MigrateCommand.RunAsync(rest),
            "users" => await UsersCommand.RunAsync(rest),
            "tokens" => await TokensCommand.RunAsync(rest),
            _ => Unknown(args[0]),
        };
    }

    private static int Unknown(string verb)
    {
        Console.Error.WriteLine($"error: unknown verb '{verb}'.");
        Console.Error.WriteLine(Usage);
        return 2;
    }
}
