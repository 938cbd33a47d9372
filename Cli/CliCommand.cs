using System.CommandLine;

namespace JpegLm.Cli;

/// <summary>A usage error found by a command after parsing (options that contradict each other, say): exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);

/// <summary>
/// One <c>jpeglm</c> verb, each in its own file under <c>Commands/</c>: it keeps its options and arguments as
/// fields (made with <see cref="CliOptions"/>, so help text, default and range come from one declaration),
/// lists them once in <see cref="Add"/>, and reads them in <see cref="Run"/>. Adding an option is one field
/// plus one name in the <see cref="Add"/> call; <c>CommandLineTests</c> fails if a field is left out.
/// </summary>
internal abstract class CliCommand
{
    private readonly List<CliCommand> _subcommands = [];

    /// <summary>Creates the command; <paramref name="details"/> (examples, files written, exit codes) follows the generated help.</summary>
    protected CliCommand(string name, string summary, string? details = null)
    {
        Command = new Command(name, summary);
        Details = details;
        Command.SetAction(parsed => Run(parsed, parsed.InvocationConfiguration.Output, parsed.InvocationConfiguration.Error));
    }

    /// <summary>The System.CommandLine command: name, one-line summary, options, arguments, sub-commands.</summary>
    public Command Command { get; }

    /// <summary>Text printed after the generated <c>--help</c>, or null.</summary>
    public string? Details { get; }

    /// <summary>Sub-commands (for <c>bench</c>).</summary>
    public IReadOnlyList<CliCommand> Subcommands => _subcommands;

    /// <summary>Registers options and arguments, in the order help lists them.</summary>
    protected void Add(params Symbol[] symbols)
    {
        foreach (Symbol symbol in symbols)
        {
            switch (symbol)
            {
                case Option option:
                    Command.Options.Add(option);
                    break;
                case Argument argument:
                    Command.Arguments.Add(argument);
                    break;
                default:
                    throw new ArgumentException($"{symbol.Name}: only options and arguments are added this way", nameof(symbols));
            }
        }
    }

    /// <summary>Registers sub-commands; a command with sub-commands and no handler of its own needs one of them.</summary>
    protected void AddSubcommands(params CliCommand[] children)
    {
        foreach (CliCommand child in children)
        {
            _subcommands.Add(child);
            Command.Subcommands.Add(child.Command);
        }
    }

    /// <summary>Removes the handler: the command only groups sub-commands.</summary>
    protected void GroupOnly() => Command.Action = null;

    /// <summary>Runs the command with parsed values. Returns the exit code: 0 success, 1 bad input (or a failed check).</summary>
    /// <exception cref="UsageException">The values contradict each other: exit 2.</exception>
    protected abstract int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr);
}
