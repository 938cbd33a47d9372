using System.CommandLine;
using System.Diagnostics;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm bench jpeg</c>: single-threaded JPEG throughput on the Kodak photos, ours against
/// libjpeg-turbo (SIMD, through libturbojpeg) in the same process, as medians of several runs.
/// Each row is a <see cref="BenchCase"/> built in <see cref="BuildCases"/>: encode rows, then decode rows.
/// </summary>
internal sealed class BenchJpegCommand : CliCommand
{
    private readonly Option<string?> _kodak = CliOptions.Text("--kodak", "DIR", "folder of the Kodak PNGs (default: $JPEGLM_SHARED_DATA/kodak, or shared/data/kodak here or in the nearest ancestor)");
    private readonly Option<int> _iterations = CliOptions.Number("--iterations", 7, 1, 1000, "timed runs per row; the median is reported");
    private readonly Option<double> _warmup = CliOptions.Number("--warmup", 1.5, 0, 60, "untimed running per row before measuring, for the tiered JIT", "SECONDS");

    public BenchJpegCommand()
        : base("jpeg", "JPEG encode and decode throughput against libjpeg-turbo", """
            Rows: the JPEG-LM paper's setting (256x256 centre crops, q25 4:2:0, restart 1, image-only) and
            full 768x512 photos at q75 4:2:0, encoding and decoding; megapixels per second on one thread,
            ours / libjpeg-turbo.
            """)
    {
        Add(_kodak, _iterations, _warmup);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        string? kodak = parsed.GetValue(_kodak) ?? BenchCommand.FindKodak();
        int iterations = parsed.Value(_iterations);
        double warmup = parsed.Value(_warmup);
        if (kodak == null || !Directory.Exists(kodak))
        {
            stderr.WriteLine("jpeglm bench jpeg: Kodak folder not found; pass --kodak DIR");
            return 1;
        }

        string[] files = [.. Directory.GetFiles(kodak, "*.png").Order(StringComparer.Ordinal)];
        if (files.Length == 0)
        {
            stderr.WriteLine($"jpeglm bench jpeg: no PNG files in {kodak}");
            return 1;
        }

        PixelImage[] photos = [.. files.Select(f => PngCodec.Read(File.ReadAllBytes(f)).ToRgb())];
        using TurboJpegLibrary? turbo = TurboJpegLibrary.TryLoad(out string turboInfo);
        stdout.WriteLine($"JPEG benchmark: {photos.Length} photos from {kodak}, {iterations} runs per row, 1 thread, {Environment.ProcessorCount} logical CPUs");
        stdout.WriteLine(turbo != null ? $"reference: libjpeg-turbo via {turboInfo} (tjCompress2/tjDecompress2, accurate DCT; it writes no restart markers)" : $"reference skipped: {turboInfo}");
        stdout.WriteLine();
        stdout.WriteLine($"{"section",-8} {"workload",-44} {"ours MP/s",10} {"turbo MP/s",11} {"ratio",7}");
        foreach (BenchCase c in BuildCases(photos, turbo))
        {
            (double ours, double? reference, double? ratio) = Measure(c, iterations, warmup);
            string refText = reference is double r ? $"{r,11:F1}" : $"{"-",11}";
            string ratioText = ratio is double q ? $"{q,7:F2}" : $"{"-",7}";
            stdout.WriteLine($"{c.Section,-8} {c.Name,-44} {ours,10:F1} {refText} {ratioText}");
        }

        return 0;
    }

    /// <summary>One benchmark row: work that processes <see cref="Pixels"/> pixels per call.</summary>
    internal sealed record BenchCase(string Section, string Name, long Pixels, Action Ours, Action? Reference);

