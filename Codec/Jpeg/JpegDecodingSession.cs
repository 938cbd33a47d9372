using System.Buffers;
using System.Buffers.Binary;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// The state of one decode: tables, frame, restart interval and the marker loop (T.81 Annex B) that
/// hands each scan to <see cref="ScanDecoder"/>. Used once per call of <see cref="JpegDecoder.DecodeDetailed"/>.
/// </summary>
internal sealed class JpegDecodingSession
{
    private readonly JpegDecoderOptions _options;
    private readonly ushort[]?[] _quantTables = new ushort[4][];
    private readonly int[]?[] _latchedQuant = new int[4][]; // QuantTable's copies; a new DQT for the slot drops its copy
    private readonly HuffmanDecodingTable?[] _dcTables = new HuffmanDecodingTable[4];
    private readonly HuffmanDecodingTable?[] _acTables = new HuffmanDecodingTable[4];
    private readonly List<JpegCorruptInterval> _corrupt = [];
    private bool _sawJfif;
    private int _adobeTransform = -1;

    public JpegDecodingSession(JpegDecoderOptions options) => _options = options;

    public JpegFrame? Frame { get; private set; }

    public int RestartInterval { get; private set; }

    public int ScanCount { get; private set; }

    public IReadOnlyList<JpegCorruptInterval> CorruptIntervals => _corrupt;

    public bool Tolerant => _options.Tolerant;

    /// <summary>Reads DQT and DHT segments from a tables-only (or full) stream, up to its first scan.</summary>
    public void LoadTables(ReadOnlySpan<byte> data)
    {
        var walker = new JpegMarkerWalker(data, "tables stream");
        while (walker.TryFindMarker(out int m, out byte marker) && marker is not (JpegMarkers.Eoi or JpegMarkers.Sos))
        {
            if (marker is JpegMarkers.Soi or JpegMarkers.Tem or (>= JpegMarkers.Rst0 and <= JpegMarkers.Rst7))
            {
                continue;
            }

            JpegMarkerSegment segment = walker.ReadSegment(m);
            if (marker == JpegMarkers.Dqt)
            {
                ParseDqt(segment.Body, segment.BodyOffset);
            }
            else if (marker == JpegMarkers.Dht)
            {
                ParseDht(segment.Body, segment.BodyOffset);
            }
        }
    }

    /// <summary>Decodes the stream's frame and all its scans.</summary>
    public void Run(ReadOnlySpan<byte> data)
    {
        var walker = new JpegMarkerWalker(data);
        while (true)
        {
            if (!walker.TryFindMarker(out int m, out byte marker))
            {
                if (Frame == null || ScanCount == 0 || !Tolerant)
                {
                    throw new JpegFormatException("unexpected end of data (no EOI marker): the file is truncated", data.Length);
                }

                return;
            }

            switch (marker)
            {
                case JpegMarkers.Eoi:
                    if (Frame == null || ScanCount == 0)
                    {
                        throw new JpegFormatException("EOI before any image data", m);
                    }

                    return;
                case JpegMarkers.Soi:
                    throw new JpegFormatException("second SOI marker", m);
                case JpegMarkers.Tem:
                case >= JpegMarkers.Rst0 and <= JpegMarkers.Rst7:
                    continue; // Stray parameterless markers: libjpeg ignores them too.
            }

            JpegMarkerSegment found = walker.ReadSegment(m);
            ReadOnlySpan<byte> segment = found.Body;
            long at = found.BodyOffset;
            switch (marker)
            {
                case JpegMarkers.Sof0 or JpegMarkers.Sof1 or JpegMarkers.Sof2:
                    ParseSof(segment, at, marker == JpegMarkers.Sof2, data.Length - walker.Position);
                    break;
                case JpegMarkers.Dac:
                    throw new JpegFormatException("arithmetic coding is not supported (DAC marker)", m);
                case var sof when JpegMarkers.IsStartOfFrame(sof):
                    throw new JpegFormatException(UnsupportedProcess(sof), m);
                case JpegMarkers.Dqt:
                    ParseDqt(segment, at);
                    break;
                case JpegMarkers.Dht:
                    ParseDht(segment, at);
                    break;
                case JpegMarkers.Dri:
                    if (segment.Length != 2)
                    {
                        throw new JpegFormatException($"DRI segment has length {segment.Length + 2} (must be 4)", m + 2);
                    }

                    RestartInterval = BinaryPrimitives.ReadUInt16BigEndian(segment);
                    break;
                case JpegMarkers.Sos:
                    ScanHeader scan = ParseSos(segment, at);
                    walker.Position = new ScanDecoder(this, scan, ScanCount).Decode(data, walker.Position);
                    ScanCount++;
                    break;
                case JpegMarkers.Dnl:
                    throw new JpegFormatException("DNL marker (height defined after the scan) is not supported", m);
                case JpegMarkers.App0:
                    _sawJfif |= segment.Length >= 5 && segment[..5].SequenceEqual("JFIF\0"u8);
                    break;
                case JpegMarkers.App14:
                    if (segment.Length >= 12 && segment[..5].SequenceEqual("Adobe"u8))
                    {
                        _adobeTransform = segment[11];
                    }

                    break;
                default:
                    break; // APPn, COM and anything unknown with a length: skipped.
            }
        }
    }

