using System.Buffers;
using JpegLm.Codec.Imaging;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// Baseline sequential Huffman JPEG encoder (ITU-T T.81), byte-identical to libjpeg-turbo's
/// <c>cjpeg -dct int</c> and to Pillow ≥ 10.2 for the same settings: IJG quality scaling, JFIF APP0,
/// 16-bit fixed-point colour conversion, libjpeg's edge padding and chroma downsampling, the accurate
/// integer DCT, Annex K or optimized Huffman tables, restart markers, full / tables-only / image-only
/// streams. An instance keeps its tables and working buffers: reuse it for many images (it is not
/// thread-safe; use one per thread).
/// </summary>
/// <example>
/// <code>
/// var encoder = new JpegEncoder(JpegEncoderOptions.Paper);
/// byte[] jpeg = encoder.Encode(image);
/// </code>
/// </example>
public sealed class JpegEncoder
{
    private readonly ushort[] _lumaTable = new ushort[64];
    private readonly ushort[] _chromaTable = new ushort[64];
    private readonly HuffmanTableSpec[] _standardSpecs;
    private readonly HuffmanCodeTable[] _standardCodes;
    private readonly JpegOutputBuffer _output = new();
    private readonly JpegScanEncoder _scan;
    private readonly long[][] _frequencies = [new long[257], new long[257], new long[257], new long[257]];

    /// <summary>Creates an encoder for the given settings.</summary>
    /// <exception cref="ArgumentException">The options are out of range or inconsistent.</exception>
    public JpegEncoder(JpegEncoderOptions options)
        : this(options, vectorize: true)
    {
    }

