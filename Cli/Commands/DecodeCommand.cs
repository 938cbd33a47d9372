using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm decode IN OUT</c>: decodes a compressed file to pixels. The input kind is chosen by the
/// input's extension (falling back to its first bytes): JPEG, or H.264 elementary streams
/// (.264/.h264/.jsv/.26l). The output format follows OUT's extension.
/// </summary>
internal sealed class DecodeCommand : ICliCommand
{
    private static readonly string[] JpegExtensions = [".jpg", ".jpeg", ".jpe", ".jfif", ".mjpg"];
    private static readonly string[] AvcExtensions = [".264", ".h264", ".jsv", ".26l"];

    public string Name => "decode";

    public string Summary => "decode a JPEG to PNG/PPM/PGM, or an H.264 stream to YUV/Y4M";

    public string Usage => """
        jpeglm decode IN.jpg OUT.(png|ppm|pgm) [--tables TABLES.jpg] [--tolerant] [--max-pixels N]
          Decodes baseline or progressive Huffman JPEG with pixels identical to `djpeg -dct int`.
          --tables FILE    DQT/DHT for an image-only (Motion-JPEG style) stream: a tables-only stream or any JPEG
          --tolerant       paint corrupt restart intervals grey, list them on stderr, and still write the image
          --max-pixels N   refuse frames larger than N pixels (default 100000000)
        jpeglm decode IN.(264|h264|jsv|26l) OUT.(yuv|y4m) [--tolerant]
          Decodes an H.264 baseline Annex B stream (see jpeglm decode-avc): frames in output order, cropped,
          raw yuv420p or Y4M; --tolerant conceals broken slices and lists them.
        Exit codes: 0 decoded, 1 bad input (the message names the byte offset / frame / macroblock), 2 usage.
        """;

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(args);

        // H.264 elementary streams go to the AVC decoder with their own options.
        string? first = args.FirstOrDefault(x => !x.StartsWith("--", StringComparison.Ordinal));
        if (first != null && AvcExtensions.Contains(Path.GetExtension(first).ToLowerInvariant()))
        {
            return new AvcDecodeCommand().Run(args, stdout, stderr);
        }

        var a = new CliArgs(args, "tolerant");
        string input = a.Positional(0, "input file");
        string output = a.Positional(1, "output file");
        string? tables = a.String("tables");
        bool tolerant = a.Flag("tolerant");
        long maxPixels = a.Long("max-pixels", JpegDecoderOptions.DefaultMaxPixels, 1);
        a.EnsureAllUsed(2);

        OutputFormat format = Path.GetExtension(output).ToLowerInvariant() switch
        {
            ".png" => OutputFormat.Png,
            ".ppm" => OutputFormat.Ppm,
            ".pgm" => OutputFormat.Pgm,
            string e => throw new UsageException($"output '{output}': unknown extension '{e}' (use .png, .ppm or .pgm)"),
        };

        byte[] data;
        try
        {
            data = File.ReadAllBytes(input);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"jpeglm decode: cannot read {input}: {e.Message}");
            return 1;
        }

        string ext = Path.GetExtension(input).ToLowerInvariant();
        if (!JpegExtensions.Contains(ext) && !(data.Length >= 2 && data[0] == 0xFF && data[1] == 0xD8))
        {
            throw new UsageException($"{input}: unknown input kind '{ext}' (expected a JPEG: {string.Join(", ", JpegExtensions)})");
        }

        return DecodeJpeg(input, data, output, format, tables, tolerant, maxPixels, stdout, stderr);
    }

    private static int DecodeJpeg(string input, byte[] data, string output, OutputFormat format, string? tablesPath, bool tolerant, long maxPixels, TextWriter stdout, TextWriter stderr)
    {
        byte[] tables = [];
        if (tablesPath != null)
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

        JpegDecodeResult result;
        try
        {
            result = JpegDecoder.DecodeDetailed(data, new JpegDecoderOptions { Tables = tables, Tolerant = tolerant, MaxPixels = maxPixels });
        }
        catch (JpegFormatException e)
        {
            stderr.WriteLine($"jpeglm decode: {input}: {e.Message}");
            return 1;
        }

        foreach (JpegCorruptInterval c in result.CorruptIntervals)
        {
            stderr.WriteLine($"jpeglm decode: {input}: scan {c.Scan}, MCUs {c.FirstMcu}..{c.FirstMcu + c.McuCount - 1} painted grey (byte {c.ByteOffset}): {c.Reason}");
        }

        PixelImage image = result.Image;
        byte[] encoded = format switch
        {
            OutputFormat.Png => PngCodec.Write(image),
            OutputFormat.Ppm => PnmCodec.Write(image.ToRgb()),
            _ => PnmCodec.Write(image.ToGray()),
        };

        string temp = output + $".tmp-{Environment.ProcessId}";
        File.WriteAllBytes(temp, encoded);
        File.Move(temp, output, overwrite: true);
        JpegFrameInfo f = result.Frame;
        stdout.WriteLine($"{input}: {f.Width}x{f.Height} {f.ColorSpace} {(f.Progressive ? "progressive" : "sequential")}, {f.ScanCount} scan(s) -> {output}");
        return 0;
    }

    private enum OutputFormat
    {
        Png,
        Ppm,
        Pgm,
    }
}
