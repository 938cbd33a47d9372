using System.CommandLine;
using JpegLm.Codec.Avc.Encoder;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.IO;
using JpegLm.Codec.Jpeg;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm encode IN OUT</c>: a still image (PNG, PPM/PGM or JPEG, recognised by content) to a baseline JPEG,
/// or a Y4M video to H.264 constrained baseline with the AVC-LM paper's settings. OUT's extension picks the
/// codec (<see cref="MediaKind.FromExtension"/>); each codec's options are refused for the other.
/// </summary>
internal sealed class EncodeCommand : CliCommand
{
    private static readonly AvcEncoderOptions AvcDefaults = new();

    private readonly Argument<string> _input = CliOptions.Path("IN", "the image (PNG, PPM, PGM or JPEG) or Y4M video, recognised by content");
    private readonly Argument<string> _output = CliOptions.Path("OUT", "the output: .jpg/.jpeg writes a JPEG, .h264/.264 an H.264 stream");

    // JPEG
    private readonly Option<int> _quality = CliOptions.Number("--quality", JpegEncoderOptions.Paper.Quality, 1, 100, "JPEG: IJG quality (the default is the JPEG-LM paper's)", "Q");
    private readonly Option<string?> _subsampling = Subsampling();
    private readonly Option<int> _restartInterval = CliOptions.Number("--restart-interval", 0, 0, 65535, "JPEG: an RSTn marker every N MCUs (0: none)");
    private readonly Option<string> _stream = CliOptions.Choice("--stream", "full", "JPEG: the whole file, no DQT/DHT (Motion-JPEG style), or the tables alone", "full", "image-only", "tables-only");
    private readonly Option<bool> _optimize = CliOptions.Flag("--optimize", "JPEG: two-pass optimal Huffman tables (full streams only)");
    private readonly Option<bool> _noForceBaseline = CliOptions.Flag("--no-force-baseline", "JPEG: allow 16-bit quantization tables (SOF1) at low quality, like plain cjpeg");

    // H.264
    private readonly Option<int> _qp = CliOptions.Number("--qp", AvcDefaults.Qp, 0, 51, "H.264: quantization parameter of P slices", "QP");
    private readonly Option<int> _ipOffset = CliOptions.Number("--ipoffset", AvcDefaults.IntraQpOffset, -51, 51, "H.264: how much lower the QP of I slices is");
    private readonly Option<int> _refs = CliOptions.Number("--refs", AvcDefaults.Refs, 1, 16, "H.264: reference frames");
    private readonly Option<int> _sliceMaxMbs = CliOptions.Number("--slice-max-mbs", AvcDefaults.SliceMaxMbs, 0, 1 << 20, "H.264: macroblocks per slice (0: one slice per picture)");
    private readonly Option<int> _keyint = CliOptions.Number("--keyint", AvcDefaults.Keyint, 1, 1 << 20, "H.264: an IDR picture every N frames");
    private readonly Option<int> _range = CliOptions.Number("--range", AvcDefaults.SearchRange, 1, 64, "H.264: motion search range in pixels");
    private readonly Option<bool> _qpel = CliOptions.Flag("--qpel", "H.264: quarter-pel motion vectors");
    private readonly Option<bool> _partitions = CliOptions.Flag("--partitions", "H.264: 16x8, 8x16 and 8x8 inter partitions");
    private readonly Option<bool> _i4x4InP = CliOptions.Flag("--i4x4-in-p", "H.264: allow Intra 4x4 macroblocks in P slices");
    private readonly Option<bool> _noDeblock = CliOptions.Flag("--no-deblock", "H.264: turn the deblocking filter off");
    private readonly Option<string?> _recon = CliOptions.Text("--recon", "R.y4m", "H.264: also write the encoder's reconstruction as Y4M");

    public EncodeCommand()
        : base("encode", "encode an image as a baseline JPEG, or a Y4M video as H.264", """
            JPEG output is byte-identical to libjpeg-turbo's cjpeg -dct int (and Pillow) for the same settings.
            H.264 output is constrained baseline with CAVLC; the defaults are the AVC-LM paper's x264 settings.

            Examples:
              jpeglm encode photo.png photo.jpg --quality 25 --restart-interval 1 --stream image-only
              jpeglm encode clip.y4m clip.h264 --recon clip-recon.y4m
              jpeglm encode clip.y4m clip.h264 --slice-max-mbs 0 --qpel --partitions --qp 28
            """)
    {
        Add(_input, _output, _quality, _subsampling, _restartInterval, _stream, _optimize, _noForceBaseline,
            _qp, _ipOffset, _refs, _sliceMaxMbs, _keyint, _range, _qpel, _partitions, _i4x4InP, _noDeblock, _recon);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        string input = parsed.Value(_input), output = parsed.Value(_output);
        MediaKind? kind = MediaKind.FromExtension(output);
        if (kind != MediaKind.Jpeg && kind != MediaKind.H264)
        {
            throw new UsageException($"cannot tell the codec from the output name '{output}' (expected {Names(MediaKind.Jpeg)}, or {Names(MediaKind.H264)} for video)");
        }

        bool video = kind == MediaKind.H264;
        Option[] others = video
            ? [_quality, _subsampling, _restartInterval, _stream, _optimize, _noForceBaseline]
            : [_qp, _ipOffset, _refs, _sliceMaxMbs, _keyint, _range, _qpel, _partitions, _i4x4InP, _noDeblock, _recon];
        if (others.FirstOrDefault(parsed.IsGiven) is Option misplaced)
        {
            throw new UsageException($"{misplaced.Name} applies to {(video ? "JPEG" : "H.264")} output, not to {kind!.Name}");
        }

        if (!video && parsed.Value(_optimize) && parsed.Value(_stream) != "full")
        {
            throw new UsageException("--optimize needs --stream full: a reader of an abbreviated stream could not know the tables");
        }

        MediaKind? inputKind;
        try
        {
            inputKind = MediaKind.Detect(input);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"jpeglm encode: {input}: {e.Message}");
            return 1;
        }

