using System.Globalization;
using System.Text;

namespace JpegLm.Codec.Imaging;

/// <summary>The stream header of a YUV4MPEG2 file: size, frame rate, and the colour-space tag.</summary>
/// <param name="Width">Frame width in pixels.</param>
/// <param name="Height">Frame height in pixels.</param>
/// <param name="FpsNumerator">Frame rate numerator (F tag).</param>
/// <param name="FpsDenominator">Frame rate denominator.</param>
public sealed record Y4mHeader(int Width, int Height, int FpsNumerator, int FpsDenominator)
{
    /// <summary>Frames per second as a double.</summary>
    public double FramesPerSecond => (double)FpsNumerator / FpsDenominator;
}

/// <summary>
/// Reads 8-bit 4:2:0 YUV4MPEG2 (Y4M) files frame by frame, bounded in memory, and writes them.
/// Tags C420, C420jpeg, C420paldv, C420mpeg2 (or none) are accepted; they differ only in chroma siting.
/// </summary>
public sealed class Y4mReader : IDisposable
{
    private readonly Stream _stream;
    private long _offset;

    /// <summary>Opens a Y4M stream and parses its header.</summary>
    /// <exception cref="ImageFormatException">The header is malformed or not 8-bit 4:2:0.</exception>
    public Y4mReader(Stream stream)
    {
        _stream = stream ?? throw new ArgumentNullException(nameof(stream));
        string line = ReadLine(128 * 1024);
        string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts[0] != "YUV4MPEG2")
        {
            throw new ImageFormatException("not a Y4M file (expected 'YUV4MPEG2')", 0);
        }

        int w = 0, h = 0, fn = 25, fd = 1;
        foreach (string p in parts.Skip(1))
        {
            switch (p[0])
            {
                case 'W':
                    w = ParseInt(p[1..]);
                    break;
                case 'H':
                    h = ParseInt(p[1..]);
                    break;
                case 'F':
                    string[] f = p[1..].Split(':');
                    if (f.Length != 2)
                    {
                        throw new ImageFormatException($"bad frame-rate tag '{p}'", 0);
                    }

                    fn = ParseInt(f[0]);
                    fd = ParseInt(f[1]);
                    break;
                case 'C':
                    if (p is not ("C420" or "C420jpeg" or "C420paldv" or "C420mpeg2"))
                    {
                        throw new ImageFormatException($"only 8-bit 4:2:0 Y4M is supported, got colour space '{p}'", 0);
                    }

                    break;
                default:
                    break; // I (interlacing), A (aspect), X (comments) do not change the samples.
            }
        }

        if (w < 1 || h < 1 || (long)w * h > 1L << 28 || fn < 1 || fd < 1)
        {
            throw new ImageFormatException($"bad Y4M header: {w}x{h} at {fn}:{fd} fps", 0);
        }

        Header = new Y4mHeader(w, h, fn, fd);
    }

    /// <summary>The stream header.</summary>
    public Y4mHeader Header { get; }

    /// <summary>Reads the next frame, or null at the end of the stream.</summary>
    /// <exception cref="ImageFormatException">A frame header is malformed or a frame is cut short.</exception>
    public Yuv420Frame? ReadFrame()
    {
        int first = _stream.ReadByte();
        if (first < 0)
        {
            return null;
        }

        _offset++;
        string line = ((char)first) + ReadLine(4096);
        if (!line.StartsWith("FRAME", StringComparison.Ordinal))
        {
            throw new ImageFormatException("expected 'FRAME'", _offset - line.Length - 1);
        }

        var frame = new Yuv420Frame(Header.Width, Header.Height);
        ReadExactly(frame.Y);
        ReadExactly(frame.U);
        ReadExactly(frame.V);
        return frame;
    }

    /// <summary>Reads every remaining frame.</summary>
    public IEnumerable<Yuv420Frame> ReadAll()
    {
        while (ReadFrame() is { } f)
        {
            yield return f;
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _stream.Dispose();

    /// <summary>Writes a Y4M header line (C420jpeg).</summary>
    public static void WriteHeader(Stream output, Y4mHeader header)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(header);
        output.Write(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"YUV4MPEG2 W{header.Width} H{header.Height} F{header.FpsNumerator}:{header.FpsDenominator} Ip A1:1 C420jpeg\n")));
    }

    /// <summary>Writes one frame (FRAME line + planes).</summary>
    public static void WriteFrame(Stream output, Yuv420Frame frame)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(frame);
        output.Write("FRAME\n"u8);
        frame.WriteRaw(output);
    }

    private void ReadExactly(byte[] plane)
    {
        int n = _stream.ReadAtLeast(plane, plane.Length, throwOnEndOfStream: false);
        _offset += n;
        if (n < plane.Length)
        {
            throw new ImageFormatException($"frame cut short: {n} of {plane.Length} plane bytes", _offset);
        }
    }

    private string ReadLine(int limit)
    {
        var sb = new StringBuilder();
        while (true)
        {
            int b = _stream.ReadByte();
            if (b < 0)
            {
                throw new ImageFormatException("unexpected end of file in a header line", _offset);
            }

            _offset++;
            if (b == '\n')
            {
                return sb.ToString();
            }

            if (sb.Length >= limit)
            {
                throw new ImageFormatException("header line too long", _offset);
            }

            sb.Append((char)b);
        }
    }

    private int ParseInt(string s)
        => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : throw new ImageFormatException($"bad number '{s}' in Y4M header", _offset);
}
