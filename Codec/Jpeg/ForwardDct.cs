using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// The accurate integer forward DCT of the IJG library ("islow", jfdctint.c semantics): the
/// Loeffler–Ligtenberg–Moschytz factorization with 13-bit fixed-point constants, rows first (outputs
/// scaled up by 2^PASS1_BITS), then columns (scaled back down). The result is the true 2-D DCT
/// multiplied by 8, which the quantizer folds into its divisor. Every rounding step matters for
/// byte-identical output, so the vector path performs exactly the scalar path's operations per lane.
/// </summary>
internal static class ForwardDct
{
    private const int ConstBits = 13;
    private const int Pass1Bits = 2;

    // round(x · 2^13) for the rotation constants of the LL&M flow graph.
    internal const int F0298631336 = 2446;
    internal const int F0390180644 = 3196;
    internal const int F0541196100 = 4433;
    internal const int F0765366865 = 6270;
    internal const int F0899976223 = 7373;
    internal const int F1175875602 = 9633;
    internal const int F1501321110 = 12299;
    internal const int F1847759065 = 15137;
    internal const int F1961570560 = 16069;
    internal const int F2053119869 = 16819;
    internal const int F2562915447 = 20995;
    internal const int F3072711026 = 25172;

    /// <summary>In-place transform of 64 level-shifted samples (natural order).</summary>
    public static void TransformScalar(Span<int> block)
    {
        for (int row = 0; row < 8; row++)
        {
            Transform1D(block.Slice(row * 8, 8), 1, firstPass: true);
        }

        for (int col = 0; col < 8; col++)
        {
            Transform1D(block[col..], 8, firstPass: false);
        }
    }

