using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using JpegLm.Cli.Commands;

namespace JpegLm.Cli;

/// <summary>
/// Entry point of <c>jpeglm</c>: parses with System.CommandLine (generated help, typed and range-checked
/// options, suggestions for typos, response files <c>@args.rsp</c>, tab completion through dotnet-suggest's
/// <c>[suggest]</c> directive) and runs one command. Exit codes: 0 success, 1 bad input (one line, no stack
/// trace), 2 usage error.
/// </summary>
public static class Program
{
    private const string Footer = """
        jpeglm COMMAND --help shows a command's options.
        Exit codes: 0 success, 1 bad input (or a check that found corrupt patches), 2 usage error.
        Arguments can come from a response file, one per line: jpeglm @args.rsp.
        Tab completion: dotnet tool install -g dotnet-suggest, then dotnet-suggest register --command-path $(which jpeglm).
        """;

    /// <summary>Every command, in the order <c>jpeglm --help</c> lists them.</summary>
    internal static IReadOnlyList<CliCommand> Commands() =>
    [
        new EncodeCommand(),
        new DecodeCommand(),
        new CheckCommand(),
        new PrepareCommand(),
        new TrainCommand(),
        new SampleCommand(),
        new EvalCommand(),
        new ScoreCommand(),
        new DemoCommand(),
        new BenchCommand(),
        new GpuCheckCommand(),
        new VersionCommand(),
    ];

    /// <summary>Runs <c>jpeglm ARGS</c> and returns the exit code.</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs one command line against the given writers (used by tests).</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        RootCommand root = BuildRoot();
        var invocation = new InvocationConfiguration
        {
            Output = stdout,
            Error = stderr,
            EnableDefaultExceptionHandler = false, // exceptions come to the catch list below
            ProcessTerminationTimeout = null,      // train handles Ctrl-C itself, checkpointing first
        };

        // Bare `jpeglm` lists the commands and is a usage error; `jpeglm help [COMMAND]` is `--help`.
        if (args.Count == 0)
        {
            root.Parse(["--help"]).Invoke(invocation);
            return 2;
        }

        ParseResult parsed = root.Parse(args[0] == "help" ? [.. args.Skip(1), "--help"] : args);
        if (parsed.Action is ParseErrorAction)
        {
            UsageErrors.Write(parsed, stderr);
            return 2;
        }

        string name = UsageErrors.CommandPath(parsed.CommandResult);
        try
        {
            return parsed.Invoke(invocation);
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"{name}: {e.Message}");
            stderr.WriteLine($"see '{name} --help'");
            return 2;
        }
        catch (Exception e) when (IsBadInput(e))
        {
            // Bad input that a command did not report itself: one line, no stack trace.
            stderr.WriteLine($"{name}: {e.Message.Split('\n')[0].TrimEnd()}");
            return 1;
        }
    }

    /// <summary>
    /// The exceptions that mean bad input or a failing environment rather than a bug. Domain errors about input
    /// derive from <see cref="FormatException"/> (JPEG, H.264, image, token, safetensors); a CUDA failure is a
    /// <see cref="Cuda.Interop.CudaException"/>, a failed collective (a dead rank) an <see cref="Engine.Training.CollectiveException"/>.
    /// Anything else is a bug and keeps its stack trace.
    /// </summary>
    internal static bool IsBadInput(Exception e) => e is IOException or UnauthorizedAccessException or FormatException
        or NotSupportedException or System.Text.Json.JsonException or Cuda.Interop.CudaException or Engine.Training.CollectiveException;

    private static RootCommand BuildRoot()
    {
        var root = new RootCommand("jpeglm — language models that write JPEG and H.264 files") { HelpName = "jpeglm" };
        var details = new Dictionary<Command, string> { [root] = Footer };
        foreach (CliCommand command in Commands())
        {
            root.Subcommands.Add(command.Command);
            AddDetails(command, details);
        }

        HelpOption help = root.Options.OfType<HelpOption>().Single();
        help.Action = new HelpWithDetails((HelpAction)help.Action!, details);
        return root;
    }

    private static void AddDetails(CliCommand command, Dictionary<Command, string> details)
    {
        if (command.Details != null)
        {
            details[command.Command] = command.Details;
        }

        foreach (CliCommand child in command.Subcommands)
        {
            AddDetails(child, details);
        }
    }

    /// <summary>The generated help, then the command's examples and notes (System.CommandLine has no place for them).</summary>
    private sealed class HelpWithDetails(HelpAction generated, IReadOnlyDictionary<Command, string> details) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            int code = generated.Invoke(parseResult);
            if (details.TryGetValue(parseResult.CommandResult.Command, out string? text))
            {
                parseResult.InvocationConfiguration.Output.WriteLine(text.Trim('\n', '\r'));
            }

            return code;
        }
    }
}
