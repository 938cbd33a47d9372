using JpegLm.Codec.Jpeg;

namespace JpegLm.Codec.Tests.Jpeg;

public class InverseDctTests
{
    [SkippableFact]
    public void Vector_idct_is_bit_identical_to_the_scalar_reference_including_wraparound()
    {
        Skip.IfNot(InverseDctVector.IsSupported, "AVX2 not available");
        var random = new Random(42);
        short[] coefficients = new short[64];
        int[] quant = new int[64];
        byte[] expected = new byte[8 * 11], actual = new byte[8 * 11];
        for (int round = 0; round < 20000; round++)
        {
            // Mix realistic sparse blocks with extreme ones that exercise libjpeg's modulo-1024 range limit.
            int magnitude = round % 4 == 0 ? 2047 : round % 4 == 1 ? 300 : 60;
            for (int i = 0; i < 64; i++)
            {
                coefficients[i] = (short)(random.Next(3) == 0 || i == 0 ? random.Next(-magnitude, magnitude + 1) : 0);
                quant[i] = round % 3 == 0 ? 1 + random.Next(255) : 1 + random.Next(40);
            }

            InverseDct.TransformScalar(coefficients, quant, expected, 11);
            InverseDct.Transform(coefficients, quant, actual, 11);
            for (int r = 0; r < 8; r++)
            {
                Assert.True(expected.AsSpan(r * 11, 8).SequenceEqual(actual.AsSpan(r * 11, 8)), $"round {round} row {r}");
            }
        }
    }

    [SkippableFact]
    public void Two_block_idct_is_bit_identical_to_the_scalar_reference_for_both_blocks()
    {
        Skip.IfNot(InverseDctPair.IsSupported, "AVX-512 not available");
        var random = new Random(7);
        short[] a = new short[64], b = new short[64];
        int[] quant = new int[64];
        byte[] expectedA = new byte[8 * 11], expectedB = new byte[8 * 13], actualA = new byte[8 * 11], actualB = new byte[8 * 13];
        for (int round = 0; round < 20000; round++)
        {
            int magnitude = round % 4 == 0 ? 2047 : round % 4 == 1 ? 300 : 60;
            for (int i = 0; i < 64; i++)
            {
                a[i] = (short)(random.Next(3) == 0 || i == 0 ? random.Next(-magnitude, magnitude + 1) : 0);
                b[i] = (short)(random.Next(3) == 0 || i == 0 ? random.Next(-magnitude, magnitude + 1) : 0);
                quant[i] = round % 3 == 0 ? 1 + random.Next(255) : 1 + random.Next(40);
            }

            InverseDct.TransformScalar(a, quant, expectedA, 11);
            InverseDct.TransformScalar(b, quant, expectedB, 13);
            InverseDctPair.Transform(a, b, quant, actualA, 11, actualB, 13);
            for (int r = 0; r < 8; r++)
            {
                Assert.True(expectedA.AsSpan(r * 11, 8).SequenceEqual(actualA.AsSpan(r * 11, 8)), $"round {round} block A row {r}");
                Assert.True(expectedB.AsSpan(r * 13, 8).SequenceEqual(actualB.AsSpan(r * 13, 8)), $"round {round} block B row {r}");
            }
        }
    }

    [Theory]
    [InlineData(0, 128)]
    [InlineData(8, 129)]
    [InlineData(-8, 127)]
    [InlineData(1016, 255)]
    [InlineData(-1024, 0)]
    [InlineData(4096, 0)] // 512 wraps to −512, which clamps to 0 (a saturating IDCT would give 255).
    [InlineData(7200, 4)] // 900 wraps to −124, +128 = 4.
    [InlineData(-3, 128)] // (−3 + 4) >> 3 = 0.
    [InlineData(-5, 127)] // (−5 + 4) >> 3 = −1: rounding is floor((x + 4) / 8), not symmetric.
    [InlineData(-32768, 128)] // −4096 wraps to 0.
    public void Dc_only_block_is_flat_with_libjpeg_rounding_and_wraparound(int dc, int expected)
    {
        short[] coefficients = new short[64];
        coefficients[0] = (short)dc;
        int[] quant = Enumerable.Repeat(1, 64).ToArray();
        byte[] scalar = new byte[64], vector = new byte[64];
        InverseDct.TransformScalar(coefficients, quant, scalar, 8);
        InverseDct.Transform(coefficients, quant, vector, 8);
        byte[] dcOnly = new byte[64];
        InverseDct.TransformDcOnly(dc, dcOnly, 8);
        Assert.All(scalar, b => Assert.Equal(expected, b));
        Assert.Equal(scalar, vector);
        Assert.Equal(scalar, dcOnly);
    }
}
