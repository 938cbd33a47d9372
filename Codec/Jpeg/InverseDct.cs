using System.Runtime.CompilerServices;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// The accurate integer inverse DCT that <c>djpeg -dct int</c> uses (libjpeg's "islow": the
/// Loeffler–Ligtenberg–Moschytz factorization with 13-bit constants, two extra bits kept between the
/// column and row passes), with libjpeg's post-IDCT range limiting: the descaled value is taken modulo
/// 1024 around zero and then clamped to 0..255 after the +128 level shift. Matching that arithmetic
/// bit for bit is what makes our pixels identical to libjpeg-turbo's.
/// </summary>
internal static class InverseDct
{
    /// <summary>Fractional bits of the multiplier constants.</summary>
    public const int ConstBits = 13;

    /// <summary>Extra precision bits carried from pass 1 to pass 2.</summary>
    public const int Pass1Bits = 2;

    // The rotation constants of the LL&M factorization, round(c · 2^13).
    public const int Fix0_298631336 = 2446;
    public const int Fix0_390180644 = 3196;
    public const int Fix0_541196100 = 4433;
    public const int Fix0_765366865 = 6270;
    public const int Fix0_899976223 = 7373;
    public const int Fix1_175875602 = 9633;
    public const int Fix1_501321110 = 12299;
    public const int Fix1_847759065 = 15137;
    public const int Fix1_961570560 = 16069;
    public const int Fix2_053119869 = 16819;
    public const int Fix2_562915447 = 20995;
    public const int Fix3_072711026 = 25172;

    /// <summary>Dequantizes and inverse-transforms one block with the fastest available implementation.</summary>
    public static unsafe void Transform(ReadOnlySpan<short> coefficients, ReadOnlySpan<int> quant, Span<byte> output, int stride)
    {
        if (InverseDctVector.IsSupported && coefficients.Length >= 64 && quant.Length >= 64 && output.Length >= (7 * stride) + 8)
        {
            fixed (short* c = coefficients)
            fixed (int* q = quant)
            fixed (byte* o = output)
            {
                InverseDctVector.Transform(c, q, o, stride);
            }

            return;
        }

        TransformScalar(coefficients, quant, output, stride);
    }

    /// <summary>
    /// Dequantizes and inverse-transforms one block. <paramref name="coefficients"/> and
    /// <paramref name="quant"/> are in natural (row-major) order; 8×8 samples go to
    /// <paramref name="output"/> with <paramref name="stride"/> bytes between rows.
    /// </summary>
    [SkipLocalsInit]
    public static void TransformScalar(ReadOnlySpan<short> coefficients, ReadOnlySpan<int> quant, Span<byte> output, int stride)
    {
        Span<int> ws = stackalloc int[64];

        // Pass 1: columns, from the dequantized input into the workspace, scaled up by 2^Pass1Bits.
        for (int c = 0; c < 8; c++)
        {
            int in0 = coefficients[c] * quant[c];
            int in1 = coefficients[8 + c] * quant[8 + c];
            int in2 = coefficients[16 + c] * quant[16 + c];
            int in3 = coefficients[24 + c] * quant[24 + c];
            int in4 = coefficients[32 + c] * quant[32 + c];
            int in5 = coefficients[40 + c] * quant[40 + c];
            int in6 = coefficients[48 + c] * quant[48 + c];
            int in7 = coefficients[56 + c] * quant[56 + c];
            Butterfly(in0, in1, in2, in3, in4, in5, in6, in7, ConstBits - Pass1Bits, 1 << (ConstBits - Pass1Bits - 1), ws, c, 8);
        }

        // Pass 2: rows, descaled by the remaining precision and the 8 of the 2-D DCT normalization.
        const int shift = ConstBits + Pass1Bits + 3;
        Span<int> row = stackalloc int[8];
        for (int r = 0; r < 8; r++)
        {
            int o = r * 8;
            Butterfly(ws[o], ws[o + 1], ws[o + 2], ws[o + 3], ws[o + 4], ws[o + 5], ws[o + 6], ws[o + 7], shift, 1 << (shift - 1), row, 0, 1);
            Span<byte> dst = output.Slice(r * stride, 8);
            for (int i = 0; i < 8; i++)
            {
                dst[i] = RangeLimit(row[i]);
            }
        }
    }

    /// <summary>
    /// A block whose AC coefficients are all zero: both islow passes reduce exactly to
    /// (DC·Q + 4) >> 3 in every sample (pass 1 yields DC·Q·4 with no rounding loss), so the block is flat.
    /// </summary>
    public static void TransformDcOnly(int dequantizedDc, Span<byte> output, int stride)
    {
        byte value = RangeLimit((dequantizedDc + 4) >> 3);
        ulong row = value * 0x0101010101010101UL;
        for (int r = 0; r < 8; r++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(output.Slice(r * stride, 8), row);
        }
    }

    /// <summary>
    /// libjpeg's post-IDCT range limit: wrap to −512..511 (its table is indexed by the value masked to
    /// 10 bits), then level-shift by 128 and clamp to 0..255.
    /// </summary>
    public static byte RangeLimit(int descaled)
    {
        int wrapped = ((descaled + 512) & 1023) - 512;
        return (byte)Math.Clamp(wrapped + 128, 0, 255);
    }

    /// <summary>One 8-point islow IDCT; writes the 8 descaled results at out[start + i·step].</summary>
    private static void Butterfly(int in0, int in1, int in2, int in3, int in4, int in5, int in6, int in7, int shift, int round, Span<int> output, int start, int step)
    {
        // Even part: rotator on in2/in6, butterflies with in0/in4.
        int z1 = (in2 + in6) * Fix0_541196100;
        int tmp2 = z1 + (in6 * -Fix1_847759065);
        int tmp3 = z1 + (in2 * Fix0_765366865);
        int tmp0 = (in0 + in4) << ConstBits;
        int tmp1 = (in0 - in4) << ConstBits;
        int tmp10 = tmp0 + tmp3;
        int tmp13 = tmp0 - tmp3;
        int tmp11 = tmp1 + tmp2;
        int tmp12 = tmp1 - tmp2;

        // Odd part (the four-input rotation of the LL&M paper's figure 8).
        int o0 = in7, o1 = in5, o2 = in3, o3 = in1;
        int s1 = o0 + o3, s2 = o1 + o2, s3 = o0 + o2, s4 = o1 + o3;
        int z5 = (s3 + s4) * Fix1_175875602;
        o0 *= Fix0_298631336;
        o1 *= Fix2_053119869;
        o2 *= Fix3_072711026;
        o3 *= Fix1_501321110;
        s1 *= -Fix0_899976223;
        s2 *= -Fix2_562915447;
        s3 = (s3 * -Fix1_961570560) + z5;
        s4 = (s4 * -Fix0_390180644) + z5;
        o0 += s1 + s3;
        o1 += s2 + s4;
        o2 += s2 + s3;
        o3 += s1 + s4;

        output[start] = (tmp10 + o3 + round) >> shift;
        output[start + (7 * step)] = (tmp10 - o3 + round) >> shift;
        output[start + step] = (tmp11 + o2 + round) >> shift;
        output[start + (6 * step)] = (tmp11 - o2 + round) >> shift;
        output[start + (2 * step)] = (tmp12 + o1 + round) >> shift;
        output[start + (5 * step)] = (tmp12 - o1 + round) >> shift;
        output[start + (3 * step)] = (tmp13 + o0 + round) >> shift;
        output[start + (4 * step)] = (tmp13 - o0 + round) >> shift;
    }
}
