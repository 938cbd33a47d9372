using System.Globalization;
using System.Text;

namespace JpegLm.Codec.Jpeg;

/// <summary>One marker segment of a JPEG stream (T.81 B.1.1.2).</summary>
/// <param name="Marker">The marker code (the byte after 0xFF).</param>
/// <param name="Offset">Byte offset of the 0xFF that starts the marker.</param>
/// <param name="Length">The segment's length field (which counts itself), or 0 for a standalone marker.</param>
/// <param name="Description">What the segment says, in one line (table ids, sizes, factors…).</param>
public sealed record JpegSegment(byte Marker, long Offset, int Length, string Description)
{
    /// <summary>The marker's name (SOI, APP0, DQT, SOF0, DHT, DRI, SOS, RST3, EOI, …).</summary>
    public string Name => JpegMarkers.Name(Marker);
}

/// <summary>
/// A marker-level walk over a JPEG stream: the segments in order with what each declares, and per
/// scan the size of the entropy-coded data, its RSTn markers and the number of MCUs the frame implies.
/// Used for readable snapshots of encoder output and for quick inspection from the CLI; it does not
/// decode entropy-coded data. Malformed structure raises <see cref="JpegFormatException"/> with the offset.
/// </summary>
public sealed class JpegStreamSummary
{
    private readonly List<JpegSegment> _segments = [];
    private readonly List<(int H, int V, int Id)> _components = [];
    private int _maxH = 1, _maxV = 1;

    private JpegStreamSummary()
    {
    }

    /// <summary>Segments in stream order (entropy-coded data is described inside the SOS entry).</summary>
    public IReadOnlyList<JpegSegment> Segments => _segments;

    /// <summary>Frame width from SOF (0 for a tables-only stream).</summary>
    public int Width { get; private set; }

    /// <summary>Frame height from SOF (0 for a tables-only stream).</summary>
    public int Height { get; private set; }

    /// <summary>Restart interval from DRI (0 when absent).</summary>
    public int RestartInterval { get; private set; }

    /// <summary>RSTn markers seen in all scans.</summary>
    public int RestartMarkerCount { get; private set; }

    /// <summary>Bytes of entropy-coded data (stuffing and RSTn included) in all scans.</summary>
    public long EntropyCodedBytes { get; private set; }

    /// <summary>Walks <paramref name="jpeg"/> from SOI to EOI.</summary>
    /// <exception cref="JpegFormatException">The marker structure is malformed.</exception>
    public static JpegStreamSummary Parse(ReadOnlySpan<byte> jpeg)
    {
        var summary = new JpegStreamSummary();
        summary.Walk(jpeg);
        return summary;
    }

    /// <summary>One line per segment: offset, name, length, description.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        foreach (JpegSegment s in _segments)
        {
            string length = s.Length > 0 ? string.Create(CultureInfo.InvariantCulture, $"len={s.Length}") : "";
            sb.Append(string.Create(CultureInfo.InvariantCulture, $"{s.Offset,6} {s.Name,-5} {length,-8} {s.Description}").TrimEnd()).Append('\n');
        }

