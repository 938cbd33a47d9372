using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm bench jpeg-decode</c>: single-threaded decode speed of <see cref="JpegDecoder"/> against
/// libjpeg-turbo (TurboJPEG, SIMD, accurate integer IDCT) in the same process on the same files:
/// 256x256 Kodak crops at the JPEG-LM paper's setting (q25, 4:2:0, a restart marker every MCU) and the
/// full Kodak photos at q75 4:2:0. The JPEGs are made by libjpeg-turbo itself. Prints medians and ratios.
/// </summary>
internal sealed class BenchJpegDecodeCommand : CliCommand
{
    private readonly Option<string?> _kodak = CliOptions.Text("--kodak", "DIR", "folder of the 24 Kodak PNGs (default: as for bench jpeg)");
    private readonly Option<int> _rounds = CliOptions.Number("--rounds", 7, 1, 1000, "rounds; each decodes every file once with each decoder");
    private readonly Option<double> _minSeconds = CliOptions.Number("--min-seconds", 0.3, 0, 60, "least CPU time per measurement (files are decoded repeatedly until it is reached)", "S");

    public BenchJpegDecodeCommand()
        : base("jpeg-decode", "JPEG decode speed against libjpeg-turbo, in CPU time", """
            The medians over rounds give megapixels per CPU-second of the decoding thread (thread CPU time, so a
            busy shared machine does not skew the ratio) and the ratio ours/turbo, for 256x256 crops at the
            paper's setting and the full photos at q75 4:2:0 (the JPEGs are made by libjpeg-turbo itself).
            """)
    {
        Add(_kodak, _rounds, _minSeconds);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        string? kodak = parsed.GetValue(_kodak) ?? BenchCommand.FindKodak();
        int rounds = parsed.Value(_rounds);
        double minSeconds = parsed.Value(_minSeconds);
        if (kodak == null || !Directory.Exists(kodak))
        {
            stderr.WriteLine($"jpeglm bench jpeg-decode: Kodak folder {kodak ?? "shared/data/kodak"} not found (use --kodak DIR)");
            return 1;
        }

        using TurboJpegLibrary? turbo = TurboJpegLibrary.TryLoad(out string why);
        if (turbo == null)
        {
            stdout.WriteLine($"bench jpeg-decode: skipped: {why}");
            return 0;
        }

        PixelImage[] photos = [.. Directory.GetFiles(kodak, "*.png").Order().Select(f => PngCodec.Read(File.ReadAllBytes(f)).ToRgb())];
        stdout.WriteLine($"bench jpeg-decode: {photos.Length} Kodak photos, {Environment.ProcessorCount} cores visible, one thread, {rounds} rounds, {why}");
        stdout.WriteLine("setting                               files   KB/file  ours MP/s  into MP/s  turbo MP/s  ours/turbo  into/turbo  identical");
        stdout.WriteLine("  (ours: Decode, a new image per call; into: DecodeInto a reused image, as turbo writes into a reused buffer)");

        TurboJpegLibrary.SetRestartInterval(1);
        byte[][] crops = [.. photos.Select(p => turbo.CompressRgb420ToArray(Crop(p, 256, 256), 256, 256, 25))];
        Report("256x256 crops q25 4:2:0 restart 1 MCU", crops, 256, 256, turbo, rounds, minSeconds, stdout);

        TurboJpegLibrary.SetRestartInterval(0);
        byte[][] full = [.. photos.Select(p => turbo.CompressRgb420ToArray(p.Pixels, p.Width, p.Height, 75))];
        Report("full Kodak q75 4:2:0", full, -1, -1, turbo, rounds, minSeconds, stdout);
        return 0;
    }

