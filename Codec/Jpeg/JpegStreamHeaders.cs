namespace JpegLm.Codec.Jpeg;

/// <summary>One Huffman table as a DHT segment carries it (T.81 B.2.4.2).</summary>
/// <param name="TableClass">0 = DC, 1 = AC.</param>
/// <param name="Id">Destination identifier 0..3.</param>
/// <param name="Bits">BITS: number of codes of each length 1..16 (16 entries).</param>
/// <param name="Values">HUFFVAL: the symbols in code order.</param>
public sealed record JpegHuffmanTableSpec(int TableClass, int Id, byte[] Bits, byte[] Values);

/// <summary>One quantization table as a DQT segment carries it (T.81 B.2.4.1), 8-bit precision.</summary>
/// <param name="Id">Destination identifier 0..3.</param>
/// <param name="ZigZagValues">64 entries in zig-zag order.</param>
public sealed record JpegQuantTableSpec(int Id, ushort[] ZigZagValues);

/// <summary>A frame component (T.81 B.2.2) with the entropy tables its scan selects (B.2.3).</summary>
/// <param name="Id">Component identifier.</param>
/// <param name="H">Horizontal sampling factor.</param>
/// <param name="V">Vertical sampling factor.</param>
/// <param name="QuantTable">Quantization table selector.</param>
/// <param name="DcTable">DC Huffman table selector (from SOS).</param>
/// <param name="AcTable">AC Huffman table selector (from SOS).</param>
public readonly record struct JpegComponentSpec(int Id, int H, int V, int QuantTable, int DcTable, int AcTable);

/// <summary>
/// The markers in front of a baseline scan, read by the scan checker's own small parser (SOI, APPn,
/// COM, DQT, DHT, SOF0/SOF1, DRI, SOS). Also reads tables-only streams (SOI, DQT, DHT, EOI).
/// </summary>
public sealed class JpegStreamHeaders
{
    /// <summary>Frame width in pixels (0 when the stream has no SOF).</summary>
    public int Width { get; private set; }

    /// <summary>Frame height in pixels.</summary>
    public int Height { get; private set; }

    /// <summary>Restart interval in MCUs; 0 when the stream has no DRI.</summary>
    public int RestartInterval { get; private set; }

    /// <summary>The scan's components in scan order, with their sampling factors and table selectors.</summary>
    public IReadOnlyList<JpegComponentSpec> ScanComponents { get; private set; } = [];

    /// <summary>Huffman tables defined by DHT segments, in the order they appear.</summary>
    public List<JpegHuffmanTableSpec> HuffmanTables { get; } = [];

    /// <summary>Quantization tables defined by DQT segments, in the order they appear.</summary>
    public List<JpegQuantTableSpec> QuantTables { get; } = [];

    /// <summary>Offset of the first entropy-coded byte after SOS, or -1 for a stream without a scan.</summary>
    public int ScanDataOffset { get; private set; } = -1;

    /// <summary>Offset just after the EOI of a tables-only stream, or -1.</summary>
    public int EndOffset { get; private set; } = -1;

    /// <summary>Parses the markers of <paramref name="data"/> up to the first SOS (or EOI).</summary>
    /// <exception cref="JpegFormatException">A malformed or unsupported marker segment, with its offset.</exception>
    public static JpegStreamHeaders Parse(ReadOnlySpan<byte> data)
    {
        var h = new JpegStreamHeaders();
        var walker = new JpegMarkerWalker(data);
        var frame = new List<(int Id, int H, int V, int Tq)>();
        while (true)
        {
            JpegMarkerSegment segment = walker.Next("before the scan");
            ReadOnlySpan<byte> body = segment.Body;
            int at = segment.Offset, bodyAt = segment.BodyOffset;
            switch (segment.Marker)
            {
                case JpegMarkers.Eoi:
                    h.EndOffset = walker.Position;
                    return h;
                case JpegMarkers.Sof0 or JpegMarkers.Sof1:
                    ParseFrame(h, body, bodyAt, frame);
                    break;
                case JpegMarkers.Dht:
                    ParseHuffman(h, body, bodyAt);
                    break;
                case JpegMarkers.Dqt:
                    ParseQuant(h, body, bodyAt);
                    break;
                case JpegMarkers.Dri:
                    if (body.Length != 2)
                    {
                        throw new JpegFormatException("DRI length must be 4", at);
                    }

                    h.RestartInterval = (body[0] << 8) | body[1];
                    break;
                case JpegMarkers.Sos:
                    ParseScan(h, body, bodyAt, frame);
                    h.ScanDataOffset = walker.Position;
                    return h;
                case >= JpegMarkers.Sof2 and <= 0xCF:
                    throw new JpegFormatException($"unsupported frame type {JpegMarkers.Name(segment.Marker)} (only baseline/extended Huffman)", at);
                default:
                    break; // APPn, COM and others carry nothing the scan needs
            }
        }
    }

