using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// The islow IDCT of <see cref="InverseDctVector"/> on two blocks that share a quantization table, with
/// AVX-512: vector r holds row r of block A in its lower 256 bits and of block B in its upper 256 bits,
/// so each butterfly operation serves both blocks and the transposes work within each half. The lane
/// arithmetic is the 256-bit path's (and so the scalar reference's), hence bit-identical output.
/// </summary>
internal static class InverseDctPair
{
    public static bool IsSupported => Avx512F.IsSupported && Avx512BW.IsSupported;

    /// <summary>
    /// Dequantizes and inverse-transforms blocks <paramref name="a"/> and <paramref name="b"/> (natural order,
    /// both quantized with <paramref name="quant"/>) into 8x8 samples at <paramref name="outputA"/> / <paramref name="outputB"/>.
    /// </summary>
    public static unsafe void Transform(ReadOnlySpan<short> a, ReadOnlySpan<short> b, ReadOnlySpan<int> quant, Span<byte> outputA, int strideA, Span<byte> outputB, int strideB)
    {
        if (a.Length < 64 || b.Length < 64 || quant.Length < 64 || outputA.Length < (7 * strideA) + 8 || outputB.Length < (7 * strideB) + 8)
        {
            throw new ArgumentException("blocks need 64 coefficients and 8 rows of 8 output samples");
        }

        fixed (short* pa = a)
        fixed (short* pb = b)
        fixed (int* q = quant)
        fixed (byte* oa = outputA)
        fixed (byte* ob = outputB)
        {
            Transform(pa, pb, q, oa, strideA, ob, strideB);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void Transform(short* a, short* b, int* quant, byte* outputA, int strideA, byte* outputB, int strideB)
    {
        Vector512<int> r0 = Load(a, b, quant, 0), r1 = Load(a, b, quant, 1), r2 = Load(a, b, quant, 2), r3 = Load(a, b, quant, 3);
        Vector512<int> r4 = Load(a, b, quant, 4), r5 = Load(a, b, quant, 5), r6 = Load(a, b, quant, 6), r7 = Load(a, b, quant, 7);
        Vector512<long> low = BlockPairs.LowLanes, high = BlockPairs.HighLanes;

        // Pass 1: columns (lanes), scaled up by 2^Pass1Bits; pass 2: rows, full descale.
        Butterfly(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, InverseDct.ConstBits - InverseDct.Pass1Bits);
        BlockPairs.Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, low, high);
        Butterfly(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, InverseDct.ConstBits + InverseDct.Pass1Bits + 3);
        BlockPairs.Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, low, high);

        StoreRow(r0, outputA, outputB);
        StoreRow(r1, outputA + strideA, outputB + strideB);
        StoreRow(r2, outputA + (2 * strideA), outputB + (2 * strideB));
        StoreRow(r3, outputA + (3 * strideA), outputB + (3 * strideB));
        StoreRow(r4, outputA + (4 * strideA), outputB + (4 * strideB));
        StoreRow(r5, outputA + (5 * strideA), outputB + (5 * strideB));
        StoreRow(r6, outputA + (6 * strideA), outputB + (6 * strideB));
        StoreRow(r7, outputA + (7 * strideA), outputB + (7 * strideB));
    }

    /// <summary>Row r of both blocks, widened to 32 bits and multiplied by the quantizer row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe Vector512<int> Load(short* a, short* b, int* quant, int r)
    {
        Vector256<short> rows = Vector256.Create(Sse2.LoadVector128(a + (8 * r)), Sse2.LoadVector128(b + (8 * r)));
        Vector256<int> q = Avx.LoadVector256(quant + (8 * r));
        return Avx512F.ConvertToVector512Int32(rows) * Vector512.Create(q, q);
    }

    /// <summary>libjpeg's range limit (wrap to −512..511, add 128, clamp), then eight bytes to each block's row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreRow(Vector512<int> x, byte* outputA, byte* outputB)
    {
        Vector512<int> wrapped = ((x + Vector512.Create(512)) & Vector512.Create(1023)) - Vector512.Create(384);
        Vector512<int> clamped = Vector512.Min(Vector512.Max(wrapped, Vector512<int>.Zero), Vector512.Create(255));
        Vector128<ulong> bytes = Avx512F.ConvertToVector128Byte(clamped).AsUInt64();
        *(ulong*)outputA = bytes.GetElement(0);
        *(ulong*)outputB = bytes.GetElement(1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Butterfly(
        ref Vector512<int> v0, ref Vector512<int> v1, ref Vector512<int> v2, ref Vector512<int> v3,
        ref Vector512<int> v4, ref Vector512<int> v5, ref Vector512<int> v6, ref Vector512<int> v7, [ConstantExpected] int shift)
    {
        Vector512<int> round = Vector512.Create(1 << (shift - 1));

        // Even part.
        Vector512<int> z1 = (v2 + v6) * InverseDct.Fix0_541196100;
        Vector512<int> tmp2 = z1 + (v6 * -InverseDct.Fix1_847759065);
        Vector512<int> tmp3 = z1 + (v2 * InverseDct.Fix0_765366865);
        Vector512<int> tmp0 = ((v0 + v4) << InverseDct.ConstBits) + round;
        Vector512<int> tmp1 = ((v0 - v4) << InverseDct.ConstBits) + round;
        Vector512<int> tmp10 = tmp0 + tmp3, tmp13 = tmp0 - tmp3, tmp11 = tmp1 + tmp2, tmp12 = tmp1 - tmp2;

        // Odd part.
        Vector512<int> o0 = v7, o1 = v5, o2 = v3, o3 = v1;
        Vector512<int> s1 = o0 + o3, s2 = o1 + o2, s3 = o0 + o2, s4 = o1 + o3;
        Vector512<int> z5 = (s3 + s4) * InverseDct.Fix1_175875602;
        o0 *= InverseDct.Fix0_298631336;
        o1 *= InverseDct.Fix2_053119869;
        o2 *= InverseDct.Fix3_072711026;
        o3 *= InverseDct.Fix1_501321110;
        s1 *= -InverseDct.Fix0_899976223;
        s2 *= -InverseDct.Fix2_562915447;
        s3 = (s3 * -InverseDct.Fix1_961570560) + z5;
        s4 = (s4 * -InverseDct.Fix0_390180644) + z5;
        o0 += s1 + s3;
        o1 += s2 + s4;
        o2 += s2 + s3;
        o3 += s1 + s4;

        v0 = (tmp10 + o3) >> shift;
        v7 = (tmp10 - o3) >> shift;
        v1 = (tmp11 + o2) >> shift;
        v6 = (tmp11 - o2) >> shift;
        v2 = (tmp12 + o1) >> shift;
        v5 = (tmp12 - o1) >> shift;
        v3 = (tmp13 + o0) >> shift;
        v4 = (tmp13 - o0) >> shift;
    }
}
