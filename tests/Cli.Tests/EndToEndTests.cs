using System.Globalization;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.TestSupport;
using Xunit.Abstractions;

namespace JpegLm.Cli.Tests;

/// <summary>
/// The whole pipeline through the CLI on the committed handful of images in testdata/e2e, run once for the
/// class: prepare → train (about a minute on a 2-core machine) → grammar-constrained sampling (12 samples,
/// prompted and unconditional) → eval.
/// </summary>
public sealed class JpegPipelineFixture
{
    private readonly CliLog _cli = new();

    public JpegPipelineFixture()
    {
        string dir = TestPaths.NewTempDirectory();
        string data = Path.Combine(dir, "data");
        Run = Path.Combine(dir, "run");
        Samples = Path.Combine(dir, "samples");
        string profile = Path.Combine(dir, "profile.json");
        JpegLm.Codec.Tokens.JpegProfile.Standard("e2e-32-q50-420", 32, 32, 50, "4:2:0", 1).Save(profile);
        string config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, """{"hidden_size":64,"intermediate_size":172,"num_hidden_layers":2,"num_attention_heads":4,"max_position_embeddings":256}""");

        Codes.Add(_cli.Run("prepare", "--input", TestPaths.Data("e2e", "images"), "--output", data, "--profile", profile, "--merges", "300", "--val-fraction", "0.1"));
        Codes.Add(_cli.Run("train", "--data", data, "--model-config", config, "--out", Run, "--device", "cpu",
            "--steps", "60", "--batch-tokens", "1024", "--context", "256", "--lr", "3e-3", "--warmup", "5", "--val-every", "20"));
        Codes.Add(_cli.Run("sample", "--model", Run, "--count", "6", "--prompt", TestPaths.Data("e2e", "images", "img000.png"),
            "--prompt-ratio", "0.5", "--out", Samples, "--device", "cpu", "--max-tokens", "2048", "--seed", "3"));
        Codes.Add(_cli.Run("sample", "--model", Run, "--count", "6", "--out", Samples, "--device", "cpu", "--max-tokens", "2048", "--seed", "4"));
        Codes.Add(_cli.Run("eval", "--model", Run, "--data", data, "--samples", "4", "--max-docs", "8", "--device", "cpu", "--json"));
        EvalJson = _cli.LastStdout;
    }

    public string Run { get; }

    public string Samples { get; }

    public List<int> Codes { get; } = [];

    public string Log => _cli.Text;

    public string EvalJson { get; }
}

/// <summary>
/// Asserts on the <see cref="JpegPipelineFixture"/> run: the loss falls, every constrained sample finishes and is
/// a valid JPEG that our decoder and libjpeg-turbo's <c>djpeg -strict</c> decode without a word.
/// </summary>
public class EndToEndTests(JpegPipelineFixture run, ITestOutputHelper output) : IClassFixture<JpegPipelineFixture>
{
    [Fact]
    public void Prepare_train_sample_eval_gives_falling_loss_and_only_valid_constrained_samples()
    {
        output.WriteLine(run.Log);
        Assert.All(run.Codes, c => Assert.Equal(0, c));
        string[] rows = File.ReadAllLines(Path.Combine(run.Run, "loss.csv"));
        double first = double.Parse(rows[1].Split(',')[1], CultureInfo.InvariantCulture);
        double last = rows.Skip(rows.Length - 5).Average(r => double.Parse(r.Split(',')[1], CultureInfo.InvariantCulture));
        Assert.True(last < first - 0.5, $"loss did not fall enough: {first} -> {last}");
        Assert.True(File.Exists(Path.Combine(run.Run, "model.safetensors")) && File.Exists(Path.Combine(run.Run, "loss.png")));

        string[] jpgs = Directory.GetFiles(run.Samples, "*.jpg");
        Assert.Equal(12, jpgs.Length);
        foreach (string jpg in jpgs)
        {
            byte[] file = File.ReadAllBytes(jpg);
            Assert.True(JpegScanChecker.CheckFile(file).IsValid, $"{jpg} is not valid");
            PixelImage image = JpegDecoder.Decode(file);
            Assert.Equal((32, 32), (image.Width, image.Height));
        }

        Assert.DoesNotContain("stopped by Length", run.Log, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(run.Samples, "img000-sheet.png")));

        // Eval's constrained samples and completions all finish: none stops at the token cap.
        Assert.Contains("\"unfinished\":0", run.EvalJson, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Djpeg_strict_decodes_every_constrained_model_sample_without_a_warning()
    {
        Skip.If(OutsideDecoders.DjpegMissing != null, OutsideDecoders.DjpegMissing);
        string[] jpgs = Directory.GetFiles(run.Samples, "*.jpg");
        Assert.Equal(12, jpgs.Length);
        foreach (string jpg in jpgs)
        {
            OutsideVerdict v = OutsideDecoders.Djpeg(jpg);
            output.WriteLine($"{Path.GetFileName(jpg)}: djpeg -strict exit {v.ExitCode} {v.Stderr.Trim()}");
            Assert.True(v.Clean, $"{jpg}: exit {v.ExitCode}: {v.Stderr}");
        }
    }
}
