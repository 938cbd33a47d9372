using System.Text.Json.Serialization;
using JpegLm.Codec.Jpeg;

namespace JpegLm.Codec.Tokens;

/// <summary>
/// The constant part of a JPEG data set (see <see cref="CodecProfile"/>): size, IJG quality, chroma
/// subsampling, restart interval and the DQT/DHT tables. The default token stream of a file is its
/// image-only stream (Pillow's streamtype=2) minus the constant header (SOI, APP0, SOF0, DRI, SOS,
/// rebuilt by <see cref="ImageHeader"/>) and minus EOI; the tables live here as well because a
/// decoder of an image-only stream needs them (<see cref="TablesStream"/>, streamtype=1).
/// </summary>
public sealed class JpegProfile : CodecProfile
{
    /// <summary>Subsampling name for 4:2:0 (luma 2x2, chroma 1x1; 16x16 MCUs).</summary>
    public const string Yuv420 = "4:2:0";

    /// <summary>Subsampling name for 4:4:4 (8x8 MCUs of three blocks).</summary>
    public const string Yuv444 = "4:4:4";

    /// <summary>Subsampling name for one grey component (8x8 MCUs of one block).</summary>
    public const string Grey = "grey";

    /// <inheritdoc/>
    [JsonIgnore]
    public override string Codec => "jpeg";

