using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using JpegLm.Codec.Avc;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.IO;
using JpegLm.Codec.Jpeg;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm decode IN OUT</c>: a JPEG to PNG/PPM/PGM, or an H.264 Annex B stream to raw yuv420p or Y4M. The
/// input's kind is recognised by its content, falling back to its extension (<see cref="MediaKind.Detect(string)"/>);
/// the output format follows OUT's extension.
/// </summary>
internal sealed class DecodeCommand : CliCommand
{
    private readonly Argument<string> _input = CliOptions.Path("IN", "a JPEG or an H.264 Annex B stream, recognised by content (any name)");
    private readonly Argument<string> _output = CliOptions.Path("OUT", "JPEG input: .png, .ppm or .pgm; H.264 input: .yuv (raw yuv420p) or .y4m");
    private readonly Option<bool> _tolerant = CliOptions.Flag("--tolerant", "keep going past damage: JPEG restart intervals painted grey, H.264 slices concealed; each is listed on stderr");
    private readonly Option<bool> _time = CliOptions.Flag("--time", "also print the wall-clock, CPU and user CPU time of the decode");
    private readonly Option<string?> _tables = CliOptions.Text("--tables", "FILE", "JPEG: DQT/DHT for an image-only (Motion-JPEG style) stream: a tables-only stream or any JPEG");
    private readonly Option<long> _maxPixels = CliOptions.Number("--max-pixels", JpegDecoderOptions.DefaultMaxPixels, 1, long.MaxValue, "JPEG: refuse frames larger than N pixels");

    public DecodeCommand()
        : base("decode", "decode a JPEG to PNG/PPM/PGM, or an H.264 stream to YUV/Y4M", """
            JPEG: baseline or progressive Huffman, pixels identical to djpeg -dct int.
            H.264: baseline, frames in output order, cropped; Y4M output has a C420jpeg 25 fps header.
            Exit codes: 0 decoded, 1 bad input (the message names the byte offset / frame / macroblock), 2 usage.

            Examples:
              jpeglm decode photo.jpg photo.png
              jpeglm decode body.jpg out.ppm --tables tables.jpg --tolerant
              jpeglm decode clip.h264 clip.y4m
            """)
    {
        Add(_input, _output, _tolerant, _time, _tables, _maxPixels);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        string input = parsed.Value(_input), output = parsed.Value(_output);
        MediaKind? kind;
        try
        {
            kind = MediaKind.Detect(input);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"jpeglm decode: cannot read {input}: {e.Message}");
            return 1;
        }

        MediaKind? outKind = MediaKind.FromExtension(output);
        if (kind == MediaKind.H264)
        {
            if (outKind != MediaKind.Yuv && outKind != MediaKind.Y4m)
            {
                throw new UsageException($"output '{output}': an H.264 stream decodes to .yuv or .y4m");
            }

            if (parsed.IsGiven(_tables) || parsed.IsGiven(_maxPixels))
            {
                throw new UsageException("--tables and --max-pixels apply to JPEG input only");
            }

            return DecodeAvc(input, output, outKind == MediaKind.Y4m, parsed.Value(_tolerant), parsed.Value(_time), stdout, stderr);
        }

        if (kind != MediaKind.Jpeg)
        {
            throw new UsageException($"{input}: {(kind == null ? "unknown input kind" : $"a {kind.Name} file")}; decode reads JPEG ({string.Join(", ", MediaKind.Jpeg.Extensions)}) or H.264 ({string.Join(", ", MediaKind.H264.Extensions)})");
        }

        if (outKind != MediaKind.Png && outKind != MediaKind.Ppm && outKind != MediaKind.Pgm)
        {
            throw new UsageException($"output '{output}': unknown extension '{Path.GetExtension(output)}' (use .png, .ppm or .pgm)");
        }

