namespace JpegLm.Codec.Tests.Avc;

/// <summary>
/// Debugging aid for decoder work: given a reference decode (e.g. from
/// <c>ffmpeg -i X.264 -f rawvideo -pix_fmt yuv420p ref.yuv</c>) and ours, names the first frame,
/// plane and macroblock that differ.
/// </summary>
internal static class YuvComparison
{
    /// <summary>Describes the first difference between two raw yuv420p sequences, or returns null when equal.</summary>
    public static string? FirstMismatch(ReadOnlySpan<byte> expected, ReadOnlySpan<byte> actual, int width, int height)
    {
        int cw = (width + 1) / 2, ch = (height + 1) / 2;
        int frameSize = (width * height) + (2 * cw * ch);
        int frames = Math.Min(expected.Length, actual.Length) / frameSize;
        for (int f = 0; f < frames; f++)
        {
            ReadOnlySpan<byte> e = expected.Slice(f * frameSize, frameSize);
            ReadOnlySpan<byte> a = actual.Slice(f * frameSize, frameSize);
            int at = e.CommonPrefixLength(a);
            if (at == frameSize)
            {
                continue;
            }

            (string plane, int offset, int w, int mbSize) = at < width * height ? ("Y", 0, width, 16)
                : at < (width * height) + (cw * ch) ? ("U", width * height, cw, 8) : ("V", (width * height) + (cw * ch), cw, 8);
            int x = (at - offset) % w, y = (at - offset) / w;
            int mbWidth = (width + 15) / 16;
            int mb = ((y / mbSize) * mbWidth) + (x / mbSize);
            return $"frame {f} plane {plane} sample ({x},{y}) macroblock {mb}: expected {e[at]}, got {a[at]}";
        }

        return expected.Length == actual.Length ? null : $"lengths differ: {expected.Length / frameSize} frames expected, {actual.Length / frameSize} decoded";
    }
}
