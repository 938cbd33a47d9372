using JpegLm.Cli.Commands;

namespace JpegLm.Cli;

/// <summary>Entry point of <c>jpeglm</c>: dispatches to one command.</summary>
public static class Program
{
    /// <summary>Every command, in the order <c>jpeglm --help</c> lists them.</summary>
    public static IReadOnlyList<ICliCommand> Commands { get; } =
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
        new BenchJpegCommand(),
        new GpuCheckCommand(),
        new VersionCommand(),
        new AvcDecodeCommand(),
        new AvcCheckCommand(),
        new AvcEncodeCommand(),
        new BenchTokensCommand(),
        new BenchJpegDecodeCommand(),
        new BenchEngineCommand(),
    ];

    /// <summary>Runs <c>jpeglm ARGS</c> and returns the exit code.</summary>
    public static int Main(string[] args) => Run(args, Console.Out, Console.Error);

    /// <summary>Runs one command line against the given writers (used by tests).</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (args.Count == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintCommands(stdout);
            return args.Count == 0 ? 2 : 0;
        }

        ICliCommand? command = Commands.FirstOrDefault(c => c.Name == args[0]);
        if (command == null)
        {
            stderr.WriteLine($"jpeglm: unknown command '{args[0]}'");
            PrintCommands(stderr);
            return 2;
        }

        string[] rest = [.. args.Skip(1)];
        if (rest.Contains("--help") || rest.Contains("-h"))
        {
            stdout.WriteLine(command.Usage);
            return 0;
        }

        try
        {
            return command.Run(rest, stdout, stderr);
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"jpeglm {command.Name}: {e.Message}");
            stderr.WriteLine(command.Usage);
            return 2;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or NotSupportedException
            or System.Text.Json.JsonException or Codec.Avc.AvcFormatException)
        {
            // Bad input that a command did not report itself: one line, no stack trace.
            stderr.WriteLine($"jpeglm {command.Name}: {e.Message}");
            return 1;
        }
    }

    private static void PrintCommands(TextWriter w)
    {
        w.WriteLine("jpeglm — language models that write JPEG and H.264 files");
        w.WriteLine();
        foreach (ICliCommand c in Commands)
        {
            w.WriteLine($"  {c.Name,-10} {c.Summary}");
        }

        w.WriteLine();
        w.WriteLine("jpeglm COMMAND --help shows a command's options.");
    }
}
