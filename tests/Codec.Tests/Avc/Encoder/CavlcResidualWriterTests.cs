using JpegLm.Codec.Avc;
using JpegLm.Codec.Avc.Encoder;
using JpegLm.Codec.Bitstream;

namespace JpegLm.Codec.Tests.Avc.Encoder;

public class CavlcResidualWriterTests
{
    [Theory]
    [InlineData(0, 16)]
    [InlineData(1, 15)]
    [InlineData(2, 16)]
    [InlineData(3, 15)]
    [InlineData(5, 16)]
    [InlineData(7, 15)]
    [InlineData(8, 16)]
    [InlineData(13, 15)]
    [InlineData(-1, 4)]
    public void Blocks_written_are_read_back_by_the_decoder(int nC, int maxNumCoeff)
    {
        var rng = new Random((nC * 31) + maxNumCoeff);
        var w = new RbspWriter();
        var blocks = new List<int[]>();
        for (int n = 0; n < 3000; n++)
        {
            var levels = new int[maxNumCoeff];
            int density = rng.Next(1, 5);
            for (int i = 0; i < maxNumCoeff; i++)
            {
                if (rng.Next(density + 1) == 0)
                {
                    continue;
                }

                int magnitude = rng.Next(10) switch
                {
                    < 6 => 1,
                    < 9 => rng.Next(2, 20),
                    _ => rng.Next(20, CavlcResidualWriter.MaxLevel + 1),
                };
                levels[i] = rng.Next(2) == 0 ? magnitude : -magnitude;
            }

            if (n % 10 == 0)
            {
                Array.Clear(levels);
            }

            int total = CavlcResidualWriter.Write(w, nC, levels, maxNumCoeff);
            Assert.Equal(levels.Count(v => v != 0), total);
            blocks.Add(levels);
        }

        w.WriteTrailingBits();
        var r = new RbspReader(w.Payload);
        var read = new int[16];
        byte[] inOrder = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
        foreach (int[] levels in blocks)
        {
            Array.Clear(read); // the reader leaves a block without coefficients untouched
            int total = CavlcResidualReader.Read(r, nC, maxNumCoeff, read, inOrder);
            Assert.Equal(levels.Count(v => v != 0), total);
            Assert.Equal(levels, read.AsSpan(0, maxNumCoeff).ToArray());
        }

        Assert.True(r.TrailingBitsAreValid());
    }
}