        return sb.ToString();
    }

    /// <summary>The conventional name of a marker code (T.81 Table B.1), or 0xFFnn for a reserved code.</summary>
    public static string MarkerName(byte marker) => JpegMarkers.Name(marker);

    private void Walk(ReadOnlySpan<byte> jpeg)
    {
        var walker = new JpegMarkerWalker(jpeg);
        _segments.Add(new JpegSegment(JpegMarkers.Soi, 0, 0, ""));
        while (true)
        {
            JpegMarkerSegment segment = walker.Next("between segments");
            if (segment.Marker == JpegMarkers.Eoi)
            {
                _segments.Add(new JpegSegment(segment.Marker, segment.Offset, 0, ""));
                return;
            }

            string description = Describe(segment.Marker, segment.Body, segment.BodyOffset);
            if (segment.Marker == JpegMarkers.Sos)
            {
                int pos = walker.Position;
                description += " " + WalkEntropyCodedData(jpeg, ref pos, segment.Body);
                walker.Position = pos;
            }

            _segments.Add(new JpegSegment(segment.Marker, segment.Offset, segment.Length, description));
        }
    }

    private string WalkEntropyCodedData(ReadOnlySpan<byte> jpeg, ref int pos, ReadOnlySpan<byte> sos)
    {
        int start = pos, restarts = 0, expected = 0;
        bool inOrder = true;
        while (true)
        {
            int ff = jpeg[pos..].IndexOf((byte)0xFF);
            if (ff < 0 || pos + ff + 1 >= jpeg.Length)
            {
                throw new JpegFormatException("entropy-coded data runs past the end of the stream", jpeg.Length);
            }

            pos += ff;
            byte next = jpeg[pos + 1];
            if (next == 0x00)
            {
                pos += 2;
            }
            else if (next is >= 0xD0 and <= 0xD7)
            {
                inOrder &= next - 0xD0 == expected;
                expected = (expected + 1) & 7;
                restarts++;
                pos += 2;
            }
            else if (next == 0xFF)
            {
                pos++; // fill byte before a marker
            }
            else
            {
                break;
            }
        }

        RestartMarkerCount += restarts;
        EntropyCodedBytes += pos - start;
        string order = restarts == 0 ? "" : inOrder ? " (RST0..7 in order)" : " (RSTn OUT OF ORDER)";
        return string.Create(CultureInfo.InvariantCulture, $"| data {pos - start} bytes, {restarts} RST{order}, {ScanMcuCount(sos)} MCUs");
    }

    private int ScanMcuCount(ReadOnlySpan<byte> sos)
    {
        if (Width == 0 || sos.Length < 1)
        {
            return 0;
        }

        if (sos[0] == 1 && sos.Length >= 2)
        {
            // A non-interleaved scan codes one component's blocks (A.2.2).
            foreach ((int h, int v, int id) in _components)
            {
                if (id == sos[1])
                {
                    int w = DivCeil(DivCeil(Width * h, _maxH), 8), hh = DivCeil(DivCeil(Height * v, _maxV), 8);
                    return w * hh;
                }
            }

            return 0;
        }

        return DivCeil(Width, 8 * _maxH) * DivCeil(Height, 8 * _maxV);
    }

    private string Describe(byte marker, ReadOnlySpan<byte> body, int offset)
    {
        var sb = new StringBuilder();
        switch (marker)
        {
            case 0xE0 when body.StartsWith("JFIF\0"u8) && body.Length >= 14:
                sb.Append(CultureInfo.InvariantCulture, $"JFIF {body[5]}.{body[6]:D2} units={body[7]} density={(body[8] << 8) | body[9]}x{(body[10] << 8) | body[11]} thumbnail={body[12]}x{body[13]}");
                break;
            case 0xDB:
                for (int p = 0; p < body.Length;)
                {
                    int precision = body[p] >> 4, id = body[p] & 15, size = precision == 0 ? 64 : 128;
                    if (p + 1 + size > body.Length)
                    {
                        throw new JpegFormatException("DQT table runs past its segment", offset + p);
                    }

                    sb.Append(CultureInfo.InvariantCulture, $"table {id} {(precision == 0 ? 8 : 16)}-bit Q0={(precision == 0 ? body[p + 1] : (body[p + 1] << 8) | body[p + 2])}; ");
                    p += 1 + size;
                }

                break;
            case 0xC4:
                for (int p = 0; p < body.Length;)
                {
                    if (p + 17 > body.Length)
                    {
                        throw new JpegFormatException("DHT table runs past its segment", offset + p);
                    }

                    int count = 0, longest = 0;
                    for (int i = 0; i < 16; i++)
                    {
                        count += body[p + 1 + i];
                        longest = body[p + 1 + i] > 0 ? i + 1 : longest;
                    }

                    sb.Append(CultureInfo.InvariantCulture, $"{((body[p] >> 4) == 0 ? "DC" : "AC")}{body[p] & 15} {count} codes (longest {longest} bits); ");
                    p += 17 + count;
                }

                break;
            case 0xDD when body.Length >= 2:
                RestartInterval = (body[0] << 8) | body[1];
                sb.Append(CultureInfo.InvariantCulture, $"interval {RestartInterval} MCUs");
                break;
            case >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC:
                DescribeFrame(body, offset, sb);
                break;
            case 0xDA:
                if (body.Length < 1 || body.Length < 1 + (2 * body[0]) + 3)
                {
                    throw new JpegFormatException("SOS segment too short", offset);
                }

                sb.Append(CultureInfo.InvariantCulture, $"{body[0]} components:");
                for (int i = 0; i < body[0]; i++)
                {
                    sb.Append(CultureInfo.InvariantCulture, $" {body[1 + (2 * i)]}(dc{body[2 + (2 * i)] >> 4},ac{body[2 + (2 * i)] & 15})");
                }

                int s = 1 + (2 * body[0]);
                sb.Append(CultureInfo.InvariantCulture, $" Ss={body[s]} Se={body[s + 1]} Ah={body[s + 2] >> 4} Al={body[s + 2] & 15}");
                break;
        }

        return sb.ToString().TrimEnd(' ', ';');
    }

    private void DescribeFrame(ReadOnlySpan<byte> body, int offset, StringBuilder sb)
    {
        if (body.Length < 6 || body.Length < 6 + (3 * body[5]))
        {
            throw new JpegFormatException("SOF segment too short", offset);
        }

        Height = (body[1] << 8) | body[2];
        Width = (body[3] << 8) | body[4];
        _components.Clear();
        sb.Append(CultureInfo.InvariantCulture, $"{Width}x{Height} {body[0]}-bit, {body[5]} components:");
        for (int i = 0; i < body[5]; i++)
        {
            int id = body[6 + (3 * i)], h = body[7 + (3 * i)] >> 4, v = body[7 + (3 * i)] & 15, tq = body[8 + (3 * i)];
            if (h is < 1 or > 4 || v is < 1 or > 4)
            {
                throw new JpegFormatException($"component {id} sampling factors {h}x{v} outside 1..4", offset + 7 + (3 * i));
            }

            _components.Add((h, v, id));
            sb.Append(CultureInfo.InvariantCulture, $" {id}({h}x{v},q{tq})");
        }

        _maxH = _components.Max(c => c.H);
        _maxV = _components.Max(c => c.V);
    }

    private static int DivCeil(int a, int b) => (a + b - 1) / b;
}
