using System.Globalization;
using JpegLm.Codec.Avc;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;
using Xunit.Abstractions;

namespace JpegLm.Cli.Tests;

/// <summary>
/// The video pipeline through the CLI on generated clips (moving crops of synthetic images, 32x32, 4 frames):
/// prepare → train (well under a minute) → grammar-constrained sampling, unconditional and completing a prompt
/// cut after 2 of 4 frames → eval. Every constrained sample that finishes must pass the checker and hold only
/// whole frames; one that runs out of budget must be reported as unfinished and invalid.
/// </summary>
public class VideoEndToEndTests(ITestOutputHelper output)
{
    private string _lastStdout = "";

    private int Jpeglm(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(args, stdout, stderr);
        _lastStdout = stdout.ToString();
        output.WriteLine($"$ jpeglm {string.Join(' ', args)}  -> {code}");
        output.WriteLine(_lastStdout);
        output.WriteLine(stderr.ToString());
        return code;
    }

    [Fact]
    public void Prepare_train_sample_eval_on_video_gives_only_valid_constrained_streams()
    {
        string dir = TestPaths.NewTempDirectory();
        string clips = Path.Combine(dir, "clips"), data = Path.Combine(dir, "data"), run = Path.Combine(dir, "run"), samples = Path.Combine(dir, "samples");
        WriteClips(clips, count: 64, frames: 4);
        string profile = Path.Combine(dir, "profile.json");
        AvcProfile.Create("e2e-avc-32", 32, 32, fps: 3, frames: 4, qp: 30, refs: 1, sliceMaxMbs: 1).Save(profile);
        string config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, """{"hidden_size":64,"intermediate_size":172,"num_hidden_layers":2,"num_attention_heads":4,"max_position_embeddings":1024}""");

        Assert.Equal(0, Jpeglm("prepare", "--input", clips, "--output", data, "--profile", profile, "--merges", "320", "--val-fraction", "0.25"));
        Assert.Equal(0, Jpeglm("train", "--data", data, "--model-config", config, "--out", run, "--device", "cpu",
            "--steps", "200", "--batch-tokens", "1024", "--context", "512", "--lr", "3e-3", "--warmup", "10", "--val-every", "100"));
        string[] rows = File.ReadAllLines(Path.Combine(run, "loss.csv"));
        double first = double.Parse(rows[1].Split(',')[1], CultureInfo.InvariantCulture);
        double last = rows.Skip(rows.Length - 5).Average(r => double.Parse(r.Split(',')[1], CultureInfo.InvariantCulture));
        Assert.True(last < first - 0.5, $"loss did not fall enough: {first} -> {last}");

        Assert.Equal(0, Jpeglm("sample", "--model", run, "--count", "3", "--out", samples, "--device", "cpu", "--seed", "4", "--max-tokens", "400"));
        string unconditional = _lastStdout;
        Assert.Equal(0, Jpeglm("sample", "--model", run, "--count", "2", "--prompt", Path.Combine(clips, "clip00.y4m"),
            "--prompt-ratio", "0.5", "--out", samples, "--device", "cpu", "--seed", "5", "--max-tokens", "400"));
        string prompted = _lastStdout;
        Assert.Contains("clip00: prompt = first 2 of 4 frames", prompted, StringComparison.Ordinal);

        // A model this small (a minute of training) does not always finish a video within the step budget; a
        // sample that finished must be valid and made of whole frames, and one that did not says so.
        string[] lines = [.. (unconditional + prompted).Split('\n').Where(l => l.Contains(".h264:", StringComparison.Ordinal))];
        Assert.Equal(5, lines.Length);
        foreach (string line in lines)
        {
            string file = line[..line.IndexOf(".h264:", StringComparison.Ordinal)] + ".h264";
            byte[] bytes = File.ReadAllBytes(file);
            bool finished = line.Contains("stopped by EndOfSequence", StringComparison.Ordinal);
            AvcCheckResult check;
            try
            {
                check = AvcStreamChecker.Check(new MemoryStream(bytes));
            }
            catch (AvcFormatException)
            {
                check = new AvcCheckResult(0, [new AvcSliceError(-1, 0, "unreadable", -1, -1)]);
            }

            Assert.Equal(finished, check.Valid && check.PatchCount > 0);
            Assert.Equal(finished, line.Contains(": valid", StringComparison.Ordinal));
            if (finished)
            {
                List<Yuv420Frame> frames = [.. new AvcDecoder().Decode(new MemoryStream(bytes))];
                Assert.InRange(frames.Count, 1, 4);
                Assert.All(frames, f => Assert.Equal((32, 32), (f.Width, f.Height)));
            }
        }

        Assert.Contains(lines, l => l.Contains("stopped by EndOfSequence", StringComparison.Ordinal));

        // Prompted samples keep the prompt's two frames, whatever happens after them.
        foreach (string file in Directory.GetFiles(samples, "clip00-*.h264"))
        {
            var tolerant = new AvcDecoder(new AvcDecoderOptions { Tolerant = true });
            Assert.True(tolerant.Decode(new MemoryStream(File.ReadAllBytes(file))).Count() >= 2);
        }

        Assert.True(File.Exists(Path.Combine(samples, "clip00-sheet.png")) && File.Exists(Path.Combine(samples, "unconditional-sheet.png")));

        Assert.Equal(0, Jpeglm("eval", "--model", run, "--data", data, "--samples", "2", "--max-docs", "4", "--device", "cpu", "--json"));
    }

    // Clips that pan a 32x32 window across a 64x64 synthetic image, 4 px per frame, at 3 fps.
    private static void WriteClips(string dir, int count, int frames)
    {
        Directory.CreateDirectory(dir);
        for (int c = 0; c < count; c++)
        {
            PixelImage image = SyntheticImages.Make(64, 64, seed: 11, index: c).ToRgb();
            using FileStream fs = File.Create(Path.Combine(dir, $"clip{c:D2}.y4m"));
            Y4mReader.WriteHeader(fs, new Y4mHeader(32, 32, 3, 1));
            for (int f = 0; f < frames; f++)
            {
                Y4mReader.WriteFrame(fs, Crop(image, 4 * f, 2 * f));
            }
        }
    }

    private static Yuv420Frame Crop(PixelImage rgb, int x0, int y0)
    {
        var frame = new Yuv420Frame(32, 32);
        for (int y = 0; y < 32; y++)
        {
            for (int x = 0; x < 32; x++)
            {
                int o = (((y + y0) * rgb.Width) + x + x0) * 3;
                double r = rgb.Pixels[o], g = rgb.Pixels[o + 1], b = rgb.Pixels[o + 2];
                frame.Y[(y * 32) + x] = (byte)Math.Clamp(Math.Round(16 + (0.257 * r) + (0.504 * g) + (0.098 * b)), 0, 255);
                if ((x & 1) == 0 && (y & 1) == 0)
                {
                    int ci = ((y / 2) * 16) + (x / 2);
                    frame.U[ci] = (byte)Math.Clamp(Math.Round(128 - (0.148 * r) - (0.291 * g) + (0.439 * b)), 0, 255);
                    frame.V[ci] = (byte)Math.Clamp(Math.Round(128 + (0.439 * r) - (0.368 * g) - (0.071 * b)), 0, 255);
                }
            }
        }

        return frame;
    }
}
