namespace JpegLm.Codec.Tests.Avc;

public class YuvComparisonTests
{
    [Fact]
    public void Reports_frame_plane_and_macroblock_of_the_first_difference()
    {
        const int w = 48, h = 32;
        int frame = (w * h) + (2 * 24 * 16);
        byte[] a = new byte[frame * 3];
        byte[] b = (byte[])a.Clone();
        Assert.Null(YuvComparison.FirstMismatch(a, b, w, h));
        b[(2 * frame) + (w * h) + (24 * 9) + 10] = 7; // frame 2, U plane, chroma (10, 9): macroblock row 1, column 1
        Assert.Equal("frame 2 plane U sample (10,9) macroblock 4: expected 0, got 7", YuvComparison.FirstMismatch(a, b, w, h));
        Assert.Contains("lengths differ", YuvComparison.FirstMismatch(a, a.AsSpan(0, frame * 2), w, h));
    }
}
