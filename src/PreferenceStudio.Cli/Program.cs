using System.CommandLine;
using System.CommandLine.Invocation;
using PreferenceStudio.Cli.Commands;
using PreferenceStudio.Web.Hosting;

namespace PreferenceStudio.Cli;

/// <summary>
/// studio: the headless face of PreferenceStudio. Each verb prints its result as one JSON object on the last stdout
/// line (progress goes to stderr), so scripts can read it with <c>tail -n 1</c>. Exit codes: 0 success, 1 the work
/// failed (training diverged, a file could not be read, the server refused), 2 bad arguments.
/// </summary>
public static class StudioCli
{
    public const int Ok = 0, Failed = 1, BadArguments = 2;

    public static Task<int> Main(string[] args) => RunAsync(args);

    /// <summary>Every verb, each declaring its options once; `--help`, completion and parsing come from this tree.</summary>
    public static RootCommand Build()
    {
        var root = new RootCommand("""
            studio: PreferenceStudio without a browser. Each verb prints its result as one JSON object on the last line of
            stdout (progress goes to stderr). Exit codes: 0 ok, 1 the work failed, 2 bad arguments.
            """)
        {
            TrainCommand.Create(),
            SimulateCommand.Create(),
            PopulationCommand.Create(),
            TrainPolicyCommand.Create(),
            BenchCommand.Create(),
            ExportCommand.Create(),
            ConvertCommand.Create(),
            MigrateCommand.Create(),
            UsersCommand.Create(),
            TokensCommand.Create(),
        };
        root.Add(CompletionCommand.Create(root));
        return root;
    }

    /// <summary>Parses and runs; parse errors and usage errors the verbs find are exit 2 with a message naming the fix.</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var parse = Build().Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            foreach (var e in parse.Errors) error.WriteLine($"error: {e.Message}");
            error.WriteLine($"Run `{CommandPath(parse.CommandResult.Command)} --help` for its options.");
            return BadArguments;
        }
        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = output, Error = error });
        }
        catch (Exception e) when (e is CliUsageException or ArgumentException)
        {
            error.WriteLine($"error: {e.Message}");
            error.WriteLine($"Run `{CommandPath(parse.CommandResult.Command)} --help` for its options.");
            return BadArguments;
        }
        catch (StudioValidationException e)
        {
            error.WriteLine($"error: {e.Title}:");
            foreach (var (field, messages) in e.Errors) error.WriteLine($"  {field}: {string.Join(" ", messages)}");
            return BadArguments;
        }
        catch (StudioProblemException e)
        {
            error.WriteLine($"error: {e.Message}");
            return Failed;
        }
    }

    /// <summary>"studio bench train" for the bench train command.</summary>
    public static string CommandPath(Command command)
    {
        var names = new List<string>();
        for (Symbol? s = command; s is not null; s = s.Parents.FirstOrDefault())
            names.Add(s is RootCommand ? "studio" : s.Name);
        names.Reverse();
        return string.Join(' ', names);
    }
}
