using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// The interior of the triangle-filter rows of <see cref="Upsampler"/>, eight input samples per step in
/// 16-bit lanes (sums stay below 2^12). The same integer formulas as the scalar code, so identical output;
/// the scalar code does the edges and the tails. With AVX-512BW, 32 samples go per step.
/// </summary>
internal static class UpsamplerVector
{
    public static bool IsSupported => Sse41.IsSupported;

    /// <summary>colSums[i] = 3·near[i] + far[i] for i in 0..n−1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void ColumnSums(byte* near, byte* far, short* sums, int n)
    {
        int i = 0;
        if (Avx512BW.IsSupported)
        {
            for (; i + 32 <= n; i += 32)
            {
                Vector512<short> a = Avx512BW.ConvertToVector512Int16(Avx.LoadVector256(near + i)), b = Avx512BW.ConvertToVector512Int16(Avx.LoadVector256(far + i));
                Avx512BW.Store(sums + i, a + (a << 1) + b);
            }

            if (i < n && n >= 32)
            {
                // The tail as one more step ending at n, overlapping the last one (same values rewritten).
                i = n - 32;
                Vector512<short> a = Avx512BW.ConvertToVector512Int16(Avx.LoadVector256(near + i)), b = Avx512BW.ConvertToVector512Int16(Avx.LoadVector256(far + i));
                Avx512BW.Store(sums + i, a + (a << 1) + b);
                return;
            }
        }

        for (; i + 8 <= n; i += 8)
        {
            Vector128<short> a = Sse41.ConvertToVector128Int16(near + i), b = Sse41.ConvertToVector128Int16(far + i);
            Sse2.Store(sums + i, Sse2.Add(Sse2.Add(a, Sse2.ShiftLeftLogical(a, 1)), b));
        }

        for (; i < n; i++)
        {
            sums[i] = (short)((near[i] * 3) + far[i]);
        }
    }

    /// <summary>
    /// Output pairs 2i, 2i+1 for i in 1..(returned value − 1) of the 2:2 filter: (3·s[i] + s[i−1] + 8) >> 4 and
    /// (3·s[i] + s[i+1] + 7) >> 4. Returns the first i not done.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe int H2V2Interior(short* sums, byte* dst, int n)
    {
        int i = 1;
        if (Avx512BW.IsSupported)
        {
            // unpack and packus work per 128-bit lane, so each lane yields its 8 sample pairs in order.
            Vector512<short> eight512 = Vector512.Create((short)8), seven512 = Vector512.Create((short)7);
            for (; i + 33 <= n; i += 32)
            {
                H2V2Step512(sums, dst, i, eight512, seven512);
            }

            if (i < n - 1 && n >= 34)
            {
                // The tail as one more step ending at n − 2, overlapping the last one (same values rewritten).
                H2V2Step512(sums, dst, n - 33, eight512, seven512);
                return n - 1;
            }
        }

        Vector128<short> eight = Vector128.Create((short)8), seven = Vector128.Create((short)7);
        for (; i + 9 <= n; i += 8)
        {
            Vector128<short> cur = Sse2.LoadVector128(sums + i);
            Vector128<short> cur3 = Sse2.Add(cur, Sse2.ShiftLeftLogical(cur, 1));
            Vector128<short> even = Sse2.ShiftRightArithmetic(Sse2.Add(Sse2.Add(cur3, Sse2.LoadVector128(sums + i - 1)), eight), 4);
            Vector128<short> odd = Sse2.ShiftRightArithmetic(Sse2.Add(Sse2.Add(cur3, Sse2.LoadVector128(sums + i + 1)), seven), 4);
            Sse2.Store(dst + (2 * i), Sse2.PackUnsignedSaturate(Sse2.UnpackLow(even, odd), Sse2.UnpackHigh(even, odd)));
        }

        return i;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void H2V2Step512(short* sums, byte* dst, int i, Vector512<short> eight, Vector512<short> seven)
    {
        Vector512<short> cur = Avx512BW.LoadVector512(sums + i);
        Vector512<short> cur3 = cur + (cur << 1);
        Vector512<short> even = (cur3 + Avx512BW.LoadVector512(sums + i - 1) + eight) >> 4;
        Vector512<short> odd = (cur3 + Avx512BW.LoadVector512(sums + i + 1) + seven) >> 4;
        Avx512BW.Store(dst + (2 * i), Avx512BW.PackUnsignedSaturate(Avx512BW.UnpackLow(even, odd), Avx512BW.UnpackHigh(even, odd)));
    }

    /// <summary>
    /// Output pairs 2i, 2i+1 for i in 1..(returned value − 1) of the 2:1 filter: (3·s[i] + s[i−1] + 1) >> 2 and
    /// (3·s[i] + s[i+1] + 2) >> 2. Returns the first i not done.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe int H2V1Interior(byte* src, byte* dst, int n)
    {
        int i = 1;
        Vector128<short> one = Vector128.Create((short)1), two = Vector128.Create((short)2);
        for (; i + 9 <= n; i += 8)
        {
            Vector128<short> cur = Sse41.ConvertToVector128Int16(src + i);
            Vector128<short> cur3 = Sse2.Add(cur, Sse2.ShiftLeftLogical(cur, 1));
            Vector128<short> even = Sse2.ShiftRightArithmetic(Sse2.Add(Sse2.Add(cur3, Sse41.ConvertToVector128Int16(src + i - 1)), one), 2);
            Vector128<short> odd = Sse2.ShiftRightArithmetic(Sse2.Add(Sse2.Add(cur3, Sse41.ConvertToVector128Int16(src + i + 1)), two), 2);
            Sse2.Store(dst + (2 * i), Sse2.PackUnsignedSaturate(Sse2.UnpackLow(even, odd), Sse2.UnpackHigh(even, odd)));
        }

        return i;
    }
}
