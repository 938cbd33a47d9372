using System.CommandLine;
using System.Reflection;
using JpegLm.TestSupport;
using static JpegLm.Cli.Tests.CliRun;

namespace JpegLm.Cli.Tests;

/// <summary>The command line itself: generated help, one verb per job, suggestions, usage errors, response files.</summary>
public class CommandLineTests
{
    /// <summary>Every command and sub-command with its words after <c>jpeglm</c>.</summary>
    private static IEnumerable<(string[] Path, CliCommand Command)> AllCommands()
    {
        IEnumerable<(string[], CliCommand)> Walk(string[] prefix, CliCommand c)
        {
            string[] path = [.. prefix, c.Command.Name];
            yield return (path, c);
            foreach (CliCommand child in c.Subcommands)
            {
                foreach ((string[], CliCommand) x in Walk(path, child))
                {
                    yield return x;
                }
            }
        }

        return Program.Commands().SelectMany(c => Walk([], c));
    }

    [Fact]
    public void Help_lists_each_job_once_and_no_codec_specific_twins()
    {
        (int code, string output, _) = Run("--help");
        Assert.Equal(0, code);
        string[] listed = [.. output[output.IndexOf("Commands:", StringComparison.Ordinal)..].Split('\n').Skip(1)
            .TakeWhile(l => l.StartsWith("  ", StringComparison.Ordinal)).Select(l => l.Trim().Split(' ')[0])];
        Assert.Equal(["encode", "decode", "check", "prepare", "train", "sample", "eval", "score", "demo", "bench", "gpu-check", "version"], listed);
        foreach (string old in new[] { "decode-avc", "check-avc", "encode-avc", "bench-engine", "bench-tokens", "bench-jpeg-decode" })
        {
            Assert.DoesNotContain(old, output, StringComparison.Ordinal);
        }

        Assert.Equal(["jpeg", "jpeg-decode", "tokens", "engine", "bf16", "sampling"], Program.Commands().Single(c => c.Command.Name == "bench").Subcommands.Select(c => c.Command.Name));
    }

    [Fact]
    public void Bare_jpeglm_lists_the_commands_and_is_a_usage_error()
    {
        (int code, string output, _) = Run();
        Assert.Equal(2, code);
        Assert.Contains("encode <IN> <OUT>", output, StringComparison.Ordinal);
        Assert.Equal(0, Run("help", "decode").Code);
    }

