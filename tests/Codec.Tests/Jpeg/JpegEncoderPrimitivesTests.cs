using System.Runtime.Intrinsics;
using JpegLm.Codec.Jpeg;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>The vector paths against the scalar reference and against properties of the transform.</summary>
public class JpegEncoderPrimitivesTests
{
    [Fact]
    public void Flat_block_has_only_a_dc_term_of_64_times_the_level()
    {
        foreach (int level in new[] { -128, -1, 0, 1, 127 })
        {
            int[] block = Enumerable.Repeat(level, 64).ToArray();
            ForwardDct.TransformScalar(block);
            Assert.Equal(64 * level, block[0]);
            Assert.All(block.Skip(1), c => Assert.Equal(0, c));
        }
    }

    [SkippableFact]
    public void Vector_dct_equals_the_scalar_dct_on_random_and_extreme_blocks()
    {
        Skip.IfNot(ForwardDct.IsVectorized, "no AVX2 on this machine");
        var random = new Random(42);
        for (int n = 0; n < 3000; n++)
        {
            int[] samples = new int[64];
            for (int i = 0; i < 64; i++)
            {
                samples[i] = n % 3 == 0 ? (random.Next(2) == 0 ? -128 : 127) : random.Next(-128, 128);
            }

            int[] expected = (int[])samples.Clone();
            ForwardDct.TransformScalar(expected);
            var rows = new Vector256<int>[8];
            for (int r = 0; r < 8; r++)
            {
                rows[r] = Vector256.Create(samples.AsSpan(r * 8, 8));
            }

            ForwardDct.Transform(ref rows[0]);
            int[] actual = rows.SelectMany(v => Enumerable.Range(0, 8).Select(i => v.GetElement(i))).ToArray();
            Assert.Equal(expected, actual);
        }
    }

    [SkippableFact]
    public void Two_block_dct_and_quantizer_equal_the_scalar_path_for_both_blocks()
    {
        Skip.IfNot(ForwardDctPair.IsSupported, "no AVX-512 on this machine");
        var random = new Random(5);
        var rows = new Vector512<int>[8];
        short[] actualA = new short[64], actualB = new short[64], expectedA = new short[64], expectedB = new short[64];
        for (int n = 0; n < 3000; n++)
        {
            var quantizer = new JpegQuantizer(Enumerable.Range(0, 64).Select(_ => (ushort)(1 + random.Next(n % 2 == 0 ? 255 : 16))).ToArray());
            int[] a = new int[64], b = new int[64];
            for (int i = 0; i < 64; i++)
            {
                a[i] = n % 3 == 0 ? (random.Next(2) == 0 ? -128 : 127) : random.Next(-128, 128);
                b[i] = random.Next(-128, 128);
            }

            for (int r = 0; r < 8; r++)
            {
                rows[r] = Vector512.Create(Vector256.Create(a.AsSpan(r * 8, 8)), Vector256.Create(b.AsSpan(r * 8, 8)));
            }

            ForwardDctPair.Transform(ref rows[0]);
            ulong maskA = quantizer.QuantizeTwoBlocks(ref rows[0], actualA, actualB, out ulong maskB);
            ForwardDct.TransformScalar(a);
            ForwardDct.TransformScalar(b);
            Assert.Equal(quantizer.QuantizeScalar(a, expectedA), maskA);
            Assert.Equal(quantizer.QuantizeScalar(b, expectedB), maskB);
            Assert.Equal(expectedA, actualA);
            Assert.Equal(expectedB, actualB);
        }
    }

    [SkippableFact]
    public void Vector_quantizer_equals_exact_division_for_every_baseline_divisor_and_numerator()
    {
        Skip.IfNot(ForwardDct.IsVectorized, "no AVX2 on this machine");
        short[] vector = new short[64], scalar = new short[64];
        int[] values = new int[64];
        var rows = new Vector256<int>[8];
        for (int q = 1; q <= 255; q++)
        {
            var quantizer = new JpegQuantizer(Enumerable.Repeat((ushort)q, 64).ToArray());
            Assert.True(quantizer.IsVectorized);
            for (int start = -16384; start < 16384; start += 64)
            {
                for (int i = 0; i < 64; i++)
                {
                    values[i] = start + i;
                }

                ulong maskScalar = quantizer.QuantizeScalar(values, scalar);
                foreach (bool avx512 in new[] { true, false })
                {
                    for (int r = 0; r < 8; r++)
                    {
                        rows[r] = Vector256.Create(values.AsSpan(r * 8, 8));
                    }

                    ulong maskVector = quantizer.Quantize(ref rows[0], vector, avx512);
                    Assert.Equal(scalar, vector);
                    Assert.Equal(maskScalar, maskVector);
                }
            }
        }
    }