    /// <summary>The rows: encode rows now; decode rows belong beside them.</summary>
    internal static List<BenchCase> BuildCases(PixelImage[] photos, TurboJpegLibrary? turbo)
    {
        PixelImage[] crops = [.. photos.Where(p => p.Width >= 256 && p.Height >= 256).Select(p => ImageResize.Crop(p, (p.Width - 256) / 2, (p.Height - 256) / 2, 256, 256))];
        var paper = new JpegEncoder(JpegEncoderOptions.Paper);
        var q75 = new JpegEncoder(new JpegEncoderOptions { Quality = 75 });
        var q25 = new JpegEncoder(new JpegEncoderOptions { Quality = 25 });
        var sink = new System.Buffers.ArrayBufferWriter<byte>(1 << 20);
        return
        [
            new("encode", "256x256 crops, q25 4:2:0 restart 1 image-only", crops.Sum(c => (long)c.Width * c.Height),
                () => EncodeAll(paper, crops, sink),
                turbo == null ? null : () => TurboAll(turbo, crops, 25)),
            new("encode", "256x256 crops, q25 4:2:0 full, no restart", crops.Sum(c => (long)c.Width * c.Height),
                () => EncodeAll(q25, crops, sink),
                turbo == null ? null : () => TurboAll(turbo, crops, 25)),
            new("encode", "full photos, q75 4:2:0", photos.Sum(c => (long)c.Width * c.Height),
                () => EncodeAll(q75, photos, sink),
                turbo == null ? null : () => TurboAll(turbo, photos, 75)),
            DecodeCase("256x256 crops, q25 4:2:0 restart 1", crops, new JpegEncoderOptions { Quality = 25, RestartInterval = 1 }, turbo),
            DecodeCase("full photos, q75 4:2:0", photos, new JpegEncoderOptions { Quality = 75 }, turbo),
        ];
    }

    /// <summary>A decode row: the photos encoded once (full streams, so libjpeg-turbo can read them too), then decoded.</summary>
    private static BenchCase DecodeCase(string name, PixelImage[] images, JpegEncoderOptions options, TurboJpegLibrary? turbo)
    {
        var encoder = new JpegEncoder(options);
        byte[][] streams = [.. images.Select(encoder.Encode)];
        byte[] scratch = new byte[images.Max(i => i.Width * i.Height * 3)];
        return new("decode", name, images.Sum(c => (long)c.Width * c.Height),
            () =>
            {
                foreach (byte[] s in streams)
                {
                    JpegDecoder.Decode(s);
                }
            },
            turbo == null ? null : () =>
            {
                for (int i = 0; i < streams.Length; i++)
                {
                    turbo.DecompressRgb(streams[i], scratch, images[i].Width, images[i].Height);
                }
            });
    }

    private static void EncodeAll(JpegEncoder encoder, PixelImage[] images, System.Buffers.ArrayBufferWriter<byte> sink)
    {
        foreach (PixelImage image in images)
        {
            sink.ResetWrittenCount();
            encoder.Encode(image.Pixels, image.Width, image.Height, image.Channels, sink);
        }
    }

    private static void TurboAll(TurboJpegLibrary turbo, PixelImage[] images, int quality)
    {
        foreach (PixelImage image in images)
        {
            turbo.CompressRgb420(image.Pixels, image.Width, image.Height, quality);
        }
    }

    /// <summary>
    /// Runs ours and the reference alternately, so both see the same load on a shared machine; returns
    /// the median rates (MP/s) and the median of the per-run ratios.
    /// </summary>
    private static (double Ours, double? Reference, double? Ratio) Measure(BenchCase c, int iterations, double warmupSeconds)
    {
        // Warm up for a while, not a fixed count: tiered JIT promotes hot methods to optimized code
        // only after some calls plus a background delay, and small workloads finish in milliseconds.
        long warmStart = Stopwatch.GetTimestamp();
        do
        {
            c.Ours();
            c.Reference?.Invoke();
        }
        while (Stopwatch.GetElapsedTime(warmStart).TotalSeconds < warmupSeconds);

        var ours = new double[iterations];
        var reference = new double[iterations];
        var ratios = new double[iterations];
        for (int i = 0; i < iterations; i++)
        {
            ours[i] = Rate(c.Ours, c.Pixels);
            if (c.Reference != null)
            {
                reference[i] = Rate(c.Reference, c.Pixels);
                ratios[i] = ours[i] / reference[i];
            }
        }

        return c.Reference == null ? (Median(ours), null, null) : (Median(ours), Median(reference), Median(ratios));
    }

    private static double Rate(Action work, long pixels)
    {
        long start = Stopwatch.GetTimestamp();
        work();
        return pixels / 1e6 / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static double Median(double[] values)
    {
        double[] sorted = [.. values.Order()];
        return sorted[sorted.Length / 2];
    }
}
