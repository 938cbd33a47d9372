using JpegLm.TestSupport;

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

    [Fact]
    public void Sampling_from_a_folder_that_is_not_a_run_is_a_one_line_error()
    {
        var err = new StringWriter();
        string dir = TestPaths.NewTempDirectory();
        Assert.Equal(1, Program.Run(["sample", "--model", dir, "--out", Path.Combine(dir, "s")], new StringWriter(), err));
        Assert.Contains("not a jpeglm run folder", err.ToString());
        Assert.DoesNotContain("   at ", err.ToString()); // no stack trace
    }

    [Fact]
    public void Training_data_shorter_than_one_sequence_is_a_usage_error_and_a_short_validation_set_is_skipped()
    {
        string dir = TestPaths.NewTempDirectory();
        string data = Path.Combine(dir, "data"), profile = Path.Combine(dir, "profile.json");
        JpegLm.Codec.Tokens.JpegProfile.Standard("t-32-q50-grey", 32, 32, 50, "grey", 1).Save(profile);
        Assert.Equal(0, Program.Run(["prepare", "--input", TestPaths.Data("e2e", "images"), "--output", data, "--profile", profile,
            "--limit", "12", "--val-fraction", "0.1"], new StringWriter(), new StringWriter()));

        var err = new StringWriter();
        Assert.Equal(2, Program.Run(["train", "--data", data, "--model-config", "tiny", "--out", Path.Combine(dir, "r1"), "--device", "cpu",
            "--steps", "1", "--context", "100000"], new StringWriter(), err));
        Assert.Contains("fewer than one sequence", err.ToString());

        err = new StringWriter();
        Assert.Equal(0, Program.Run(["train", "--data", data, "--model-config", "tiny", "--out", Path.Combine(dir, "r2"), "--device", "cpu",
            "--steps", "2", "--context", "256", "--batch-tokens", "256", "--val-every", "1"], new StringWriter(), err));
        Assert.Contains("validation loss is skipped", err.ToString());
    }
}