    [Fact]
    public void Scalar_quantizer_rounds_half_away_from_zero_in_zig_zag_order()
    {
        var quantizer = new JpegQuantizer(Enumerable.Repeat((ushort)2, 64).ToArray());
        int[] dct = new int[64];
        dct[0] = 8; // 8 / 16 = 0.5 → 1
        dct[1] = -8; // → -1
        dct[8] = 7; // 0.4375 → 0
        dct[63] = -24; // -1.5 → -2
        short[] zz = new short[64];
        ulong mask = quantizer.QuantizeScalar(dct, zz);
        Assert.Equal(1, zz[0]);
        Assert.Equal(-1, zz[1]);
        Assert.Equal(0, zz[2]);
        Assert.Equal(-2, zz[63]);
        Assert.Equal(1UL | 2UL | (1UL << 63), mask);
    }

    [Fact]
    public void Colour_conversion_matches_the_jfif_formula_in_16_bit_fixed_point()
    {
        var random = new Random(7);
        for (int width = 1; width <= 40; width++)
        {
            byte[] rgb = new byte[width * 3];
            random.NextBytes(rgb);
            if (width == 3)
            {
                rgb.AsSpan().Fill(255);
            }

            int padded = width + 9;
            byte[] y = new byte[padded], cb = new byte[padded], cr = new byte[padded];
            JpegColorConverter.RgbToYCbCr(rgb, width, y, cb, cr, padded);
            for (int x = 0; x < padded; x++)
            {
                int p = Math.Min(x, width - 1);
                int r = rgb[3 * p], g = rgb[(3 * p) + 1], b = rgb[(3 * p) + 2];
                static int Fix(double v) => (int)((v * 65536) + 0.5);
                Assert.Equal((Fix(0.299) * r + Fix(0.587) * g + Fix(0.114) * b + 32768) >> 16, y[x]);
                Assert.Equal((-Fix(0.16874) * r - Fix(0.33126) * g + Fix(0.5) * b + (128 << 16) + 32767) >> 16, cb[x]);
                Assert.Equal((Fix(0.5) * r - Fix(0.41869) * g - Fix(0.08131) * b + (128 << 16) + 32767) >> 16, cr[x]);
            }
        }
    }

    [Fact]
    public void Downsampling_uses_libjpegs_alternating_bias()
    {
        byte[] rows = [1, 2, 1, 2, 0, 0, 0, 0, /* second row */ 0, 0, 0, 0, 0, 0, 0, 0];
        byte[] h2v2 = new byte[4];
        ChromaDownsampler.Downsample(rows, 8, 2, 2, h2v2, 4);
        Assert.Equal(new byte[] { 1, 1, 0, 0 }, h2v2); // (3+1)>>2=1, (3+2)>>2=1, (0+1)>>2=0, (0+2)>>2=0
        byte[] h2v1 = new byte[4];
        ChromaDownsampler.Downsample([1, 2, 1, 2, 3, 3, 4, 5], 8, 2, 1, h2v1, 4);
        Assert.Equal(new byte[] { 1, 2, 3, 5 }, h2v1); // (3+0)>>1, (3+1)>>1, (6+0)>>1, (9+1)>>1
    }

    [Fact]
    public void Optimal_tables_stay_within_16_bits_and_form_a_prefix_code()
    {
        // Fibonacci frequencies make the unconstrained Huffman tree as deep as possible.
        long[] frequencies = new long[257];
        long a = 1, b = 1;
        for (int i = 0; i < 40; i++)
        {
            frequencies[i] = a;
            (a, b) = (b, a + b);
        }

        HuffmanTableSpec spec = HuffmanTableOptimizer.Build(frequencies);
        Assert.Equal(40, spec.Values.Length);
        Assert.Equal(40, spec.Bits.Sum(x => x));
        double kraft = 0;
        for (int length = 1; length <= 16; length++)
        {
            kraft += spec.Bits[length - 1] / Math.Pow(2, length);
        }

        Assert.True(kraft < 1.0, "one code point must stay free (no all-ones code)");
        HuffmanCodeTable codes = HuffmanCodeTable.Create(spec);
        Assert.True(codes.Lengths[39] <= codes.Lengths[0], "the most frequent symbol gets the shortest code");
    }
}
