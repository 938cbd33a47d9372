using System.Globalization;
using JpegLm.Codec.Avc;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;
using Xunit.Abstractions;

namespace JpegLm.Cli.Tests;

/// <summary>
/// The video pipeline through the CLI on generated clips (moving crops of synthetic images, 32x32, 4 frames), run
/// once for the class: prepare → train (well under a minute) → grammar-constrained sampling, unconditional and
/// completing a prompt cut after 2 of 4 frames → eval.
/// </summary>
public sealed class VideoPipelineFixture
{
    private readonly CliLog _cli = new();

    public VideoPipelineFixture()
    {
        string dir = TestPaths.NewTempDirectory();
        Clips = Path.Combine(dir, "clips");
        string data = Path.Combine(dir, "data");
        Run = Path.Combine(dir, "run");
        Samples = Path.Combine(dir, "samples");
        VideoEndToEndTests.WriteClips(Clips, count: 64, frames: 4);
        string profile = Path.Combine(dir, "profile.json");
        AvcProfile.Create("e2e-avc-32", 32, 32, fps: 3, frames: 4, qp: 30, refs: 1, sliceMaxMbs: 1).Save(profile);
        string config = Path.Combine(dir, "config.json");
        File.WriteAllText(config, """{"hidden_size":64,"intermediate_size":172,"num_hidden_layers":2,"num_attention_heads":4,"max_position_embeddings":1024}""");

        Codes.Add(_cli.Run("prepare", "--input", Clips, "--output", data, "--profile", profile, "--merges", "320", "--val-fraction", "0.25"));
        Codes.Add(_cli.Run("train", "--data", data, "--model-config", config, "--out", Run, "--device", "cpu",
            "--steps", "200", "--batch-tokens", "1024", "--context", "512", "--lr", "3e-3", "--warmup", "10", "--val-every", "100"));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Codes.Add(_cli.Run("sample", "--model", Run, "--count", "3", "--out", Samples, "--device", "cpu", "--seed", "4", "--max-tokens", "400"));
        Unconditional = _cli.LastStdout;
        Codes.Add(_cli.Run("sample", "--model", Run, "--count", "2", "--prompt", Path.Combine(Clips, "clip00.y4m"),
            "--prompt-ratio", "0.5", "--out", Samples, "--device", "cpu", "--seed", "5", "--max-tokens", "400"));
        Prompted = _cli.LastStdout;
        SamplingSeconds = clock.Elapsed.TotalSeconds;
        Codes.Add(_cli.Run("eval", "--model", Run, "--data", data, "--samples", "2", "--max-docs", "4", "--device", "cpu", "--json"));
        EvalJson = _cli.LastStdout;
    }

    public string Clips { get; }

    public string Run { get; }

    public string Samples { get; }

    public List<int> Codes { get; } = [];

    public string Log => _cli.Text;

    public string Unconditional { get; }

    public string Prompted { get; }

    public string EvalJson { get; }

    public double SamplingSeconds { get; }

}

/// <summary>
/// Asserts on the <see cref="VideoPipelineFixture"/> run: every constrained sample finishes within its cap with
/// whole pictures, passes the checker and decodes — in our decoder and in ffmpeg, which we did not write.
/// </summary>
public class VideoEndToEndTests(VideoPipelineFixture run, ITestOutputHelper output) : IClassFixture<VideoPipelineFixture>
{
    [Fact]
    public void Prepare_train_sample_eval_on_video_gives_only_finished_valid_constrained_streams()
    {
        output.WriteLine(run.Log);
        output.WriteLine($"sampling (3 unconditional + 2 prompted videos, one batch each): {run.SamplingSeconds:F1} s");
        Assert.All(run.Codes, c => Assert.Equal(0, c));
        string[] rows = File.ReadAllLines(Path.Combine(run.Run, "loss.csv"));
        double first = double.Parse(rows[1].Split(',')[1], CultureInfo.InvariantCulture);
        double last = rows.Skip(rows.Length - 5).Average(r => double.Parse(r.Split(',')[1], CultureInfo.InvariantCulture));
        Assert.True(last < first - 0.5, $"loss did not fall enough: {first} -> {last}");
        Assert.Contains("clip00: prompt = first 2 of 4 frames", run.Prompted, StringComparison.Ordinal);

        string[] lines = [.. (run.Unconditional + run.Prompted).Split('\n').Where(l => l.Contains(".h264:", StringComparison.Ordinal))];
        Assert.Equal(5, lines.Length);
        foreach (string line in lines)
        {
            // The budget-aware mask: every sample ends with EOS within --max-tokens, and is valid.
            Assert.Contains("stopped by EndOfSequence", line, StringComparison.Ordinal);
            Assert.Contains(": valid", line, StringComparison.Ordinal);
            byte[] bytes = File.ReadAllBytes(SampleFile(line));
            AvcCheckResult check = AvcStreamChecker.Check(new MemoryStream(bytes));
            Assert.True(check.Valid && check.PatchCount > 0);
            List<Yuv420Frame> frames = [.. new AvcDecoder().Decode(new MemoryStream(bytes))];
            Assert.InRange(frames.Count, 1, 4);
            Assert.All(frames, f => Assert.Equal((32, 32), (f.Width, f.Height)));
        }

        // Prompted samples keep the prompt's two frames and complete the clip's four.
        foreach (string file in Directory.GetFiles(run.Samples, "clip00-*.h264"))
        {
            Assert.Equal(4, new AvcDecoder().Decode(new MemoryStream(File.ReadAllBytes(file))).Count());
        }

        Assert.True(File.Exists(Path.Combine(run.Samples, "clip00-sheet.png")) && File.Exists(Path.Combine(run.Samples, "unconditional-sheet.png")));
        Assert.Contains("\"unfinished\":0", run.EvalJson, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Ffmpeg_decodes_every_constrained_sample_with_its_frame_count_and_no_error()
    {
        Skip.If(OutsideDecoders.FfmpegMissing != null, OutsideDecoders.FfmpegMissing);
        string[] lines = [.. (run.Unconditional + run.Prompted).Split('\n').Where(l => l.Contains(".h264:", StringComparison.Ordinal))];
        Assert.Equal(5, lines.Length);
        foreach (string line in lines)
        {
            string file = SampleFile(line);
            OutsideVerdict v = OutsideDecoders.Ffmpeg(file);
            int frames = new AvcDecoder().Decode(new MemoryStream(File.ReadAllBytes(file))).Count();
            output.WriteLine($"{Path.GetFileName(file)}: ffmpeg exit {v.ExitCode}, {v.Frames} frames (ours: {frames}) {v.Stderr.Trim()}");
            Assert.True(v.Clean, $"{file}: exit {v.ExitCode}: {v.Stderr}");
            Assert.Equal(frames, v.Frames);
        }
    }

    private static string SampleFile(string line) => line[..line.IndexOf(".h264:", StringComparison.Ordinal)] + ".h264";

    // Clips that pan a 32x32 window across a 64x64 synthetic image, 4 px per frame, at 3 fps.
    internal static void WriteClips(string dir, int count, int frames)
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
