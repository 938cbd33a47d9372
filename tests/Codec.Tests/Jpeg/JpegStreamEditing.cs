using System.Buffers.Binary;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>Test helpers that cut marker segments out of a JPEG (for image-only and tables-only streams).</summary>
internal static class JpegStreamEditing
{
    /// <summary>The stream without the segments of the given markers (only those before the first SOS).</summary>
    public static byte[] WithoutSegments(byte[] jpeg, params byte[] markers)
    {
        var output = new List<byte> { 0xFF, 0xD8 };
        foreach ((byte marker, int start, int length) in Segments(jpeg))
        {
            if (!markers.Contains(marker))
            {
                output.AddRange(jpeg.AsSpan(start, length).ToArray());
            }

            if (marker == 0xDA)
            {
                output.AddRange(jpeg.AsSpan(start + length).ToArray());
                break;
            }
        }

        return [.. output];
    }

    /// <summary>A tables-only stream: SOI, the given segments of <paramref name="jpeg"/> (before its first SOS), EOI.</summary>
    public static byte[] TablesOnly(byte[] jpeg, params byte[] markers)
    {
        var output = new List<byte> { 0xFF, 0xD8 };
        foreach ((byte marker, int start, int length) in Segments(jpeg))
        {
            if (marker == 0xDA)
            {
                break;
            }

            if (markers.Contains(marker))
            {
                output.AddRange(jpeg.AsSpan(start, length).ToArray());
            }
        }

        output.AddRange([0xFF, 0xD9]);
        return [.. output];
    }

    /// <summary>Offsets of the marker segments up to and including the first SOS (marker, start of FF, total length).</summary>
    public static IEnumerable<(byte Marker, int Start, int Length)> Segments(byte[] jpeg)
    {
        int p = 2;
        while (p + 4 <= jpeg.Length)
        {
            byte marker = jpeg[p + 1];
            int length = BinaryPrimitives.ReadUInt16BigEndian(jpeg.AsSpan(p + 2)) + 2;
            yield return (marker, p, length);
            if (marker == 0xDA)
            {
                yield break;
            }

            p += length;
        }
    }
}