    private static void Transform1D(Span<int> d, int step, bool firstPass)
    {
        int tmp0 = d[0] + d[7 * step], tmp7 = d[0] - d[7 * step];
        int tmp1 = d[step] + d[6 * step], tmp6 = d[step] - d[6 * step];
        int tmp2 = d[2 * step] + d[5 * step], tmp5 = d[2 * step] - d[5 * step];
        int tmp3 = d[3 * step] + d[4 * step], tmp4 = d[3 * step] - d[4 * step];

        // Even part.
        int tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
        int shift = firstPass ? ConstBits - Pass1Bits : ConstBits + Pass1Bits;
        if (firstPass)
        {
            d[0] = (tmp10 + tmp11) << Pass1Bits;
            d[4 * step] = (tmp10 - tmp11) << Pass1Bits;
        }
        else
        {
            d[0] = Descale(tmp10 + tmp11, Pass1Bits);
            d[4 * step] = Descale(tmp10 - tmp11, Pass1Bits);
        }

        int z1 = (tmp12 + tmp13) * F0541196100;
        d[2 * step] = Descale(z1 + (tmp13 * F0765366865), shift);
        d[6 * step] = Descale(z1 - (tmp12 * F1847759065), shift);

        // Odd part.
        z1 = tmp4 + tmp7;
        int z2 = tmp5 + tmp6, z3 = tmp4 + tmp6, z4 = tmp5 + tmp7;
        int z5 = (z3 + z4) * F1175875602;
        tmp4 *= F0298631336;
        tmp5 *= F2053119869;
        tmp6 *= F3072711026;
        tmp7 *= F1501321110;
        z1 *= -F0899976223;
        z2 *= -F2562915447;
        z3 = (z3 * -F1961570560) + z5;
        z4 = (z4 * -F0390180644) + z5;
        d[7 * step] = Descale(tmp4 + z1 + z3, shift);
        d[5 * step] = Descale(tmp5 + z2 + z4, shift);
        d[3 * step] = Descale(tmp6 + z2 + z3, shift);
        d[step] = Descale(tmp7 + z1 + z4, shift);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Descale(int x, int n) => (x + (1 << (n - 1))) >> n;

    /// <summary>Whether <see cref="Transform(ref Vector256{int})"/> may be used on this machine.</summary>
    public static bool IsVectorized => Avx2.IsSupported;

    /// <summary>
    /// In-place transform of eight rows held in eight consecutive vectors (row r in lane order),
    /// leaving the coefficients in natural order in the same vectors. Requires AVX2.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transform(ref Vector256<int> rows)
    {
        ref Vector256<int> r0 = ref rows;
        Vector256<int> a0 = r0, a1 = Unsafe.Add(ref r0, 1), a2 = Unsafe.Add(ref r0, 2), a3 = Unsafe.Add(ref r0, 3);
        Vector256<int> a4 = Unsafe.Add(ref r0, 4), a5 = Unsafe.Add(ref r0, 5), a6 = Unsafe.Add(ref r0, 6), a7 = Unsafe.Add(ref r0, 7);

        // Pass 1 works along rows: transpose so that each vector holds one column position of all rows.
        Transpose(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
        Butterfly(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7, firstPass: true);

        // Pass 2 works along columns: transpose back so vector r holds row r again.
        Transpose(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7);
        Butterfly(ref a0, ref a1, ref a2, ref a3, ref a4, ref a5, ref a6, ref a7, firstPass: false);

        r0 = a0;
        Unsafe.Add(ref r0, 1) = a1;
        Unsafe.Add(ref r0, 2) = a2;
        Unsafe.Add(ref r0, 3) = a3;
        Unsafe.Add(ref r0, 4) = a4;
        Unsafe.Add(ref r0, 5) = a5;
        Unsafe.Add(ref r0, 6) = a6;
        Unsafe.Add(ref r0, 7) = a7;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Butterfly(
        ref Vector256<int> d0, ref Vector256<int> d1, ref Vector256<int> d2, ref Vector256<int> d3,
        ref Vector256<int> d4, ref Vector256<int> d5, ref Vector256<int> d6, ref Vector256<int> d7, bool firstPass)
    {
        Vector256<int> tmp0 = d0 + d7, tmp7 = d0 - d7, tmp1 = d1 + d6, tmp6 = d1 - d6;
        Vector256<int> tmp2 = d2 + d5, tmp5 = d2 - d5, tmp3 = d3 + d4, tmp4 = d3 - d4;
        Vector256<int> tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;
        int shift = firstPass ? ConstBits - Pass1Bits : ConstBits + Pass1Bits;
        Vector256<int> round = Vector256.Create(1 << (shift - 1));
        if (firstPass)
        {
            d0 = (tmp10 + tmp11) << Pass1Bits;
            d4 = (tmp10 - tmp11) << Pass1Bits;
        }
        else
        {
            Vector256<int> r1 = Vector256.Create(1 << (Pass1Bits - 1));
            d0 = (tmp10 + tmp11 + r1) >> Pass1Bits;
            d4 = (tmp10 - tmp11 + r1) >> Pass1Bits;
        }

        Vector256<int> z1 = (tmp12 + tmp13) * F0541196100;
        d2 = (z1 + (tmp13 * F0765366865) + round) >> shift;
        d6 = (z1 - (tmp12 * F1847759065) + round) >> shift;

        z1 = tmp4 + tmp7;
        Vector256<int> z2 = tmp5 + tmp6, z3 = tmp4 + tmp6, z4 = tmp5 + tmp7;
        Vector256<int> z5 = (z3 + z4) * F1175875602;
        tmp4 *= F0298631336;
        tmp5 *= F2053119869;
        tmp6 *= F3072711026;
        tmp7 *= F1501321110;
        z1 *= -F0899976223;
        z2 *= -F2562915447;
        z3 = (z3 * -F1961570560) + z5;
        z4 = (z4 * -F0390180644) + z5;
        d7 = (tmp4 + z1 + z3 + round) >> shift;
        d5 = (tmp5 + z2 + z4 + round) >> shift;
        d3 = (tmp6 + z2 + z3 + round) >> shift;
        d1 = (tmp7 + z1 + z4 + round) >> shift;
    }

    /// <summary>Transposes an 8x8 matrix of 32-bit lanes held as eight row vectors.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(
        ref Vector256<int> r0, ref Vector256<int> r1, ref Vector256<int> r2, ref Vector256<int> r3,
        ref Vector256<int> r4, ref Vector256<int> r5, ref Vector256<int> r6, ref Vector256<int> r7)
    {
        Vector256<int> t0 = Avx2.UnpackLow(r0, r1), t1 = Avx2.UnpackHigh(r0, r1);
        Vector256<int> t2 = Avx2.UnpackLow(r2, r3), t3 = Avx2.UnpackHigh(r2, r3);
        Vector256<int> t4 = Avx2.UnpackLow(r4, r5), t5 = Avx2.UnpackHigh(r4, r5);
        Vector256<int> t6 = Avx2.UnpackLow(r6, r7), t7 = Avx2.UnpackHigh(r6, r7);
        Vector256<int> u0 = Avx2.UnpackLow(t0.AsInt64(), t2.AsInt64()).AsInt32();
        Vector256<int> u1 = Avx2.UnpackHigh(t0.AsInt64(), t2.AsInt64()).AsInt32();
        Vector256<int> u2 = Avx2.UnpackLow(t1.AsInt64(), t3.AsInt64()).AsInt32();
        Vector256<int> u3 = Avx2.UnpackHigh(t1.AsInt64(), t3.AsInt64()).AsInt32();
        Vector256<int> u4 = Avx2.UnpackLow(t4.AsInt64(), t6.AsInt64()).AsInt32();
        Vector256<int> u5 = Avx2.UnpackHigh(t4.AsInt64(), t6.AsInt64()).AsInt32();
        Vector256<int> u6 = Avx2.UnpackLow(t5.AsInt64(), t7.AsInt64()).AsInt32();
        Vector256<int> u7 = Avx2.UnpackHigh(t5.AsInt64(), t7.AsInt64()).AsInt32();
        r0 = Avx2.Permute2x128(u0, u4, 0x20);
        r4 = Avx2.Permute2x128(u0, u4, 0x31);
        r1 = Avx2.Permute2x128(u1, u5, 0x20);
        r5 = Avx2.Permute2x128(u1, u5, 0x31);
        r2 = Avx2.Permute2x128(u2, u6, 0x20);
        r6 = Avx2.Permute2x128(u2, u6, 0x31);
        r3 = Avx2.Permute2x128(u3, u7, 0x20);
        r7 = Avx2.Permute2x128(u3, u7, 0x31);
    }
}
