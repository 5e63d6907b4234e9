using PreferenceStudio.Cli.Commands;

// studio: the headless face of PreferenceStudio. Each verb prints its result as one JSON object on the last
// stdout line (progress goes to stderr), so scripts can read it with `tail -n 1`.
const string usage = """
    usage: studio <verb> [options]
      train      train a reward model from a preference file and report held-out metrics
      simulate   run the preference loop with a simulated teacher instead of people
      train-policy  train a policy headless (PPO, or value iteration in tabular environments)
      bench      benchmarks: `bench train`, `bench render`
      migrate    apply the database migrations to the configured PostgreSQL
    Run `studio <verb> --help` for a verb's options.
    """;

if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
{
    Console.Error.WriteLine(usage);
    return args.Length == 0 ? 2 : 0;
}

var rest = args[1..];
return args[0] switch
{
    "train" => await TrainCommand.RunAsync(rest),
    "simulate" => await SimulateCommand.RunAsync(rest),
    "train-policy" => await TrainPolicyCommand.RunAsync(rest),
    "bench" => await BenchCommand.RunAsync(rest),
    "migrate" => await MigrateCommand.RunAsync(rest),
    _ => Unknown(args[0]),
};

static int Unknown(string verb)
{
    Console.Error.WriteLine($"error: unknown verb '{verb}'.");
    Console.Error.WriteLine(usage);
    return 2;
}
