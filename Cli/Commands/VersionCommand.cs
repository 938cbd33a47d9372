namespace JpegLm.Cli.Commands;

/// <summary><c>jpeglm version</c>: prints the tool's version and runtime.</summary>
internal sealed class VersionCommand : ICliCommand
{
    public string Name => "version";

    public string Summary => "print the version and the .NET runtime";

    public string Usage => "jpeglm version";

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        new CliArgs(args).EnsureAllUsed(0);
        stdout.WriteLine($"jpeglm {typeof(Program).Assembly.GetName().Version} on .NET {Environment.Version}");
        return 0;
    }
}
