using System.CommandLine;
using System.Diagnostics;
using PreferenceStudio.Cli;
using PreferenceStudio.Cli.Commands;

namespace PreferenceStudio.IntegrationTests.Cli;

/// <summary>
/// The CLI's help, completion and exit codes come from its one command tree: every verb's generated `--help` names
/// every option the verb accepts, the completion script offers what the parser accepts, bad arguments exit 2.
/// </summary>
public sealed class CliHelpTests
{
    private static IEnumerable<(string[] Path, Command Command)> Commands(Command command, string[] path)
    {
        yield return (path, command);
        foreach (var sub in command.Subcommands)
            foreach (var inner in Commands(sub, [.. path, sub.Name]))
                yield return inner;
    }

    private static async Task<(int Exit, string Out, string Err)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        int exit = await StudioCli.RunAsync(args, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Every_verbs_help_is_generated_and_names_every_option_it_accepts()
    {
        var all = Commands(StudioCli.Build(), []).ToList();
        // Every verb of the README and every bench, so a verb left out of the tree fails here.
        string[] expected = ["train", "simulate", "population", "train-policy", "bench", "bench train", "bench render", "bench vpl", "bench population", "bench labels", "bench serving",
            "bench ingest", "bench round", "export", "convert", "migrate", "users", "users add", "users list", "tokens", "tokens create", "tokens list",
            "tokens revoke", "completion"];
        Assert.Empty(expected.Except(all.Select(c => string.Join(' ', c.Path))));
        foreach (var (path, command) in all)
        {
            var (exit, help, err) = await RunAsync([.. path, "--help"]);
            Assert.True(exit == 0, $"studio {string.Join(' ', path)} --help: {exit} {err}");
            Assert.Contains("Usage:", help);
            // The usage line names the command path (the root's own name is the host process's, so it is left out).
            if (path.Length > 0) Assert.Contains($" {string.Join(' ', path)} ", help);
            var options = CompletionCommand.AllOptions(command).Where(o => !o.Hidden).ToList();
            if (path.Length > 0 && command.Subcommands.Count == 0)
                Assert.True(options.Count + command.Arguments.Count > 1, $"studio {string.Join(' ', path)} declares no options or arguments of its own");
            foreach (var argument in command.Arguments) Assert.Contains(argument.Description!, help);
            foreach (var option in options)
            {
                Assert.Contains(option.Name, help);
                // Each option says what it is for.
                Assert.False(string.IsNullOrWhiteSpace(option.Description), $"{string.Join(' ', path)} {option.Name} has no description");
            }
            foreach (var sub in command.Subcommands) Assert.Contains(sub.Name, help);
        }
    }

    [Theory]
    [InlineData("train", "--env", "delivery-gridworld", "--data", "x.jsonl", "--bogus", "1")] // unknown option
    [InlineData("train", "--data", "x.jsonl")] // required option missing
    [InlineData("train", "--env", "delivery-gridworld", "--data", "x.jsonl", "--epochs", "many")] // not a number
    [InlineData("train", "--env", "delivery-gridworld", "--data", "x.jsonl", "--hidden", "64,-1")] // not a width
    [InlineData("train", "--env", "delivery-gridworld", "--data", "x.jsonl", "--folds", "3", "--holdout", "0.3")] // exclusive options
    [InlineData("simulate", "--env", "pendulum", "--crowd", "oracle:3", "--rounds", "2")] // an option of the other mode
    [InlineData("export", "--campaign", "not-a-guid", "--out", "/tmp/x")]
    [InlineData("bench", "warp")] // unknown subcommand
    [InlineData()] // no verb
    public async Task Bad_arguments_exit_2_with_an_error_and_where_to_find_the_options(params string[] args)
    {
        var (exit, output, error) = await RunAsync(args);
        Assert.Equal(2, exit);
        Assert.Equal("", output);
        Assert.StartsWith("error: ", error);
        Assert.Contains("--help` for its options.", error);
    }

    [Fact]
    public async Task The_completion_script_completes_verbs_subcommands_options_and_fixed_values_in_bash()
    {
        var (exit, script, _) = await RunAsync("completion", "bash");
        Assert.Equal(0, exit);
        var path = Path.Combine(Path.GetTempPath(), $"studio-completion-{Guid.NewGuid():N}.sh");
        await File.WriteAllTextAsync(path, script);
        try
        {
            async Task<string> CompleteAsync(params string[] words)
            {
                var quoted = string.Join(' ', words.Select(w => $"'{w}'"));
                var start = new ProcessStartInfo("bash", ["-c",
                    $"source '{path}'; COMP_WORDS=({quoted}); COMP_CWORD={words.Length - 1}; _studio_complete; echo \"${{COMPREPLY[*]}}\""])
                    { RedirectStandardOutput = true, RedirectStandardError = true };
                using var bash = Process.Start(start)!;
                var text = await bash.StandardOutput.ReadToEndAsync();
                await bash.WaitForExitAsync();
                Assert.True(bash.ExitCode == 0, await bash.StandardError.ReadToEndAsync());
                return text.Trim();
            }
            Assert.Equal("export", await CompleteAsync("studio", "ex"));
            Assert.Equal("train train-policy", await CompleteAsync("studio", "tra"));
            Assert.Equal("train", await CompleteAsync("studio", "bench", "tr"));
            Assert.Equal("--rater-weighting", await CompleteAsync("studio", "train", "--env", "pendulum", "--rater-"));
            Assert.Equal("bt regret vpl", await CompleteAsync("studio", "train", "--model", ""));
            Assert.Equal("info-gain", await CompleteAsync("studio", "simulate", "--strategy", "in"));
            Assert.Equal("--scopes", await CompleteAsync("studio", "tokens", "create", "--sc"));
            // Nothing that is not in the tree.
            Assert.Equal("", await CompleteAsync("studio", "bench", "train", "--crowd"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task The_built_program_prints_a_verbs_help_and_exits_0()
    {
        var (exit, stdout, stderr) = await StudioProcess.RunAsync(["bench", "vpl", "--help"]);
        Assert.True(exit == 0, stderr);
        var help = string.Join("\n", stdout);
        Assert.Contains("--labels-per-rater", help);
        Assert.Contains("[default: 200]", help);
    }
}
