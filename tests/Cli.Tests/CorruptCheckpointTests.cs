using JpegLm.TestSupport;

namespace JpegLm.Cli.Tests;

/// <summary>
/// A run folder (prepared from 12 of the e2e images, trained for one step) whose model.safetensors is then
/// overwritten with garbage, made once for the class.
/// </summary>
public sealed class CorruptRunFixture
{
    public CorruptRunFixture()
    {
        string dir = TestPaths.NewTempDirectory();
        Data = Path.Combine(dir, "data");
        Run = Path.Combine(dir, "run");
        string profile = Path.Combine(dir, "profile.json");
        JpegLm.Codec.Tokens.JpegProfile.Standard("t-32-q50-grey", 32, 32, 50, "grey", 1).Save(profile);
        Check(Program.Run(["prepare", "--input", TestPaths.Data("e2e", "images"), "--output", Data, "--profile", profile, "--limit", "12", "--val-fraction", "0.1"],
            TextWriter.Null, TextWriter.Null), "prepare");
        Check(Program.Run(["train", "--data", Data, "--model-config", "tiny", "--out", Run, "--device", "cpu", "--steps", "1", "--context", "256", "--batch-tokens", "256"],
            TextWriter.Null, TextWriter.Null), "train");
    }

    public string Data { get; }

    public string Run { get; }

    /// <summary>A copy of the run with <paramref name="garbage"/> as its model.safetensors.</summary>
    public string CorruptCopy(byte[] garbage)
    {
        string copy = TestPaths.NewTempDirectory();
        foreach (string file in Directory.GetFiles(Run))
        {
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        }

        File.WriteAllBytes(Path.Combine(copy, "model.safetensors"), garbage);
        return copy;
    }

    private static void Check(int code, string step)
    {
        if (code != 0)
        {
            throw new InvalidOperationException($"fixture: {step} exited {code}");
        }
    }
}

/// <summary>Every command that reads a checkpoint says in one line that a corrupt one is bad input, and exits 1.</summary>
public class CorruptCheckpointTests(CorruptRunFixture fixture) : IClassFixture<CorruptRunFixture>
{
    /// <summary>A few garbage bytes; a header length that does not fit the file; a header that is not JSON.</summary>
    public static TheoryData<string> Garbage => ["short", "length", "json"];

    private static byte[] Bytes(string kind) => kind switch
    {
        "short" => [0x13, 0x37, 0x00, 0xFF, 0x42],
        "length" => [0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0x00, 0x00, 0x00, 0x7B, 0x7D],
        _ => [0x08, 0, 0, 0, 0, 0, 0, 0, .. "not json"u8],
    };

    private static void AssertOneLineBadInput(int code, string stderr, string command)
    {
        Assert.True(code == 1, $"exit {code}: {stderr}");
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal); // no stack trace
        string[] errors = [.. stderr.Split('\n').Where(l => l.StartsWith($"jpeglm {command}:", StringComparison.Ordinal))];
        Assert.Single(errors);
        Assert.Contains("model.safetensors", errors[0], StringComparison.Ordinal);
    }

    private static (int Code, string Err) Jpeglm(params string[] args)
    {
        var stderr = new StringWriter();
        int code = Program.Run(args, new StringWriter(), stderr);
        return (code, stderr.ToString());
    }

    [Theory]
    [MemberData(nameof(Garbage))]
    public void Sample(string garbage)
    {
        string run = fixture.CorruptCopy(Bytes(garbage));
        (int code, string err) = Jpeglm("sample", "--model", run, "--out", Path.Combine(run, "s"), "--device", "cpu", "--count", "1");
        AssertOneLineBadInput(code, err, "sample");
    }

    [Fact]
    public void Eval()
    {
        string run = fixture.CorruptCopy(Bytes("short"));
        (int code, string err) = Jpeglm("eval", "--model", run, "--data", fixture.Data, "--device", "cpu", "--samples", "1");
        AssertOneLineBadInput(code, err, "eval");
    }

    [Fact]
    public void Score()
    {
        string run = fixture.CorruptCopy(Bytes("json"));
        (int code, string err) = Jpeglm("score", "--model", run, "--tokens", "1,2,3");
        AssertOneLineBadInput(code, err, "score");
    }

    [Fact]
    public void Train_resume()
    {
        string run = fixture.CorruptCopy(Bytes("length"));
        (int code, string err) = Jpeglm("train", "--data", fixture.Data, "--out", run, "--device", "cpu", "--resume", "--steps", "2", "--context", "256", "--batch-tokens", "256");
        AssertOneLineBadInput(code, err, "train");
    }

    [Fact]
    public void The_intact_run_still_samples()
    {
        (int code, string err) = Jpeglm("sample", "--model", fixture.Run, "--out", Path.Combine(TestPaths.NewTempDirectory(), "s"), "--device", "cpu", "--count", "1", "--max-tokens", "64", "--unconstrained");
        Assert.True(code == 0, err);
    }
}