        return DecodeJpeg(parsed, input, output, stdout, stderr);
    }

    private int DecodeJpeg(ParseResult parsed, string input, string output, TextWriter stdout, TextWriter stderr)
    {
        byte[] data = File.ReadAllBytes(input);
        byte[] tables = [];
        if (parsed.GetValue(_tables) is string tablesPath)
        {
            try
            {
                tables = File.ReadAllBytes(tablesPath);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"jpeglm decode: cannot read tables {tablesPath}: {e.Message}");
                return 1;
            }
        }

        var clock = Clock.Start();
        JpegDecodeResult result;
        try
        {
            result = JpegDecoder.DecodeDetailed(data, new JpegDecoderOptions { Tables = tables, Tolerant = parsed.Value(_tolerant), MaxPixels = parsed.Value(_maxPixels) });
        }
        catch (JpegFormatException e)
        {
            stderr.WriteLine($"jpeglm decode: {input}: {e.Message}");
            return 1;
        }

        string timing = clock.Report();
        foreach (JpegCorruptInterval c in result.CorruptIntervals)
        {
            stderr.WriteLine($"jpeglm decode: {input}: scan {c.Scan}, MCUs {c.FirstMcu}..{c.FirstMcu + c.McuCount - 1} painted grey (byte {c.ByteOffset}): {c.Reason}");
        }

        AtomicFile.WriteAllBytes(output, ImageFile.EncodeFor(output, result.Image));
        JpegFrameInfo f = result.Frame;
        stdout.WriteLine($"{input}: {f.Width}x{f.Height} {f.ColorSpace} {(f.Progressive ? "progressive" : "sequential")}, {f.ScanCount} scan(s) -> {output}{(parsed.Value(_time) ? timing : "")}");
        return 0;
    }

    private static int DecodeAvc(string input, string output, bool y4m, bool tolerant, bool time, TextWriter stdout, TextWriter stderr)
    {
        int frames = 0;
        var clock = Clock.Start();
        var decoder = new AvcDecoder(new AvcDecoderOptions { Tolerant = tolerant, ReuseOutputFrame = true });
        try
        {
            AtomicFile.Write(output, outStream =>
            {
                using FileStream inStream = File.OpenRead(input);
                foreach (Yuv420Frame frame in decoder.Decode(inStream))
                {
                    if (y4m)
                    {
                        if (frames == 0)
                        {
                            Y4mReader.WriteHeader(outStream, new Y4mHeader(frame.Width, frame.Height, 25, 1));
                        }

                        outStream.Write("FRAME\n"u8);
                    }

                    frame.WriteRaw(outStream);
                    frames++;
                }
            });
        }
        catch (AvcFormatException e)
        {
            stderr.WriteLine($"jpeglm decode: {input}: {e.Message}");
            return 1;
        }

        foreach (AvcSliceError e in decoder.Errors)
        {
            stderr.WriteLine($"jpeglm decode: concealed slice {e.Slice} (frame {e.Frame}, first macroblock {e.FirstMb}, byte offset {e.ByteOffset}): {e.Reason}");
        }

        stdout.WriteLine($"{input}: {frames} frames -> {output}{(time ? clock.Report() : "")}");
        return 0;
    }

    /// <summary>
    /// Wall-clock, process CPU (user + system) and user CPU time since the start, for <c>--time</c>. The user
    /// figure is the one to set beside <c>ffmpeg -benchmark</c>'s utime: both are taken inside the process
    /// around the decoding (start-up excluded on both sides), and system time mostly measures the output file.
    /// </summary>
    private readonly record struct Clock(long Began, TimeSpan Cpu, TimeSpan User)
    {
        public static Clock Start()
        {
            using var self = Process.GetCurrentProcess();
            return new(Stopwatch.GetTimestamp(), self.TotalProcessorTime, self.UserProcessorTime);
        }

        public string Report()
        {
            using var self = Process.GetCurrentProcess();
            return string.Create(CultureInfo.InvariantCulture,
                $" (decode {Stopwatch.GetElapsedTime(Began).TotalSeconds:F3} s, cpu {(self.TotalProcessorTime - Cpu).TotalSeconds:F3} s, user {(self.UserProcessorTime - User).TotalSeconds:F3} s)");
        }
    }
}