    /// <summary>The colour space libjpeg would infer (jdapimin.c default_decompress_parms, re-derived).</summary>
    public JpegColorSpace ColorSpace()
    {
        FrameComponent[] c = Frame!.Components;
        return c.Length switch
        {
            1 => JpegColorSpace.Grayscale,
            3 when _sawJfif => JpegColorSpace.YCbCr,
            3 when _adobeTransform >= 0 => _adobeTransform == 0 ? JpegColorSpace.Rgb : JpegColorSpace.YCbCr,
            3 when c[0].Id == 'R' && c[1].Id == 'G' && c[2].Id == 'B' => JpegColorSpace.Rgb,
            3 => JpegColorSpace.YCbCr,
            _ => _adobeTransform is > 0 ? JpegColorSpace.Ycck : JpegColorSpace.Cmyk,
        };
    }

    /// <summary>Gives the rented planes and coefficient buffers back to the pool.</summary>
    public void ReturnBuffers()
    {
        if (Frame == null)
        {
            return;
        }

        foreach (FrameComponent c in Frame.Components)
        {
            if (c.Plane.Length > 0)
            {
                ArrayPool<byte>.Shared.Return(c.Plane);
                c.Plane = [];
            }

            if (c.Coefficients != null)
            {
                ArrayPool<short>.Shared.Return(c.Coefficients);
                c.Coefficients = null;
            }
        }
    }

    public void Report(JpegCorruptInterval interval) => _corrupt.Add(interval);

    public HuffmanDecodingTable HuffmanTable(bool dc, int selector, long at)
    {
        HuffmanDecodingTable? t = dc ? _dcTables[selector] : _acTables[selector];
        if (t != null)
        {
            return t;
        }

        // Motion-JPEG frames omit DHT and rely on the Annex K tables (as libjpeg does for slots 0 and 1).
        if (selector <= 1)
        {
            t = selector == 0
                ? (dc ? HuffmanDecodingTable.Get(JpegTables.LuminanceDcBits, JpegTables.LuminanceDcValues, true, at) : HuffmanDecodingTable.Get(JpegTables.LuminanceAcBits, JpegTables.LuminanceAcValues, false, at))
                : (dc ? HuffmanDecodingTable.Get(JpegTables.ChrominanceDcBits, JpegTables.ChrominanceDcValues, true, at) : HuffmanDecodingTable.Get(JpegTables.ChrominanceAcBits, JpegTables.ChrominanceAcValues, false, at));
            (dc ? _dcTables : _acTables)[selector] = t;
            return t;
        }

        throw new JpegFormatException($"scan uses {(dc ? "DC" : "AC")} Huffman table {selector}, which is not defined", at);
    }

    /// <summary>
    /// The table a component latches at its first scan, as ints for the IDCT. Components latching the same
    /// definition get the same array, which lets the decoder pair their blocks in one IDCT cheaply.
    /// </summary>
    public int[] QuantTable(int selector, long at)
    {
        if (_latchedQuant[selector] is int[] latched)
        {
            return latched;
        }

        ushort[] q = _quantTables[selector]
            ?? throw new JpegFormatException(
                $"quantization table {selector} is not defined (an image-only stream needs its tables: pass a tables stream in JpegDecoderOptions.Tables / --tables)", at);
        int[] copy = new int[64];
        for (int i = 0; i < 64; i++)
        {
            copy[i] = q[i];
        }

        _latchedQuant[selector] = copy;
        return copy;
    }

    private static string UnsupportedProcess(byte sof) => sof switch
    {
        0xC3 => "lossless JPEG (SOF3) is not supported",
        >= 0xC5 and <= 0xC7 => $"hierarchical JPEG (SOF{sof - 0xC0}) is not supported",
        _ => $"arithmetic-coded JPEG (SOF{sof - 0xC0}) is not supported",
    };

