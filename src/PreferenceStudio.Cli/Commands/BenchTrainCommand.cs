namespace PreferenceStudio.Cli.Commands;

// Placeholder until the verb lands; replaced by its implementation.
public static class BenchTrainCommand
{
    public static Task<int> RunAsync(string[] args)
    {
        Console.Error.WriteLine("error: not implemented yet.");
        return Task.FromResult(2);
    }
}
