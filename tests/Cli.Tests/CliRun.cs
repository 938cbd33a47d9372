namespace JpegLm.Cli.Tests;

/// <summary>Runs <c>jpeglm</c> in the test process, as most Cli tests do.</summary>
internal static class CliRun
{
    /// <summary>The exit code and what the command wrote on stdout and stderr.</summary>
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }
}

/// <summary>Runs the commands of a fixture's pipeline one after another and keeps a log of every command and its output.</summary>
internal sealed class CliLog
{
    /// <summary>Every command so far with its exit code, stdout and stderr.</summary>
    public string Text { get; private set; } = "";

    /// <summary>What the last command wrote on stdout.</summary>
    public string LastStdout { get; private set; } = "";

    /// <summary>Runs one command, logs it, and returns its exit code.</summary>
    public int Run(params string[] args)
    {
        (int code, string stdout, string stderr) = CliRun.Run(args);
        LastStdout = stdout;
        Text += $"$ jpeglm {string.Join(' ', args)}  -> {code}\n{stdout}\n{stderr}\n";
        return code;
    }
}