    private static void ParseFrame(JpegStreamHeaders h, ReadOnlySpan<byte> b, int at, List<(int, int, int, int)> frame)
    {
        if (b.Length < 6 || b[0] != 8 || b.Length != 6 + (3 * b[5]) || b[5] is 0 or > 4)
        {
            throw new JpegFormatException("malformed SOF (need 8-bit precision, 1..4 components)", at);
        }

        h.Height = (b[1] << 8) | b[2];
        h.Width = (b[3] << 8) | b[4];
        if (h.Width == 0 || h.Height == 0)
        {
            throw new JpegFormatException("zero frame size (DNL is not supported)", at);
        }

        for (int i = 0; i < b[5]; i++)
        {
            int hs = b[7 + (3 * i)] >> 4, vs = b[7 + (3 * i)] & 15;
            if (hs is 0 or > 4 || vs is 0 or > 4)
            {
                throw new JpegFormatException("sampling factor out of 1..4", at + 7 + (3 * i));
            }

            frame.Add((b[6 + (3 * i)], hs, vs, b[8 + (3 * i)]));
        }
    }

    private static void ParseScan(JpegStreamHeaders h, ReadOnlySpan<byte> b, int at, List<(int Id, int H, int V, int Tq)> frame)
    {
        if (frame.Count == 0)
        {
            throw new JpegFormatException("SOS before SOF", at);
        }

        if (b.Length < 1 || b[0] is 0 or > 4 || b.Length != 4 + (2 * b[0]))
        {
            throw new JpegFormatException("malformed SOS", at);
        }

        int n = b[0];
        if (b[1 + (2 * n)] != 0 || b[2 + (2 * n)] != 63 || b[3 + (2 * n)] != 0)
        {
            throw new JpegFormatException("not a sequential scan (Ss=0, Se=63, Ah=Al=0 required)", at);
        }

        var comps = new JpegComponentSpec[n];
        int blocks = 0;
        for (int i = 0; i < n; i++)
        {
            int id = b[1 + (2 * i)], tables = b[2 + (2 * i)];
            int fi = frame.FindIndex(c => c.Id == id);
            if (fi < 0)
            {
                throw new JpegFormatException($"SOS names component {id} that is not in the frame", at + 1 + (2 * i));
            }

            (int _, int hs, int vs, int tq) = frame[fi];
            comps[i] = new JpegComponentSpec(id, hs, vs, tq, tables >> 4, tables & 15);
            blocks += n == 1 ? 1 : hs * vs;
            if ((tables >> 4) > 3 || (tables & 15) > 3)
            {
                throw new JpegFormatException("Huffman table selector out of 0..3", at + 2 + (2 * i));
            }
        }

        if (blocks > 10)
        {
            throw new JpegFormatException("more than 10 blocks per MCU (B.2.3)", at);
        }

        if (n == 1 && frame.Count > 1)
        {
            throw new JpegFormatException("non-interleaved scans of multi-component frames are not supported", at);
        }

        h.ScanComponents = comps;
    }

    private static void ParseHuffman(JpegStreamHeaders h, ReadOnlySpan<byte> b, int at)
    {
        int p = 0;
        while (p < b.Length)
        {
            if (p + 17 > b.Length || (b[p] >> 4) > 1 || (b[p] & 15) > 3)
            {
                throw new JpegFormatException("malformed DHT", at + p);
            }

            byte[] bits = b.Slice(p + 1, 16).ToArray();
            int total = 0;
            foreach (byte c in bits)
            {
                total += c;
            }

            if (total > 256 || p + 17 + total > b.Length)
            {
                throw new JpegFormatException("DHT symbol count runs past the segment", at + p);
            }

            h.HuffmanTables.Add(new JpegHuffmanTableSpec(b[p] >> 4, b[p] & 15, bits, b.Slice(p + 17, total).ToArray()));
            p += 17 + total;
        }
    }

    private static void ParseQuant(JpegStreamHeaders h, ReadOnlySpan<byte> b, int at)
    {
        int p = 0;
        while (p < b.Length)
        {
            int precision = b[p] >> 4;
            int size = precision == 0 ? 64 : 128;
            if (precision > 1 || (b[p] & 15) > 3 || p + 1 + size > b.Length)
            {
                throw new JpegFormatException("malformed DQT", at + p);
            }

            var values = new ushort[64];
            for (int i = 0; i < 64; i++)
            {
                values[i] = precision == 0 ? b[p + 1 + i] : (ushort)((b[p + 1 + (2 * i)] << 8) | b[p + 2 + (2 * i)]);
            }

            h.QuantTables.Add(new JpegQuantTableSpec(b[p] & 15, values));
            p += 1 + size;
        }
    }
}
