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

    /// <summary>A copy of the run with <paramref name="garbage"/> as its <paramref name="file"/> (model.safetensors unless named).</summary>
    public string CorruptCopy(byte[] garbage, string file = "model.safetensors")
    {
        string copy = TestPaths.NewTempDirectory();
        foreach (string f in Directory.GetFiles(Run))
        {
            File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
        }

        File.WriteAllBytes(Path.Combine(copy, file), garbage);
        return copy;
    }

    /// <summary>
    /// A corrupt copy that passes for a run of another kind: a video run (an AVC profile) or the raw-pixel baseline (a
    /// pixel profile and a vocabulary without merges). Loading stops at the weights, before anything codec-specific.
    /// </summary>
    public string CorruptCopyOfKind(string kind, byte[] garbage)
    {
        string copy = CorruptCopy(garbage);
        string profile = Path.Combine(copy, "profile.json");
        switch (kind)
        {
            case "video":
                JpegLm.Codec.Tokens.AvcProfile.Create("corrupt-avc-32", 32, 32, fps: 3, frames: 4, qp: 30, refs: 1, sliceMaxMbs: 1).Save(profile);
                break;
            case "pixel":
                JpegLm.Codec.Tokens.PixelProfile.FashionMnist().Save(profile);
                new JpegLm.Codec.Tokens.BpeVocabulary([]).Save(Path.Combine(copy, "vocab.json"));
                break;
        }

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

/// <summary>
/// Every command that reads a checkpoint (sample and eval of JPEG, video and pixel runs, score, train --resume; demo
/// trains its own and reads none) says in one line that a corrupt one is bad input, and exits 1.
/// </summary>
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

    private static void AssertOneLineBadInput(int code, string stderr, string command, string file = "model.safetensors")
    {
        Assert.True(code == 1, $"exit {code}: {stderr}");
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal); // no stack trace
        string[] errors = [.. stderr.Split('\n').Where(l => l.StartsWith($"jpeglm {command}:", StringComparison.Ordinal))];
        Assert.Single(errors);
        Assert.Contains(file, errors[0], StringComparison.Ordinal);
    }

    private static (int Code, string Err) Jpeglm(params string[] args)
    {
        (int code, _, string err) = CliRun.Run(args);
        return (code, err);
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

    /// <summary>sample and eval open JPEG, video and pixel runs through different sessions: each says it in one line.</summary>
    [Theory]
    [InlineData("sample", "video")]
    [InlineData("sample", "pixel")]
    [InlineData("eval", "video")]
    [InlineData("eval", "pixel")]
    public void Sample_and_eval_of_every_kind_of_run(string command, string kind)
    {
        string run = fixture.CorruptCopyOfKind(kind, Bytes("length"));
        (int code, string err) = command == "sample"
            ? Jpeglm("sample", "--model", run, "--out", Path.Combine(run, "s"), "--device", "cpu", "--count", "1")
            : Jpeglm("eval", "--model", run, "--data", fixture.Data, "--device", "cpu", "--samples", "1");
        AssertOneLineBadInput(code, err, command);
    }

    [Fact]
    public void Train_resume_with_a_corrupt_trainer_state()
    {
        string run = fixture.CorruptCopy(Bytes("json"), "trainer_state.safetensors");
        (int code, string err) = Jpeglm("train", "--data", fixture.Data, "--out", run, "--device", "cpu", "--resume", "--steps", "2", "--context", "256", "--batch-tokens", "256");
        AssertOneLineBadInput(code, err, "train", "trainer_state.safetensors");
    }

    [Fact]
    public void Train_resume_with_a_trainer_state_that_lacks_the_moments()
    {
        // A well-formed safetensors file with the right metadata but no tensors: the state of nothing.
        string run = fixture.CorruptCopy([], "trainer_state.safetensors");
        string header = """{"__metadata__":{"step":"1","data_position":"0","rng_state":"1","parameters":"PARAMS"}}""";
        using (var model = JpegLm.Engine.Model.HfCheckpoint.Load(fixture.Run, new JpegLm.Engine.Kernels.Cpu.CpuKernels()))
        {
            header = header.Replace("PARAMS", model.Layout.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        }

        byte[] json = System.Text.Encoding.UTF8.GetBytes(header);
        File.WriteAllBytes(Path.Combine(run, "trainer_state.safetensors"), [.. BitConverter.GetBytes((long)json.Length), .. json]);
        (int code, string err) = Jpeglm("train", "--data", fixture.Data, "--out", run, "--device", "cpu", "--resume", "--steps", "2", "--context", "256", "--batch-tokens", "256");
        AssertOneLineBadInput(code, err, "train", "trainer_state.safetensors");
    }

    /// <summary>config.json is part of the checkpoint: numbers that describe no model are bad input too.</summary>
    [Theory]
    [InlineData("sample")]
    [InlineData("eval")]
    [InlineData("score")]
    [InlineData("train")]
    public void A_config_that_describes_no_model(string command)
    {
        string run = fixture.CorruptCopy("""{"hidden_size":30,"num_attention_heads":4}"""u8.ToArray(), "config.json");
        (int code, string err) = command switch
        {
            "sample" => Jpeglm("sample", "--model", run, "--out", Path.Combine(run, "s"), "--device", "cpu", "--count", "1"),
            "eval" => Jpeglm("eval", "--model", run, "--data", fixture.Data, "--device", "cpu", "--samples", "1"),
            "score" => Jpeglm("score", "--model", run, "--tokens", "1,2,3"),
            _ => Jpeglm("train", "--data", fixture.Data, "--out", run, "--device", "cpu", "--resume", "--steps", "2", "--context", "256", "--batch-tokens", "256"),
        };
        AssertOneLineBadInput(code, err, command, "config.json");
    }

    [Fact]
    public void The_intact_run_still_samples()
    {
        (int code, string err) = Jpeglm("sample", "--model", fixture.Run, "--out", Path.Combine(TestPaths.NewTempDirectory(), "s"), "--device", "cpu", "--count", "1", "--max-tokens", "64", "--unconstrained");
        Assert.True(code == 0, err);
    }
}
