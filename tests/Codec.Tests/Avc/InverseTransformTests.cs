using JpegLm.Codec.Avc;

namespace JpegLm.Codec.Tests.Avc;

public class InverseTransformTests
{
    [Fact]
    public void Dc_only_block_adds_a_flat_offset()
    {
        int[] d = new int[16];
        d[0] = 64 * 5; // (320 + 32) >> 6 = 5 everywhere
        byte[] plane = new byte[16 * 4];
        Array.Fill(plane, (byte)100);
        InverseTransform.AddInverse4x4(d, plane, 2, 16);
        for (int y = 0; y < 4; y++)
        {
            for (int x = 0; x < 16; x++)
            {
                Assert.Equal(x is >= 2 and < 6 ? 105 : 100, plane[(y * 16) + x]);
            }
        }
    }

    [Fact]
    public void Reconstruction_clips_to_the_sample_range()
    {
        int[] d = new int[16];
        d[0] = -64 * 300;
        byte[] plane = new byte[16];
        Array.Fill(plane, (byte)10);
        InverseTransform.AddInverse4x4(d, plane, 0, 4);
        Assert.All(plane, v => Assert.Equal(0, v));
    }

    [Theory]
    [InlineData(0, 0, 0)]
    [InlineData(29, 0, 29)]
    [InlineData(30, 0, 29)]
    [InlineData(51, 0, 39)]
    [InlineData(40, 12, 39)]
    [InlineData(10, -12, 0)]
    public void Chroma_qp_follows_table_8_15(int qpY, int offset, int expected)
        => Assert.Equal(expected, InverseTransform.ChromaQp(qpY, offset));

    [Fact]
    public void Level_scale_uses_norm_adjust_positions()
    {
        // qP % 6 = 0: 10 at (even, even), 16 at (odd, odd), 13 elsewhere (equation 8-315).
        Assert.Equal(10, InverseTransform.LevelScale[0][0]);
        Assert.Equal(16, InverseTransform.LevelScale[0][5]);
        Assert.Equal(13, InverseTransform.LevelScale[0][1]);
        Assert.Equal(25, InverseTransform.LevelScale[4][15]);
    }
}