        if (inputKind != null && inputKind.IsVideo != video)
        {
            throw new UsageException($"{input} is {(inputKind.IsVideo ? "a video" : "an image")} ({inputKind.Name}): encode it to {(inputKind.IsVideo ? Names(MediaKind.H264) : Names(MediaKind.Jpeg))}");
        }

        return video ? EncodeAvc(parsed, input, output, stdout, stderr) : EncodeJpeg(parsed, input, output, stdout, stderr);
    }

    private int EncodeJpeg(ParseResult parsed, string input, string output, TextWriter stdout, TextWriter stderr)
    {
        int quality = parsed.Value(_quality);
        int restart = parsed.Value(_restartInterval);
        string streamName = parsed.Value(_stream);
        JpegStreamKind kind = streamName switch
        {
            "image-only" => JpegStreamKind.ImageOnly,
            "tables-only" => JpegStreamKind.TablesOnly,
            _ => JpegStreamKind.Full,
        };
        bool optimize = parsed.Value(_optimize);
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
            Subsampling = parsed.GetValue(_subsampling) is string s ? ParseSubsampling(s) : image.Channels == 1 ? JpegSubsampling.Gray : JpegSubsampling.S420,
            RestartInterval = restart,
            StreamKind = kind,
            OptimizeHuffman = optimize,
            ForceBaseline = !parsed.Value(_noForceBaseline),
        };
        byte[] jpeg = new JpegEncoder(options).Encode(image);
        AtomicFile.WriteAllBytes(output, jpeg);
        stdout.WriteLine($"{output}: {jpeg.Length} bytes, {image.Width}x{image.Height}, quality {quality}, {SubsamplingName(options.Subsampling)}, restart {restart}, {streamName}{(optimize ? ", optimized tables" : "")}");
        return 0;
    }

    private int EncodeAvc(ParseResult parsed, string input, string output, TextWriter stdout, TextWriter stderr)
    {
        var options = new AvcEncoderOptions
        {
            Qp = parsed.Value(_qp),
            IntraQpOffset = parsed.Value(_ipOffset),
            Refs = parsed.Value(_refs),
            SliceMaxMbs = parsed.Value(_sliceMaxMbs),
            Keyint = parsed.Value(_keyint),
            SearchRange = parsed.Value(_range),
            QuarterPel = parsed.Value(_qpel),
            InterPartitions = parsed.Value(_partitions),
            Intra4x4InP = parsed.Value(_i4x4InP),
            DisableDeblocking = parsed.Value(_noDeblock),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }

        string? recon = parsed.GetValue(_recon);
        try
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            List<Yuv420Frame> frames = [];
            Y4mHeader header = null!;
            AtomicFile.Write(output, stream =>
            {
                using var reader = new Y4mReader(File.OpenRead(input));
                header = reader.Header;
                frames = AvcEncoder.EncodeY4m(reader, stream, options);
            });
            watch.Stop();
            if (recon != null)
            {
                AtomicFile.Write(recon, r =>
                {
                    Y4mReader.WriteHeader(r, header with { Width = frames.Count > 0 ? frames[0].Width : header.Width, Height = frames.Count > 0 ? frames[0].Height : header.Height });
                    foreach (Yuv420Frame f in frames)
                    {
                        Y4mReader.WriteFrame(r, f);
                    }
                });
            }

            long bytes = new FileInfo(output).Length;
            stdout.WriteLine($"{input}: {frames.Count} frames, {bytes} bytes -> {output} ({frames.Count / Math.Max(watch.Elapsed.TotalSeconds, 1e-9):F1} frames/s)");
            return 0;
        }
        catch (Exception e) when (e is ImageFormatException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            stderr.WriteLine($"jpeglm encode: {input}: {e.Message}");
            return 1;
        }
    }

    private static string Names(MediaKind kind) => string.Join('/', kind.Extensions.Take(2));

    private static Option<string?> Subsampling()
    {
        Option<string?> option = CliOptions.Text("--subsampling", "S", "JPEG: 4:2:0, 4:2:2, 4:4:4, 4:4:0, 4:1:1 or gray (default: 4:2:0 for colour input, gray for grey)");
        option.AcceptOnlyFromAmong("4:2:0", "4:2:2", "4:4:4", "4:4:0", "4:1:1", "gray", "420", "422", "444", "440", "411", "grey");
        return option;
    }

    private static JpegSubsampling ParseSubsampling(string name) => name switch
    {
        "4:2:0" or "420" => JpegSubsampling.S420,
        "4:2:2" or "422" => JpegSubsampling.S422,
        "4:4:4" or "444" => JpegSubsampling.S444,
        "4:4:0" or "440" => JpegSubsampling.S440,
        "4:1:1" or "411" => JpegSubsampling.S411,
        _ => JpegSubsampling.Gray,
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
