namespace JpegLm.Cli.Tests;

public class ProgramTests
{
    [Fact]
    public void Unknown_command_is_a_usage_error()
    {
        var err = new StringWriter();
        Assert.Equal(2, Program.Run(["no-such-command"], new StringWriter(), err));
        Assert.Contains("unknown command", err.ToString());
    }

    [Fact]
    public void Unknown_option_is_a_usage_error()
    {
        var err = new StringWriter();
        Assert.Equal(2, Program.Run(["version", "--bogus", "1"], new StringWriter(), err));
        Assert.Contains("unknown option --bogus", err.ToString());
    }

    [Fact]
    public void Version_prints_and_succeeds()
    {
        var output = new StringWriter();
        Assert.Equal(0, Program.Run(["version"], output, new StringWriter()));
        Assert.StartsWith("jpeglm", output.ToString());
    }
}