    /// <summary>Image width in pixels.</summary>
    public int Width { get; init; }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; init; }

    /// <summary>The IJG quality (1..100) the quantization tables were scaled for; recorded for people and for the encoder.</summary>
    public int Quality { get; init; }

    /// <summary><see cref="Yuv420"/>, <see cref="Yuv444"/> or <see cref="Grey"/>.</summary>
    public string Subsampling { get; set; } = Yuv420;

    /// <summary>Restart interval in MCUs (DRI); 0 for none. The paper restarts at every MCU.</summary>
    public int RestartInterval { get; init; }

    /// <summary>Quantization tables in the order the tables-only stream carries them.</summary>
    public IReadOnlyList<JpegProfileQuantTable> QuantizationTables { get; set; } = [];

    /// <summary>Huffman tables in the order the tables-only stream carries them.</summary>
    public IReadOnlyList<JpegProfileHuffmanTable> HuffmanTables { get; set; } = [];

    /// <summary>The paper's profile: 256x256, quality 25, 4:2:0, a restart marker after every MCU, Annex K tables.</summary>
    public static JpegProfile Paper() => Standard("paper-256-q25", 256, 256, 25, Yuv420, 1);

    /// <summary>
    /// Fashion-MNIST: the 28x28 grey images padded to 32x32, quality 25 (as the paper), restart after
    /// every 8x8 MCU so that one token patch is one block.
    /// </summary>
    public static JpegProfile FashionMnist() => Standard("fashion-mnist-32-grey-q25", 32, 32, 25, Grey, 1);

    /// <summary>
    /// A profile with the Annex K tables scaled to <paramref name="quality"/> exactly as libjpeg's
    /// jpeg_set_quality(force_baseline) does, listed in the order jpeg_write_tables writes them.
    /// </summary>
    public static JpegProfile Standard(string name, int width, int height, int quality, string subsampling, int restartInterval)
    {
        var luma = new ushort[64];
        var chroma = new ushort[64];
        JpegTables.ScaleQuantTable(JpegTables.LuminanceQuantBase, quality, luma);
        JpegTables.ScaleQuantTable(JpegTables.ChrominanceQuantBase, quality, chroma);
        bool grey = subsampling == Grey;
        var quant = new List<JpegProfileQuantTable> { new(0, ToZigZag(luma)) };
        var huff = new List<JpegProfileHuffmanTable>
        {
            new("dc", 0, Ints(JpegTables.LuminanceDcBits), Ints(JpegTables.LuminanceDcValues)),
            new("ac", 0, Ints(JpegTables.LuminanceAcBits), Ints(JpegTables.LuminanceAcValues)),
        };
        if (!grey)
        {
            quant.Add(new(1, ToZigZag(chroma)));
            huff.Add(new("dc", 1, Ints(JpegTables.ChrominanceDcBits), Ints(JpegTables.ChrominanceDcValues)));
            huff.Add(new("ac", 1, Ints(JpegTables.ChrominanceAcBits), Ints(JpegTables.ChrominanceAcValues)));
        }

        var p = new JpegProfile
        {
            Name = name, Width = width, Height = height, Quality = quality, Subsampling = subsampling,
            RestartInterval = restartInterval, QuantizationTables = quant, HuffmanTables = huff,
        };
        p.Validate();
        return p;
    }

    /// <summary>The frame's components with sampling factors and table selectors, as libjpeg assigns them.</summary>
    public IReadOnlyList<JpegComponentSpec> Components() => Subsampling switch
    {
        Yuv420 => [new(1, 2, 2, 0, 0, 0), new(2, 1, 1, 1, 1, 1), new(3, 1, 1, 1, 1, 1)],
        Yuv444 => [new(1, 1, 1, 0, 0, 0), new(2, 1, 1, 1, 1, 1), new(3, 1, 1, 1, 1, 1)],
        Grey => [new(1, 1, 1, 0, 0, 0)],
        _ => throw new ArgumentException($"unknown subsampling '{Subsampling}'"),
    };

    /// <inheritdoc/>
    public override void Validate()
    {
        if (Width is < 1 or > 65535 || Height is < 1 or > 65535)
        {
            throw new ArgumentException($"size {Width}x{Height} out of 1..65535");
        }

        if (Quality is < 1 or > 100 || RestartInterval is < 0 or > 65535)
        {
            throw new ArgumentException("quality must be 1..100 and restart interval 0..65535");
        }

        foreach (JpegComponentSpec c in Components())
        {
            if (!QuantizationTables.Any(q => q.Id == c.QuantTable)
                || !HuffmanTables.Any(t => t.Class == "dc" && t.Id == c.DcTable)
                || !HuffmanTables.Any(t => t.Class == "ac" && t.Id == c.AcTable))
            {
                throw new ArgumentException($"component {c.Id} refers to a table the profile lacks");
            }
        }

        foreach (JpegProfileQuantTable q in QuantizationTables)
        {
            if (q.Values.Length != 64 || q.Values.Any(v => v is < 1 or > 255))
            {
                throw new ArgumentException($"quantization table {q.Id} needs 64 values in 1..255");
            }
        }

        foreach (JpegProfileHuffmanTable t in HuffmanTables)
        {
            if (t.Class is not ("dc" or "ac") || t.Bits.Length != 16 || t.Bits.Sum() != t.Values.Length || t.Values.Any(v => v is < 0 or > 255))
            {
                throw new ArgumentException($"Huffman table {t.Class}{t.Id} is malformed");
            }
        }
    }

    /// <summary>The tables as the scan checker and decoders take them.</summary>
    public IReadOnlyList<JpegHuffmanTableSpec> HuffmanSpecs()
        => [.. HuffmanTables.Select(t => new JpegHuffmanTableSpec(t.Class == "ac" ? 1 : 0, t.Id, Bytes(t.Bits), Bytes(t.Values)))];

    /// <summary>
    /// The settings for <see cref="JpegEncoder"/> that write files of this profile (image-only streams
    /// with the Annex K tables scaled to <see cref="Quality"/>; the encoder does not take custom tables).
    /// </summary>
    public JpegEncoderOptions EncoderOptions() => new()
    {
        Quality = Quality,
        Subsampling = Subsampling switch { Yuv420 => JpegSubsampling.S420, Yuv444 => JpegSubsampling.S444, _ => JpegSubsampling.Gray },
        RestartInterval = RestartInterval,
        StreamKind = JpegStreamKind.ImageOnly,
    };

    /// <summary>
    /// The grammar of this profile's token streams (for constrained sampling and checking): without
    /// kept headers the stream is the entropy-coded data up to, not including, EOI; with kept headers it
    /// is the whole image-only stream, header first.
    /// </summary>
    public JpegScanGrammar TokenGrammar()
        => JpegScanGrammar.Create(Width, Height, Components(), RestartInterval, HuffmanSpecs(), KeepHeaders ? ImageHeader() : null, endsWithEoi: KeepHeaders);

    /// <summary>
    /// The constant header of an image-only stream exactly as libjpeg-turbo writes it for Pillow's
    /// streamtype=2: SOI, APP0 (JFIF 1.01, no units, density 1x1, no thumbnail), SOF0, DRI (when
    /// restarting), SOS (Ss=0, Se=63, Ah=Al=0). Written by the encoder's own marker writer, so a profile's
    /// header and the encoder's files cannot drift apart.
    /// </summary>
    public byte[] ImageHeader()
    {
        var o = new JpegOutputBuffer(64);
        o.WriteMarker(JpegMarkers.Soi);
        JpegMarkerWriter.WriteJfif(o);
        JpegEncoderOptions options = EncoderOptions();
        JpegMarkerWriter.WriteFrameHeader(o, new JpegFrameLayout(Width, Height, options.Subsampling), extended: false);
        if (RestartInterval > 0)
        {
            JpegMarkerWriter.WriteRestartInterval(o, RestartInterval);
        }

        JpegMarkerWriter.WriteScanHeader(o, Components().Count);
        return o.Written.ToArray();
    }

    /// <summary>
    /// The tables-only stream (Pillow's streamtype=1): SOI, one DQT per table, one DHT per table, EOI, through the
    /// encoder's marker writer.
    /// </summary>
    public byte[] TablesStream()
    {
        var o = new JpegOutputBuffer(1024);
        o.WriteMarker(JpegMarkers.Soi);
        ReadOnlySpan<byte> zigZag = JpegTables.ZigZag;
        Span<ushort> natural = stackalloc ushort[64];
        foreach (JpegProfileQuantTable q in QuantizationTables)
        {
            for (int k = 0; k < 64; k++)
            {
                natural[zigZag[k]] = (ushort)q.Values[k]; // the profile keeps a table in DQT (zig-zag) order
            }

            JpegMarkerWriter.WriteQuantTable(o, q.Id, natural);
        }

        foreach (JpegProfileHuffmanTable t in HuffmanTables)
        {
            JpegMarkerWriter.WriteHuffmanTable(o, t.Class == "ac", t.Id, new HuffmanTableSpec(Bytes(t.Bits), Bytes(t.Values)));
        }

        o.WriteMarker(JpegMarkers.Eoi);
        return o.Written.ToArray();
    }

    /// <summary>
    /// Reads a profile from a tables-only stream (for the tables) and an image-only or complete file
    /// (for size, sampling and restart interval). The quality cannot be read back and is given.
    /// </summary>
    public static JpegProfile FromStreams(string name, ReadOnlySpan<byte> tablesStream, ReadOnlySpan<byte> imageStream, int quality)
    {
        JpegStreamHeaders tables = JpegStreamHeaders.Parse(tablesStream);
        JpegStreamHeaders image = JpegStreamHeaders.Parse(imageStream);
        IReadOnlyList<JpegComponentSpec> c = image.ScanComponents;
        string sub = c.Count == 1 ? Grey : c[0].H == 2 && c[0].V == 2 ? Yuv420 : Yuv444;
        var p = new JpegProfile
        {
            Name = name, Width = image.Width, Height = image.Height, Quality = quality, Subsampling = sub,
            RestartInterval = image.RestartInterval,
            QuantizationTables = [.. tables.QuantTables.Select(q => new JpegProfileQuantTable(q.Id, [.. q.ZigZagValues.Select(v => (int)v)]))],
            HuffmanTables = [.. tables.HuffmanTables.Select(t => new JpegProfileHuffmanTable(t.TableClass == 1 ? "ac" : "dc", t.Id, Ints(t.Bits), Ints(t.Values)))],
        };
        p.Validate();
        return p;
    }

    /// <inheritdoc/>
    /// <exception cref="JpegFormatException">The file's header differs from the profile's, or it does not end with EOI.</exception>
    public override byte[] ToTokenBytes(ReadOnlySpan<byte> file)
    {
        if (KeepHeaders)
        {
            return file.ToArray();
        }

        byte[] header = ImageHeader();
        int same = file.CommonPrefixLength(header);
        if (same < header.Length)
        {
            throw new JpegFormatException($"header differs from profile '{Name}' (is the file image-only, {Width}x{Height}, {Subsampling}, restart {RestartInterval}?)", same);
        }

        if (file.Length < header.Length + 2 || file[^2] != 0xFF || file[^1] != 0xD9)
        {
            throw new JpegFormatException("stream does not end with EOI", file.Length);
        }

        return file[header.Length..^2].ToArray();
    }

    /// <inheritdoc/>
    public override byte[] FromTokenBytes(ReadOnlySpan<byte> tokenBytes)
    {
        if (KeepHeaders)
        {
            return tokenBytes.ToArray();
        }

        byte[] header = ImageHeader();
        var file = new byte[header.Length + tokenBytes.Length + 2];
        header.CopyTo(file, 0);
        tokenBytes.CopyTo(file.AsSpan(header.Length));
        file[^2] = 0xFF;
        file[^1] = 0xD9;
        return file;
    }

    private static int[] ToZigZag(ushort[] natural)
    {
        var z = new int[64];
        for (int k = 0; k < 64; k++)
        {
            z[k] = natural[JpegTables.ZigZag[k]];
        }

        return z;
    }

    private static int[] Ints(ReadOnlySpan<byte> b)
    {
        var a = new int[b.Length];
        for (int i = 0; i < b.Length; i++)
        {
            a[i] = b[i];
        }

        return a;
    }

    private static byte[] Bytes(int[] a) => [.. a.Select(v => (byte)v)];
}

/// <summary>A quantization table of a <see cref="JpegProfile"/>.</summary>
/// <param name="Id">Destination identifier 0..3.</param>
/// <param name="Values">64 entries in zig-zag order, as DQT carries them.</param>
public sealed record JpegProfileQuantTable(int Id, int[] Values);

/// <summary>A Huffman table of a <see cref="JpegProfile"/>.</summary>
/// <param name="Class">"dc" or "ac".</param>
/// <param name="Id">Destination identifier 0..3.</param>
/// <param name="Bits">Number of codes of each length 1..16.</param>
/// <param name="Values">Symbols in code order.</param>
public sealed record JpegProfileHuffmanTable(string Class, int Id, int[] Bits, int[] Values);