    [Fact]
    public void Every_commands_help_works_and_shows_each_of_its_options_with_its_description()
    {
        foreach ((string[] path, CliCommand command) in AllCommands())
        {
            (int code, string output, string err) = Run([.. path, "--help"]);
            Assert.True(code == 0, $"{string.Join(' ', path)} --help: {err}");
            Assert.Contains($"jpeglm {string.Join(' ', path)}", output, StringComparison.Ordinal);
            foreach (Option option in command.Command.Options)
            {
                Assert.Contains(option.Name, output, StringComparison.Ordinal);
                Assert.False(string.IsNullOrWhiteSpace(option.Description), $"{option.Name} of {command.Command.Name} has no description");
            }

            foreach (Argument argument in command.Command.Arguments)
            {
                Assert.Contains($"<{argument.Name}>", output, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void Every_option_a_command_declares_is_registered_with_it()
    {
        foreach ((_, CliCommand command) in AllCommands())
        {
            foreach (FieldInfo field in command.GetType().GetFields(BindingFlags.Instance | BindingFlags.NonPublic))
            {
                object? value = field.GetValue(command);
                if (value is Option option)
                {
                    Assert.True(command.Command.Options.Contains(option), $"{command.GetType().Name}.{field.Name} is not added to the command");
                }
                else if (value is Argument argument)
                {
                    Assert.True(command.Command.Arguments.Contains(argument), $"{command.GetType().Name}.{field.Name} is not added to the command");
                }
            }
        }
    }

    [Fact]
    public void Help_shows_the_defaults_the_code_uses()
    {
        string help = Run("sample", "--help").Out;
        Assert.Contains("128 per patch, at least 512", help, StringComparison.Ordinal);
        Assert.Equal(128, Pipeline.JpegSamplingSession.TokensPerPatch);
        Assert.Contains("[default: 37]", Run("encode", "--help").Out, StringComparison.Ordinal);
        Assert.Contains("[default: 1000]", Run("train", "--help").Out, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--qualty", "--quality")]
    [InlineData("--restart-intreval", "--restart-interval")]
    [InlineData("--tolerent", "--tolerant")]
    public void A_misspelt_option_is_a_usage_error_with_a_suggestion(string typo, string meant)
    {
        string command = meant == "--tolerant" ? "decode" : "encode";
        (int code, string output, string err) = Run(command, "a.png", "b.jpg", typo, "3");
        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Contains($"unknown option {typo}, did you mean {meant}?", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelt_command_or_sub_command_gets_a_suggestion()
    {
        (int code, _, string err) = Run("decdoe", "a.jpg", "b.png");
        Assert.Equal(2, code);
        Assert.Contains("unknown command 'decdoe', did you mean decode?", err, StringComparison.Ordinal);
        (code, _, err) = Run("bench", "tokns", "dir");
        Assert.Equal(2, code);
        Assert.Contains("did you mean tokens?", err, StringComparison.Ordinal);
        (code, _, err) = Run("bench");
        Assert.Equal(2, code);
        Assert.Contains("jpeg, jpeg-decode, tokens, engine", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("encode", "a.png", "b.jpg", "--quality", "0")]
    [InlineData("encode", "a.png", "b.jpg", "--quality", "many")]
    [InlineData("encode", "a.y4m", "b.h264", "--qp", "52")]
    [InlineData("sample", "--model", "m", "--out", "o", "--top-p", "0")]
    [InlineData("sample", "--model", "m", "--out", "o", "--device", "tpu")]
    [InlineData("train", "--data", "d", "--out", "o", "--lr", "2")]
    [InlineData("eval", "--model", "m")]
    public void Values_out_of_range_or_of_the_wrong_type_are_usage_errors(params string[] args)
    {
        (int code, _, string err) = Run(args);
        Assert.Equal(2, code);
        Assert.StartsWith("jpeglm ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_given_to_the_other_codec_are_usage_errors()
    {
        (int code, _, string err) = Run("encode", "a.png", "b.jpg", "--qp", "30");
        Assert.Equal(2, code);
        Assert.Contains("--qp applies to H.264 output", err, StringComparison.Ordinal);
        Assert.Equal(2, Run("encode", "a.y4m", "b.h264", "--quality", "30").Code);
    }

    [Fact]
    public void Arguments_can_come_from_a_response_file()
    {
        string dir = TestPaths.NewTempDirectory();
        string output = Path.Combine(dir, "o.png");
        string rsp = Path.Combine(dir, "args.rsp");
        File.WriteAllLines(rsp, ["decode", TestPaths.Data("jpeg-dec", "cj_q75.jpg"), output]);
        (int code, string text, string err) = Run($"@{rsp}");
        Assert.True(code == 0, err);
        Assert.Contains("-> ", text, StringComparison.Ordinal);
        Assert.True(File.Exists(output));
    }

    [Fact]
    public void Tab_completion_suggests_commands_and_options()
    {
        (int code, string output, _) = Run("[suggest:9]", "jpeglm de");
        Assert.Equal(0, code);
        Assert.Contains("decode", output, StringComparison.Ordinal);
        Assert.Contains("demo", output, StringComparison.Ordinal);
        output = Run("[suggest:20]", "jpeglm encode --qua").Out;
        Assert.Contains("--quality", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_input_exceptions_of_every_domain_are_one_line_errors_and_bugs_are_not()
    {
        Assert.True(Program.IsBadInput(new Engine.Model.SafetensorsFormatException("model.safetensors: byte 0: bad")));
        Assert.True(Program.IsBadInput(new Cuda.Interop.CudaException("no device")));
        Assert.True(Program.IsBadInput(new Codec.Avc.AvcFormatException("bad slice", 10)));
        Assert.True(Program.IsBadInput(new Codec.Jpeg.JpegFormatException("bad marker", 3)));
        Assert.False(Program.IsBadInput(new InvalidOperationException("a bug")));
        Assert.False(Program.IsBadInput(new ArgumentOutOfRangeException("x")));
    }
}
