using System.CommandLine;

namespace JpegLm.Cli.Commands;

/// <summary><c>jpeglm version</c>: prints the tool's version and runtime.</summary>
internal sealed class VersionCommand() : CliCommand("version", "print the version and the .NET runtime")
{
    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        stdout.WriteLine($"jpeglm {typeof(Program).Assembly.GetName().Version} on .NET {Environment.Version}");
        return 0;
    }
}
