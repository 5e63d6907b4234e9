using System.CommandLine;
using System.CommandLine.Completions;
using System.Text;

namespace PreferenceStudio.Cli.Commands;

/// <summary>
/// <c>studio completion bash</c>: a bash completion script written from the command tree itself, so it offers exactly
/// the verbs, options and fixed option values the parser accepts. Use: <c>source &lt;(studio completion bash)</c>.
/// </summary>
public static class CompletionCommand
{
    public static Command Create(RootCommand root)
    {
        var shell = new Argument<string>("shell") { Description = "the shell to write the script for (bash)" };
        shell.AcceptOnlyFromAmong("bash");
        var command = new Command("completion", "print a tab-completion script: source <(studio completion bash)") { shell };
        command.SetAction(parse =>
        {
            parse.InvocationConfiguration.Output.Write(Bash(root));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// The script finds the command path from the words before the first option, then offers the values of the option
    /// just typed (when it has a fixed set) or the subcommands and options of that path.
    /// </summary>
    public static string Bash(RootCommand root)
    {
        var paths = new StringBuilder();
        var values = new StringBuilder();
        foreach (var (path, command) in Walk(root, ""))
        {
            var options = AllOptions(command).Where(o => !o.Hidden).SelectMany(o => new[] { o.Name }.Concat(o.Aliases)).Distinct();
            var words = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).Concat(options);
            paths.Append($"        '{path}') words='{string.Join(' ', words)}' ;;\n");
            foreach (var option in AllOptions(command).Where(o => o.ValueType != typeof(bool)))
            {
                var choices = option.GetCompletions(CompletionContext.Empty).Select(c => c.Label).ToList();
                if (choices.Count > 0)
                    values.Append($"        '{path}|{option.Name}') COMPREPLY=($(compgen -W '{string.Join(' ', choices)}' -- \"$cur\")); return ;;\n");
            }
        }
        return $$"""
            # bash completion for studio (written by `studio completion bash`)
            _studio_complete() {
                local cur="${COMP_WORDS[COMP_CWORD]}" prev="${COMP_WORDS[COMP_CWORD-1]}" path="" i
                for ((i = 1; i < COMP_CWORD; i++)); do
                    [[ ${COMP_WORDS[i]} == -* ]] && break
                    path="${path:+$path }${COMP_WORDS[i]}"
                done
                case "$path|$prev" in
            {{values}}    esac
                local words=""
                case "$path" in
            {{paths}}    esac
                COMPREPLY=($(compgen -W "$words" -- "$cur"))
            }
            complete -o default -F _studio_complete studio

            """;
    }

    private static IEnumerable<(string Path, Command Command)> Walk(Command command, string path)
    {
        yield return (path, command);
        foreach (var sub in command.Subcommands)
            foreach (var inner in Walk(sub, path.Length == 0 ? sub.Name : $"{path} {sub.Name}"))
                yield return inner;
    }

    /// <summary>The command's own options and those its parents share with it (--help).</summary>
    public static IEnumerable<Option> AllOptions(Command command)
    {
        var seen = new HashSet<Option>(command.Options);
        foreach (var o in command.Options) yield return o;
        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null; parent = parent.Parents.OfType<Command>().FirstOrDefault())
            foreach (var o in parent.Options.Where(o => o.Recursive && seen.Add(o)))
                yield return o;
    }
}