    private void ParseDqt(ReadOnlySpan<byte> s, long at)
    {
        int p = 0;
        while (p < s.Length)
        {
            int pq = s[p] >> 4, tq = s[p] & 15;
            if (pq > 1 || tq > 3)
            {
                throw new JpegFormatException($"DQT with precision {pq} / table {tq} (must be 0..1 / 0..3)", at + p);
            }

            int size = pq == 0 ? 64 : 128;
            if (p + 1 + size > s.Length)
            {
                throw new JpegFormatException("DQT segment is shorter than its tables", at + p);
            }

            var table = new ushort[64];
            for (int k = 0; k < 64; k++)
            {
                int v = pq == 0 ? s[p + 1 + k] : BinaryPrimitives.ReadUInt16BigEndian(s[(p + 1 + (2 * k))..]);
                table[JpegTables.ZigZag[k]] = (ushort)v; // DQT lists entries in zig-zag order (B.2.4.1).
            }

            _quantTables[tq] = table;
            _latchedQuant[tq] = null;
            p += 1 + size;
        }
    }

    private void ParseDht(ReadOnlySpan<byte> s, long at)
    {
        int p = 0;
        while (p < s.Length)
        {
            int tc = s[p] >> 4, th = s[p] & 15;
            if (tc > 1 || th > 3)
            {
                throw new JpegFormatException($"DHT with class {tc} / table {th} (must be 0..1 / 0..3)", at + p);
            }

            if (p + 17 > s.Length)
            {
                throw new JpegFormatException("DHT segment is shorter than its code counts", at + p);
            }

            ReadOnlySpan<byte> bits = s.Slice(p + 1, 16);
            int total = 0;
            foreach (byte b in bits)
            {
                total += b;
            }

            if (total > 256 || p + 17 + total > s.Length)
            {
                throw new JpegFormatException($"DHT table with {total} symbols does not fit its segment", at + p);
            }

            HuffmanDecodingTable table = HuffmanDecodingTable.Get(bits, s.Slice(p + 17, total), tc == 0, at + p);
            (tc == 0 ? _dcTables : _acTables)[th] = table;
            p += 17 + total;
        }
    }

    private void ParseSof(ReadOnlySpan<byte> s, long at, bool progressive, long bytesAfter)
    {
        if (Frame != null)
        {
            throw new JpegFormatException("second frame header (SOF) in the stream", at - 4);
        }

        if (s.Length < 6)
        {
            throw new JpegFormatException("SOF segment too short", at);
        }

        int precision = s[0];
        int height = BinaryPrimitives.ReadUInt16BigEndian(s[1..]);
        int width = BinaryPrimitives.ReadUInt16BigEndian(s[3..]);
        int count = s[5];
        if (precision != 8)
        {
            throw new JpegFormatException($"{precision}-bit sample precision is not supported (only 8-bit)", at);
        }

        if (width == 0 || height == 0)
        {
            throw new JpegFormatException($"frame size {width}x{height} is empty (DNL-defined height is not supported)", at + 1);
        }

        if (count is not (1 or 3 or 4))
        {
            throw new JpegFormatException($"{count} components are not supported (1, 3 or 4)", at + 5);
        }

        if (s.Length != 6 + (3 * count))
        {
            throw new JpegFormatException($"SOF segment length {s.Length + 2} does not match {count} components", at - 2);
        }

        if ((long)width * height > _options.MaxPixels)
        {
            throw new JpegFormatException($"frame {width}x{height} exceeds the pixel limit of {_options.MaxPixels} (JpegDecoderOptions.MaxPixels)", at + 1);
        }

        var components = new FrameComponent[count];
        for (int i = 0; i < count; i++)
        {
            int o = 6 + (3 * i);
            int h = s[o + 1] >> 4, v = s[o + 1] & 15, tq = s[o + 2];
            if (h is < 1 or > 4 || v is < 1 or > 4 || tq > 3)
            {
                throw new JpegFormatException($"component {i}: sampling {h}x{v} or quantization table {tq} out of range", at + o);
            }

            components[i] = new FrameComponent { Id = s[o], Index = i, H = h, V = v, QuantSelector = tq };
        }

        var frame = new JpegFrame(width, height, progressive, components);

        // Every block needs at least one bit in some scan, so a header promising far more blocks than
        // the file has bytes is rejected before the planes are allocated (tolerant mode paints them).
        long minBytes = frame.TotalBlocks / 8;
        if (!Tolerant && minBytes > bytesAfter + 64)
        {
            throw new JpegFormatException($"frame {width}x{height} needs at least {minBytes} bytes of coded data but only {bytesAfter} follow: truncated or bogus size", at + 1);
        }

        long planeBytes = 0;
        foreach (FrameComponent c in components)
        {
            planeBytes += (long)c.BlocksWide * c.BlocksHigh * 64;
        }

        if (planeBytes > Array.MaxLength / 2)
        {
            throw new JpegFormatException($"frame {width}x{height} is too large to decode", at + 1);
        }

        // Planes and coefficient buffers are rented (returned by ReturnBuffers) because a decode of a small
        // image is otherwise dominated by fresh large-object allocations and page faults.
        foreach (FrameComponent c in components)
        {
            c.Plane = ArrayPool<byte>.Shared.Rent(c.BlocksWide * c.BlocksHigh * 64);
            if (progressive)
            {
                c.Coefficients = ArrayPool<short>.Shared.Rent(c.BlocksWide * c.BlocksHigh * 64);
                c.Coefficients.AsSpan(0, c.BlocksWide * c.BlocksHigh * 64).Clear();
            }
        }

        Frame = frame;
    }