    /// <summary>Creates an encoder; <paramref name="vectorize"/> = false uses only the scalar reference code (tests).</summary>
    internal JpegEncoder(JpegEncoderOptions options, bool vectorize)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        ScaleTable(JpegTables.LuminanceQuantBase, options, _lumaTable);
        ScaleTable(JpegTables.ChrominanceQuantBase, options, _chromaTable);
        _standardSpecs = [HuffmanTableSpec.Standard(false, 0), HuffmanTableSpec.Standard(true, 0), HuffmanTableSpec.Standard(false, 1), HuffmanTableSpec.Standard(true, 1)];
        _standardCodes = [.. _standardSpecs.Select(HuffmanCodeTable.Create)];
        _scan = new JpegScanEncoder(new JpegQuantizer(_lumaTable), new JpegQuantizer(_chromaTable), _output, vectorize);
    }

    /// <summary>The settings this encoder was created with.</summary>
    public JpegEncoderOptions Options { get; }

    /// <summary>The luminance quantization table (natural order) in use.</summary>
    public ReadOnlySpan<ushort> LuminanceQuantTable => _lumaTable;

    /// <summary>The chrominance quantization table (natural order) in use.</summary>
    public ReadOnlySpan<ushort> ChrominanceQuantTable => _chromaTable;

    /// <summary>Encodes an image with the given settings (convenience for one-off use).</summary>
    public static byte[] Encode(PixelImage image, JpegEncoderOptions options) => new JpegEncoder(options).Encode(image);

    /// <summary>Encodes an image and returns the stream's bytes.</summary>
    public byte[] Encode(PixelImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        return EncodeCore(image.Pixels, image.Width, image.Height, image.Channels).ToArray();
    }

    /// <summary>Encodes an image onto a stream.</summary>
    public void Encode(PixelImage image, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(destination);
        destination.Write(EncodeCore(image.Pixels, image.Width, image.Height, image.Channels));
    }

    /// <summary>
    /// Encodes interleaved 8-bit samples (<paramref name="channels"/> = 1 grey or 3 RGB, rows without
    /// padding) into <paramref name="destination"/>; the allocation-free path for bulk encoding.
    /// </summary>
    /// <returns>The number of bytes written.</returns>
    public int Encode(ReadOnlySpan<byte> pixels, int width, int height, int channels, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ReadOnlySpan<byte> bytes = EncodeCore(pixels, width, height, channels);
        bytes.CopyTo(destination.GetSpan(bytes.Length));
        destination.Advance(bytes.Length);
        return bytes.Length;
    }

    /// <summary>
    /// The constant bytes that precede the entropy-coded data in every stream this encoder writes for
    /// a <paramref name="width"/> x <paramref name="height"/> image, through the SOS segment. For
    /// image-only streams this is SOI, APP0, SOF0, [DRI], SOS: what a tokenizer strips and restores.
    /// </summary>
    /// <exception cref="InvalidOperationException">Optimized tables (the header would depend on the image) or a tables-only stream.</exception>
    public byte[] WriteHeader(int width, int height)
    {
        if (Options.OptimizeHuffman || Options.StreamKind == JpegStreamKind.TablesOnly)
        {
            throw new InvalidOperationException("the header is constant only for fixed Huffman tables and streams that carry an image");
        }

        CheckSize(width, height);
        _output.Length = 0;
        WriteHeaders(new JpegFrameLayout(width, height, Options.Subsampling), _standardSpecs);
        return _output.Written.ToArray();
    }

    /// <summary>Header bytes of an image-only or full stream for the given settings; see <see cref="WriteHeader(int, int)"/>.</summary>
    public static byte[] WriteHeader(int width, int height, JpegEncoderOptions options) => new JpegEncoder(options).WriteHeader(width, height);

    /// <summary>
    /// The abbreviated table-specification stream (SOI, DQT 0 and 1, DHT DC0, AC0, DC1, AC1, EOI) that
    /// goes with image-only streams of these settings: libjpeg's <c>jpeg_write_tables</c>.
    /// </summary>
    public byte[] EncodeTables()
    {
        _output.Length = 0;
        WriteTablesOnly();
        return _output.Written.ToArray();
    }

    private ReadOnlySpan<byte> EncodeCore(ReadOnlySpan<byte> pixels, int width, int height, int channels)
    {
        CheckSize(width, height);
        if (channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "channels must be 1 (grey) or 3 (RGB)");
        }

        if (pixels.Length < (long)width * height * channels)
        {
            throw new ArgumentException($"expected {(long)width * height * channels} samples for {width}x{height}x{channels}, got {pixels.Length}", nameof(pixels));
        }

        _output.Length = 0;
        if (Options.StreamKind == JpegStreamKind.TablesOnly)
        {
            WriteTablesOnly();
            return _output.Written;
        }

        var layout = new JpegFrameLayout(width, height, Options.Subsampling);
        if (Options.OptimizeHuffman)
        {
            _scan.TransformAll(pixels, channels, layout);
            foreach (long[] f in _frequencies)
            {
                Array.Clear(f);
            }

            _scan.CountSymbols(layout, Options.RestartInterval, _frequencies);
            HuffmanTableSpec[] specs = new HuffmanTableSpec[4];
            HuffmanCodeTable[] codes = new HuffmanCodeTable[4];
            for (int i = 0; i < (layout.ComponentCount == 3 ? 4 : 2); i++)
            {
                specs[i] = HuffmanTableOptimizer.Build(_frequencies[i]);
                codes[i] = HuffmanCodeTable.Create(specs[i]);
            }

            WriteHeaders(layout, specs);
            _scan.EncodeStored(layout, Options.RestartInterval, codes);
        }
        else
        {
            WriteHeaders(layout, _standardSpecs);
            _scan.EncodeDirect(pixels, channels, layout, Options.RestartInterval, _standardCodes);
        }

        _output.WriteMarker(JpegMarkers.Eoi);
        return _output.Written;
    }

    private static void CheckSize(int width, int height)
    {
        if (width is < 1 or > 65535 || height is < 1 or > 65535)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height} is outside 1..65535 (T.81 B.2.2)");
        }
    }

    /// <summary>SOI, APP0, [DQT…], SOF, [DHT…], [DRI], SOS — libjpeg's order; tables omitted for image-only streams.</summary>
    private void WriteHeaders(JpegFrameLayout layout, HuffmanTableSpec[] huffman)
    {
        bool tables = Options.StreamKind == JpegStreamKind.Full;
        _output.WriteMarker(JpegMarkers.Soi);
        JpegMarkerWriter.WriteJfif(_output);
        bool color = layout.ComponentCount == 3;
        if (tables)
        {
            JpegMarkerWriter.WriteQuantTable(_output, 0, _lumaTable);
            if (color)
            {
                JpegMarkerWriter.WriteQuantTable(_output, 1, _chromaTable);
            }
        }

        bool extended = JpegMarkerWriter.IsWide(_lumaTable) || (color && JpegMarkerWriter.IsWide(_chromaTable));
        JpegMarkerWriter.WriteFrameHeader(_output, layout, extended);
        if (tables)
        {
            for (int slot = 0; slot < (color ? 2 : 1); slot++)
            {
                JpegMarkerWriter.WriteHuffmanTable(_output, false, slot, huffman[2 * slot]);
                JpegMarkerWriter.WriteHuffmanTable(_output, true, slot, huffman[(2 * slot) + 1]);
            }
        }

        if (Options.RestartInterval > 0)
        {
            JpegMarkerWriter.WriteRestartInterval(_output, Options.RestartInterval);
        }

        JpegMarkerWriter.WriteScanHeader(_output, layout.ComponentCount);
    }

    private void WriteTablesOnly()
    {
        _output.WriteMarker(JpegMarkers.Soi);
        JpegMarkerWriter.WriteQuantTable(_output, 0, _lumaTable);
        JpegMarkerWriter.WriteQuantTable(_output, 1, _chromaTable);
        for (int slot = 0; slot < 2; slot++)
        {
            JpegMarkerWriter.WriteHuffmanTable(_output, false, slot, _standardSpecs[2 * slot]);
            JpegMarkerWriter.WriteHuffmanTable(_output, true, slot, _standardSpecs[(2 * slot) + 1]);
        }

        _output.WriteMarker(JpegMarkers.Eoi);
    }

    /// <summary>IJG quality scaling; without <see cref="JpegEncoderOptions.ForceBaseline"/> entries may reach 32767 (jcparam.c).</summary>
    private static void ScaleTable(ReadOnlySpan<byte> baseTable, JpegEncoderOptions options, Span<ushort> destination)
    {
        if (options.ForceBaseline)
        {
            JpegTables.ScaleQuantTable(baseTable, options.Quality, destination);
            return;
        }

        int q = options.Quality;
        int scale = q < 50 ? 5000 / q : 200 - (q * 2);
        for (int i = 0; i < 64; i++)
        {
            destination[i] = (ushort)Math.Clamp(((baseTable[i] * scale) + 50) / 100, 1, 32767);
        }
    }
}
