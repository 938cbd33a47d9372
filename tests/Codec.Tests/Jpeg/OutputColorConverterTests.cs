using JpegLm.Codec.Jpeg;

namespace JpegLm.Codec.Tests.Jpeg;

public class OutputColorConverterTests
{
    [SkippableFact]
    public unsafe void Vector_conversion_covers_whole_chunks_and_equals_the_table_reference()
    {
        Skip.IfNot(OutputColorConverterVector.IsSupported, "AVX2/SSSE3 not available");
        var random = new Random(3);
        const int width = 1000;
        byte[] y = new byte[width], cb = new byte[width], cr = new byte[width];
        random.NextBytes(y);
        random.NextBytes(cb);
        random.NextBytes(cr);
        byte[] expected = new byte[3 * width], actual = new byte[3 * width];
        OutputColorConverter.YCbCrToRgbScalar(y, cb, cr, expected, 0, width);
        int done;
        fixed (byte* py = y, pcb = cb, pcr = cr, prgb = actual)
        {
            done = OutputColorConverterVector.YCbCrToRgb(py, pcb, pcr, prgb, width);
        }

        Assert.Equal(992, done);
        Assert.Equal(expected.AsSpan(0, 3 * done).ToArray(), actual.AsSpan(0, 3 * done).ToArray());
        OutputColorConverter.YCbCrToRgb(y, cb, cr, actual, width);
        Assert.Equal(expected, actual);
    }

    [SkippableFact]
    public unsafe void Vector_conversion_equals_the_tables_for_every_chroma_pair()
    {
        Skip.IfNot(OutputColorConverterVector.IsSupported, "AVX2/SSSE3 not available");

        // All 65,536 (Cb, Cr) pairs, each with several luma values including the clamping extremes.
        const int width = 65536;
        byte[] y = new byte[width], cb = new byte[width], cr = new byte[width];
        for (int i = 0; i < width; i++)
        {
            cb[i] = (byte)i;
            cr[i] = (byte)(i >> 8);
        }

        foreach (byte luma in new byte[] { 0, 1, 77, 128, 200, 254, 255 })
        {
            y.AsSpan().Fill(luma);
            byte[] expected = new byte[3 * width], actual = new byte[3 * width];
            OutputColorConverter.YCbCrToRgbScalar(y, cb, cr, expected, 0, width);
            fixed (byte* py = y, pcb = cb, pcr = cr, prgb = actual)
            {
                Assert.Equal(width, OutputColorConverterVector.YCbCrToRgb(py, pcb, pcr, prgb, width));
            }

            Assert.Equal(expected, actual);
        }
    }
}
