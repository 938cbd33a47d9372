using JpegLm.Codec.Imaging;
using JpegLm.Codec.IO;
using JpegLm.Codec.Jpeg;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm encode IN OUT</c>: encodes an image file. The output's extension picks the codec
/// (<c>.jpg</c>/<c>.jpeg</c> → baseline JPEG); each codec reads its own options.
/// </summary>
internal sealed class EncodeCommand : ICliCommand
{
    public string Name => "encode";

    public string Summary => "encode an image as a baseline JPEG, or a Y4M video as H.264";

    public string Usage => """
        jpeglm encode IN.(png|ppm|pgm|jpg) OUT.jpg [options]
          --quality Q            IJG quality 1..100 (default 25, the JPEG-LM paper's)
          --subsampling S        4:2:0 (default for colour), 4:2:2, 4:4:4, 4:4:0, 4:1:1 or gray (default for grey input)
          --restart-interval N   RSTn marker every N MCUs (default 0: none)
          --stream KIND          full (default), image-only (no DQT/DHT) or tables-only
          --optimize             two-pass optimal Huffman tables (full streams only)
          --no-force-baseline    allow 16-bit quantization tables (SOF1) at low quality, like plain cjpeg
        Output is byte-identical to libjpeg-turbo's cjpeg -dct int and to Pillow for the same settings.
        Example: jpeglm encode photo.png photo.jpg --quality 25 --restart-interval 1 --stream image-only

        jpeglm encode IN.y4m OUT.h264 [--qp 37] [--refs 3] [--slice-max-mbs 1] [--keyint 250] [--recon R.y4m]
          H.264 constrained-baseline with the AVC-LM paper's x264 settings (see jpeglm encode-avc --help).
        """;

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var cli = new CliArgs(args, "optimize", "no-force-baseline");
        string input = cli.Positional(0, "input file");
        string output = cli.Positional(1, "output file");
        string extension = Path.GetExtension(output).ToLowerInvariant();
        return extension switch
        {
            ".jpg" or ".jpeg" => EncodeJpeg(cli, input, output, stdout, stderr),
            ".h264" or ".264" => AvcEncodeCommand.Run(args, stdout, stderr),
            _ => throw new UsageException($"cannot tell the codec from the output name '{output}' (expected .jpg/.jpeg, or .h264/.264 for video)"),
        };
    }

    private static int EncodeJpeg(CliArgs cli, string input, string output, TextWriter stdout, TextWriter stderr)
    {
        int quality = cli.Int("quality", 25, 1, 100);
        string? samplingName = cli.String("subsampling");
        JpegSubsampling? sampling = samplingName == null ? null : ParseSubsampling(samplingName);
        int restart = cli.Int("restart-interval", 0, 0, 65535);
        string streamName = cli.String("stream") ?? "full";
        JpegStreamKind kind = streamName switch
        {
            "full" => JpegStreamKind.Full,
            "image-only" => JpegStreamKind.ImageOnly,
            "tables-only" => JpegStreamKind.TablesOnly,
            _ => throw new UsageException($"--stream must be full, image-only or tables-only, got '{streamName}'"),
        };
        bool optimize = cli.Flag("optimize");
        bool forceBaseline = !cli.Flag("no-force-baseline");
        cli.EnsureAllUsed(2);
        if (optimize && kind != JpegStreamKind.Full)
        {
            throw new UsageException("--optimize needs --stream full: a reader of an abbreviated stream could not know the tables");
        }

        PixelImage image;
        try
        {
            image = ImageFile.Load(input);
        }
        catch (Exception e) when (e is ImageFormatException or JpegFormatException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"jpeglm encode: {input}: {e.Message}");
            return 1;
        }

        var options = new JpegEncoderOptions
        {
            Quality = quality,
            Subsampling = sampling ?? (image.Channels == 1 ? JpegSubsampling.Gray : JpegSubsampling.S420),
            RestartInterval = restart,
            StreamKind = kind,
            OptimizeHuffman = optimize,
            ForceBaseline = forceBaseline,
        };
        byte[] jpeg = new JpegEncoder(options).Encode(image);
        AtomicFile.WriteAllBytes(output, jpeg);
        stdout.WriteLine($"{output}: {jpeg.Length} bytes, {image.Width}x{image.Height}, quality {quality}, {SubsamplingName(options.Subsampling)}, restart {restart}, {streamName}{(optimize ? ", optimized tables" : "")}");
        return 0;
    }

    private static JpegSubsampling ParseSubsampling(string name) => name switch
    {
        "4:2:0" or "420" => JpegSubsampling.S420,
        "4:2:2" or "422" => JpegSubsampling.S422,
        "4:4:4" or "444" => JpegSubsampling.S444,
        "4:4:0" or "440" => JpegSubsampling.S440,
        "4:1:1" or "411" => JpegSubsampling.S411,
        "gray" or "grey" => JpegSubsampling.Gray,
        _ => throw new UsageException($"--subsampling must be 4:2:0, 4:2:2, 4:4:4, 4:4:0, 4:1:1 or gray, got '{name}'"),
    };

    private static string SubsamplingName(JpegSubsampling s) => s switch
    {
        JpegSubsampling.Gray => "gray",
        JpegSubsampling.S444 => "4:4:4",
        JpegSubsampling.S422 => "4:2:2",
        JpegSubsampling.S420 => "4:2:0",
        JpegSubsampling.S440 => "4:4:0",
        _ => "4:1:1",
    };
}
