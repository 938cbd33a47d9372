using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// The islow IDCT of <see cref="InverseDct"/> on eight 32-bit lanes: pass 1 runs the column transform
/// on all eight columns at once (one vector per coefficient row), an 8×8 transpose turns rows into
/// lanes for pass 2, and a second transpose brings the samples back to rows. Same integer operations
/// in the same order, so the results are bit-identical to the scalar reference.
/// </summary>
internal static class InverseDctVector
{
    public static bool IsSupported => Avx2.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Transform(short* coefficients, int* quant, byte* output, int stride)
    {
        // Dequantize: coefficient row r times quantizer row r, widened to 32 bits.
        Vector256<int> r0 = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(coefficients), Avx.LoadVector256(quant));
        Vector256<int> r1 = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(coefficients + 8), Avx.LoadVector256(quant + 8));
        Vector256<int> r2 = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(coefficients + 16), Avx.LoadVector256(quant + 16));
        Vector256<int> r3 = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(coefficients + 24), Avx.LoadVector256(quant + 24));
        Vector256<int> r4 = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(coefficients + 32), Avx.LoadVector256(quant + 32));
        Vector256<int> r5 = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(coefficients + 40), Avx.LoadVector256(quant + 40));
        Vector256<int> r6 = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(coefficients + 48), Avx.LoadVector256(quant + 48));
        Vector256<int> r7 = Avx2.MultiplyLow(Avx2.ConvertToVector256Int32(coefficients + 56), Avx.LoadVector256(quant + 56));

        // Pass 1: columns (lanes), scaled up by 2^Pass1Bits.
        const int shift1 = InverseDct.ConstBits - InverseDct.Pass1Bits;
        Butterfly(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, shift1);
        Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);

        // Pass 2: rows (now lanes), full descale.
        const int shift2 = InverseDct.ConstBits + InverseDct.Pass1Bits + 3;
        Butterfly(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7, shift2);
        Transpose(ref r0, ref r1, ref r2, ref r3, ref r4, ref r5, ref r6, ref r7);

        StoreTwoRows(RangeLimit(r0), RangeLimit(r1), output, stride);
        StoreTwoRows(RangeLimit(r2), RangeLimit(r3), output + (2 * stride), stride);
        StoreTwoRows(RangeLimit(r4), RangeLimit(r5), output + (4 * stride), stride);
        StoreTwoRows(RangeLimit(r6), RangeLimit(r7), output + (6 * stride), stride);
    }

    /// <summary>libjpeg's range limit: wrap to −512..511, add 128, clamp to 0..255.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> RangeLimit(Vector256<int> x)
    {
        Vector256<int> wrapped = Avx2.Subtract(Avx2.And(Avx2.Add(x, Vector256.Create(512)), Vector256.Create(1023)), Vector256.Create(384));
        return Avx2.Min(Avx2.Max(wrapped, Vector256<int>.Zero), Vector256.Create(255));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void StoreTwoRows(Vector256<int> a, Vector256<int> b, byte* output, int stride)
    {
        // Values are 0..255: pack to 16 then 8 bits (in-lane packs give a0-3 b0-3 a4-7 b4-7; fix order).
        Vector256<short> words = Avx2.PackSignedSaturate(a, b);
        Vector256<byte> bytes = Avx2.PackUnsignedSaturate(words, words);
        Vector256<int> ordered = Avx2.PermuteVar8x32(bytes.AsInt32(), Vector256.Create(0, 4, 1, 5, 0, 0, 0, 0));
        ulong lo = ordered.AsUInt64().GetElement(0), hi = ordered.AsUInt64().GetElement(1);
        *(ulong*)output = lo;
        *(ulong*)(output + stride) = hi;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Butterfly(
        ref Vector256<int> v0, ref Vector256<int> v1, ref Vector256<int> v2, ref Vector256<int> v3,
        ref Vector256<int> v4, ref Vector256<int> v5, ref Vector256<int> v6, ref Vector256<int> v7, [ConstantExpected] byte shift)
    {
        Vector256<int> round = Vector256.Create(1 << (shift - 1));

        // Even part.
        Vector256<int> z1 = Avx2.MultiplyLow(Avx2.Add(v2, v6), Vector256.Create(InverseDct.Fix0_541196100));
        Vector256<int> tmp2 = Avx2.Add(z1, Avx2.MultiplyLow(v6, Vector256.Create(-InverseDct.Fix1_847759065)));
        Vector256<int> tmp3 = Avx2.Add(z1, Avx2.MultiplyLow(v2, Vector256.Create(InverseDct.Fix0_765366865)));
        Vector256<int> tmp0 = Avx2.ShiftLeftLogical(Avx2.Add(v0, v4), InverseDct.ConstBits);
        Vector256<int> tmp1 = Avx2.ShiftLeftLogical(Avx2.Subtract(v0, v4), InverseDct.ConstBits);
        tmp0 = Avx2.Add(tmp0, round);
        tmp1 = Avx2.Add(tmp1, round);
        Vector256<int> tmp10 = Avx2.Add(tmp0, tmp3);
        Vector256<int> tmp13 = Avx2.Subtract(tmp0, tmp3);
        Vector256<int> tmp11 = Avx2.Add(tmp1, tmp2);
        Vector256<int> tmp12 = Avx2.Subtract(tmp1, tmp2);

        // Odd part.
        Vector256<int> o0 = v7, o1 = v5, o2 = v3, o3 = v1;
        Vector256<int> s1 = Avx2.Add(o0, o3), s2 = Avx2.Add(o1, o2), s3 = Avx2.Add(o0, o2), s4 = Avx2.Add(o1, o3);
        Vector256<int> z5 = Avx2.MultiplyLow(Avx2.Add(s3, s4), Vector256.Create(InverseDct.Fix1_175875602));
        o0 = Avx2.MultiplyLow(o0, Vector256.Create(InverseDct.Fix0_298631336));
        o1 = Avx2.MultiplyLow(o1, Vector256.Create(InverseDct.Fix2_053119869));
        o2 = Avx2.MultiplyLow(o2, Vector256.Create(InverseDct.Fix3_072711026));
        o3 = Avx2.MultiplyLow(o3, Vector256.Create(InverseDct.Fix1_501321110));
        s1 = Avx2.MultiplyLow(s1, Vector256.Create(-InverseDct.Fix0_899976223));
        s2 = Avx2.MultiplyLow(s2, Vector256.Create(-InverseDct.Fix2_562915447));
        s3 = Avx2.Add(Avx2.MultiplyLow(s3, Vector256.Create(-InverseDct.Fix1_961570560)), z5);
        s4 = Avx2.Add(Avx2.MultiplyLow(s4, Vector256.Create(-InverseDct.Fix0_390180644)), z5);
        o0 = Avx2.Add(o0, Avx2.Add(s1, s3));
        o1 = Avx2.Add(o1, Avx2.Add(s2, s4));
        o2 = Avx2.Add(o2, Avx2.Add(s2, s3));
        o3 = Avx2.Add(o3, Avx2.Add(s1, s4));

        v0 = Avx2.ShiftRightArithmetic(Avx2.Add(tmp10, o3), shift);
        v7 = Avx2.ShiftRightArithmetic(Avx2.Subtract(tmp10, o3), shift);
        v1 = Avx2.ShiftRightArithmetic(Avx2.Add(tmp11, o2), shift);
        v6 = Avx2.ShiftRightArithmetic(Avx2.Subtract(tmp11, o2), shift);
        v2 = Avx2.ShiftRightArithmetic(Avx2.Add(tmp12, o1), shift);
        v5 = Avx2.ShiftRightArithmetic(Avx2.Subtract(tmp12, o1), shift);
        v3 = Avx2.ShiftRightArithmetic(Avx2.Add(tmp13, o0), shift);
        v4 = Avx2.ShiftRightArithmetic(Avx2.Subtract(tmp13, o0), shift);
    }

    /// <summary>8×8 transpose of 32-bit lanes (unpack 32, unpack 64, swap 128-bit halves).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose(
        ref Vector256<int> v0, ref Vector256<int> v1, ref Vector256<int> v2, ref Vector256<int> v3,
        ref Vector256<int> v4, ref Vector256<int> v5, ref Vector256<int> v6, ref Vector256<int> v7)
    {
        Vector256<int> t0 = Avx2.UnpackLow(v0, v1), t1 = Avx2.UnpackHigh(v0, v1);
        Vector256<int> t2 = Avx2.UnpackLow(v2, v3), t3 = Avx2.UnpackHigh(v2, v3);
        Vector256<int> t4 = Avx2.UnpackLow(v4, v5), t5 = Avx2.UnpackHigh(v4, v5);
        Vector256<int> t6 = Avx2.UnpackLow(v6, v7), t7 = Avx2.UnpackHigh(v6, v7);
        Vector256<int> u0 = Avx2.UnpackLow(t0.AsInt64(), t2.AsInt64()).AsInt32(), u1 = Avx2.UnpackHigh(t0.AsInt64(), t2.AsInt64()).AsInt32();
        Vector256<int> u2 = Avx2.UnpackLow(t1.AsInt64(), t3.AsInt64()).AsInt32(), u3 = Avx2.UnpackHigh(t1.AsInt64(), t3.AsInt64()).AsInt32();
        Vector256<int> u4 = Avx2.UnpackLow(t4.AsInt64(), t6.AsInt64()).AsInt32(), u5 = Avx2.UnpackHigh(t4.AsInt64(), t6.AsInt64()).AsInt32();
        Vector256<int> u6 = Avx2.UnpackLow(t5.AsInt64(), t7.AsInt64()).AsInt32(), u7 = Avx2.UnpackHigh(t5.AsInt64(), t7.AsInt64()).AsInt32();
        v0 = Avx2.Permute2x128(u0, u4, 0x20);
        v1 = Avx2.Permute2x128(u1, u5, 0x20);
        v2 = Avx2.Permute2x128(u2, u6, 0x20);
        v3 = Avx2.Permute2x128(u3, u7, 0x20);
        v4 = Avx2.Permute2x128(u0, u4, 0x31);
        v5 = Avx2.Permute2x128(u1, u5, 0x31);
        v6 = Avx2.Permute2x128(u2, u6, 0x31);
        v7 = Avx2.Permute2x128(u3, u7, 0x31);
    }
}