    private static void Report(string setting, byte[][] files, int width, int height, TurboJpegLibrary turbo, int rounds, double minSeconds, TextWriter stdout)
    {
        JpegDecodeResult[] ours = [.. files.Select(f => JpegDecoder.DecodeDetailed(f))];
        long pixels = ours.Sum(r => (long)r.Image.Width * r.Image.Height);
        byte[][] turboOut = [.. ours.Select(r => new byte[r.Image.Pixels.Length])];
        bool identical = true;
        for (int i = 0; i < files.Length; i++)
        {
            turbo.DecompressRgb(files[i], turboOut[i], ours[i].Image.Width, ours[i].Image.Height);
            identical &= turboOut[i].AsSpan().SequenceEqual(ours[i].Image.Pixels);
        }

        if (width > 0 && ours.Any(r => r.Image.Width != width || r.Image.Height != height || r.Frame.RestartInterval != 1))
        {
            throw new InvalidOperationException("benchmark inputs are not the intended 256x256 restart-1 files");
        }

        // Ours allocating, turbo, and ours into reused images (as TurboJPEG decodes into its reused buffers),
        // interleaved in every round so that all three see the same load on a shared machine.
        PixelImage[] reused = [.. ours.Select(r => new PixelImage(r.Image.Width, r.Image.Height, r.Image.Channels))];
        var ourRates = new List<double>();
        var turboRates = new List<double>();
        var intoRates = new List<double>();
        for (int r = 0; r < rounds; r++)
        {
            ourRates.Add(Rate(() =>
            {
                foreach (byte[] f in files)
                {
                    JpegDecoder.Decode(f);
                }
            }, pixels, minSeconds));
            turboRates.Add(Rate(() =>
            {
                for (int i = 0; i < files.Length; i++)
                {
                    turbo.DecompressRgb(files[i], turboOut[i], ours[i].Image.Width, ours[i].Image.Height);
                }
            }, pixels, minSeconds));
            intoRates.Add(Rate(() =>
            {
                for (int i = 0; i < files.Length; i++)
                {
                    JpegDecoder.DecodeInto(files[i], reused[i]);
                }
            }, pixels, minSeconds));
        }

        identical &= reused.Select((img, i) => img.Pixels.AsSpan().SequenceEqual(turboOut[i])).All(x => x);
        double o = Median(ourRates), t = Median(turboRates), into = Median(intoRates);
        double kb = files.Average(f => f.Length) / 1024.0;
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{setting,-37} {files.Length,5} {kb,9:F1} {o,10:F1} {into,10:F1} {t,11:F1} {o / t,11:F3} {into / t,11:F3}  {(identical ? "yes" : "NO")}"));
    }

    /// <summary>
    /// Megapixels per second of <paramref name="decodeAll"/>, repeated until at least <paramref name="minSeconds"/>
    /// have passed. Time is this thread's CPU time where the OS offers it (a shared, overloaded machine then
    /// slows neither side's figure), wall time otherwise.
    /// </summary>
    private static double Rate(Action decodeAll, long pixels, double minSeconds)
    {
        var watch = Stopwatch.StartNew();
        double cpu0 = ThreadCpuSeconds();
        int n = 0;
        do
        {
            decodeAll();
            n++;
        }
        while (watch.Elapsed.TotalSeconds < minSeconds);
        double cpu = ThreadCpuSeconds() - cpu0;
        double seconds = cpu > 0 ? cpu : watch.Elapsed.TotalSeconds;
        return pixels * n / seconds / 1e6;
    }

    private static unsafe double ThreadCpuSeconds()
    {
        if (!OperatingSystem.IsLinux())
        {
            return 0;
        }

        long* ts = stackalloc long[2];
        return ClockGetTime(3 /* CLOCK_THREAD_CPUTIME_ID */, ts) == 0 ? ts[0] + (ts[1] / 1e9) : 0;
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "clock_gettime")]
#pragma warning disable CA5392 // libc is a system library.
    private static extern unsafe int ClockGetTime(int clock, long* timespec);
#pragma warning restore CA5392

    private static double Median(List<double> values)
    {
        values.Sort();
        return values.Count % 2 == 1 ? values[values.Count / 2] : (values[(values.Count / 2) - 1] + values[values.Count / 2]) / 2;
    }

    private static byte[] Crop(PixelImage image, int width, int height)
    {
        int x0 = (image.Width - width) / 2, y0 = (image.Height - height) / 2;
        byte[] rgb = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            image.Pixels.AsSpan((((y0 + y) * image.Width) + x0) * 3, width * 3).CopyTo(rgb.AsSpan(y * width * 3));
        }

        return rgb;
    }

}
