namespace JpegLm.Cli;

/// <summary>One <c>jpeglm</c> sub-command. Each lives in its own file under <c>Commands/</c>.</summary>
public interface ICliCommand
{
    /// <summary>The word after <c>jpeglm</c>.</summary>
    string Name { get; }

    /// <summary>One line for the command list.</summary>
    string Summary { get; }

    /// <summary>The usage text printed on a usage error or <c>--help</c>.</summary>
    string Usage { get; }

    /// <summary>Runs the command. Returns the exit code: 0 success, 1 bad input, 2 usage (thrown as <see cref="UsageException"/>).</summary>
    int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr);
}