    private ScanHeader ParseSos(ReadOnlySpan<byte> s, long at)
    {
        JpegFrame frame = Frame ?? throw new JpegFormatException("SOS before the frame header (SOF)", at - 4);
        if (s.Length < 1)
        {
            throw new JpegFormatException("SOS segment too short", at);
        }

        int n = s[0];
        if (n is < 1 or > 4 || s.Length != 4 + (2 * n))
        {
            throw new JpegFormatException($"SOS with {n} components has length {s.Length + 2}", at);
        }

        var comps = new FrameComponent[n];
        int blocksInMcu = 0;
        int ssRaw = s[1 + (2 * n)], ahRaw = s[3 + (2 * n)] >> 4;

        // Progressive scans only use the table class they code (DC scans: DC; AC scans: AC), and DC
        // refinement reads raw bits only, so an undefined table of the other class is no error.
        bool needDc = !frame.Progressive || (ssRaw == 0 && ahRaw == 0);
        bool needAc = !frame.Progressive || ssRaw != 0;
        for (int i = 0; i < n; i++)
        {
            int id = s[1 + (2 * i)], td = s[2 + (2 * i)] >> 4, ta = s[2 + (2 * i)] & 15;
            FrameComponent? c = null;
            foreach (FrameComponent fc in frame.Components)
            {
                if (fc.Id == id && Array.IndexOf(comps, fc) < 0)
                {
                    c = fc;
                    break;
                }
            }

            if (c == null)
            {
                throw new JpegFormatException($"scan names component {id}, which the frame does not have", at + 1 + (2 * i));
            }

            if (td > 3 || ta > 3)
            {
                throw new JpegFormatException($"scan selects Huffman tables {td}/{ta} (0..3)", at + 2 + (2 * i));
            }

            c.DcTable = needDc ? HuffmanTable(true, td, at) : null;
            c.AcTable = needAc ? HuffmanTable(false, ta, at) : null;
            c.Quant ??= QuantTable(c.QuantSelector, at);
            comps[i] = c;
            blocksInMcu += c.H * c.V;
        }

        int ss = s[1 + (2 * n)], se = s[2 + (2 * n)], ah = s[3 + (2 * n)] >> 4, al = s[3 + (2 * n)] & 15;
        if (n > 1 && blocksInMcu > 10)
        {
            throw new JpegFormatException($"interleaved scan has {blocksInMcu} blocks per MCU (at most 10)", at);
        }

        if (frame.Progressive)
        {
            bool valid = ss <= se && se <= 63 && al <= 13 && (ah == 0 || al == ah - 1)
                && (ss == 0 ? se == 0 : n == 1);
            if (!valid)
            {
                throw new JpegFormatException($"invalid progressive scan parameters Ss={ss} Se={se} Ah={ah} Al={al} with {n} components", at + 1 + (2 * n));
            }
        }
        else
        {
            ss = 0;
            se = 63;
            ah = 0;
            al = 0;
        }

        return new ScanHeader(comps, ss, se, ah, al);
    }
}

/// <summary>A parsed scan header (T.81 B.2.3).</summary>
internal sealed record ScanHeader(FrameComponent[] Components, int Ss, int Se, int Ah, int Al);
