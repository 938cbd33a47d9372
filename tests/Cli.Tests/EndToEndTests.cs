using System.Globalization;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.TestSupport;
using Xunit.Abstractions;

namespace JpegLm.Cli.Tests;

/// <summary>
/// The whole pipeline through the CLI on the committed handful of images in testdata/e2e: prepare → train
/// (about a minute on a 2-core machine) → grammar-constrained sampling → eval. Asserts that the loss falls
/// and that every constrained sample is a valid JPEG that decodes.
/// </summary>
public class EndToEndTests(ITestOutputHelper output)
{
    private int Jpeglm(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        output.WriteLine($"$ jpeglm {string.Join(' ', args)}  -> {code}");
        output.WriteLine(stdout.ToString());
        output.WriteLine(stderr.ToString());
        return code;
    }

    [Fact]
    public void Prepare_train_sample_eval_gives_falling_loss_and_only_valid_constrained_samples()
    {
        string dir = TestPaths.NewTempDirectory();
        string data = Path.Combine(dir, "data"), run = Path.Combine(dir, "run"), samples = Path.Combine(dir, "samples");
        string profile = Path.Combine(dir, "profile.json");
        JpegLm.Codec.Tokens.JpegProfile.Standard("e2e-32-q50-420", 32, 32, 50, "4:2:0", 1).Save(profile);
        string config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, """{"hidden_size":64,"intermediate_size":172,"num_hidden_layers":2,"num_attention_heads":4,"max_position_embeddings":256}""");

        Assert.Equal(0, Jpeglm("prepare", "--input", TestPaths.Data("e2e", "images"), "--output", data, "--profile", profile, "--merges", "300", "--val-fraction", "0.1"));
        Assert.Equal(0, Jpeglm("train", "--data", data, "--model-config", config, "--out", run, "--device", "cpu",
            "--steps", "60", "--batch-tokens", "1024", "--context", "256", "--lr", "3e-3", "--warmup", "5", "--val-every", "20"));

        string[] rows = File.ReadAllLines(Path.Combine(run, "loss.csv"));
        double first = double.Parse(rows[1].Split(',')[1], CultureInfo.InvariantCulture);
        double last = rows.Skip(rows.Length - 5).Average(r => double.Parse(r.Split(',')[1], CultureInfo.InvariantCulture));
        Assert.True(last < first - 0.5, $"loss did not fall enough: {first} -> {last}");
        Assert.True(File.Exists(Path.Combine(run, "model.safetensors")) && File.Exists(Path.Combine(run, "loss.png")));

        Assert.Equal(0, Jpeglm("sample", "--model", run, "--count", "6", "--prompt", TestPaths.Data("e2e", "images", "img000.png"),
            "--prompt-ratio", "0.5", "--out", samples, "--device", "cpu", "--max-tokens", "2048", "--seed", "3"));
        Assert.Equal(0, Jpeglm("sample", "--model", run, "--count", "6", "--out", samples, "--device", "cpu", "--max-tokens", "2048", "--seed", "4"));
        string[] jpgs = Directory.GetFiles(samples, "*.jpg");
        Assert.Equal(12, jpgs.Length);
        foreach (string jpg in jpgs)
        {
            byte[] file = File.ReadAllBytes(jpg);
            Assert.True(JpegScanChecker.CheckFile(file).IsValid, $"{jpg} is not valid");
            PixelImage image = JpegDecoder.Decode(file);
            Assert.Equal((32, 32), (image.Width, image.Height));
        }

        Assert.True(File.Exists(Path.Combine(samples, "img000-sheet.png")));
        Assert.Equal(0, Jpeglm("eval", "--model", run, "--data", data, "--samples", "4", "--max-docs", "8", "--device", "cpu", "--json"));
    }
}
