using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace JpegLm.Codec.Avc;

/// <summary>
/// The sample filters of clause 8.7.2.3 (bS &lt; 4) and 8.7.2.4 (bS = 4) on 16 lines of one edge at once, in
/// 16-bit lanes (every intermediate fits: the largest is 8 x 255). A "line" is the run of samples across the
/// edge; the kernels take the lines as rows (p3 first), so a horizontal edge is filtered in the picture itself
/// and a vertical one through a transposed copy. Each lane carries its own bS and tC0: one vector covers the
/// four 4-sample groups of a luma edge, or a chroma edge of Cb (lanes 0..7) and Cr (lanes 8..15) together.
/// </summary>
internal static class DeblockingKernels
{
    /// <summary>
    /// Filters 16 luma lines given as 8 rows of 16 samples (p3, p2, p1, p0, q0, q1, q2, q3) starting at
    /// <paramref name="p3"/>, <paramref name="stride"/> bytes apart; p2..q2 are written back.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Luma(ref byte p3, nint stride, Vector256<short> bS, Vector256<short> tc0, int alpha, int beta)
    {
        Vector256<short> vp1 = Load(ref Unsafe.Add(ref p3, 2 * stride)), vp0 = Load(ref Unsafe.Add(ref p3, 3 * stride));
        Vector256<short> vq0 = Load(ref Unsafe.Add(ref p3, 4 * stride)), vq1 = Load(ref Unsafe.Add(ref p3, 5 * stride));
        Vector256<short> filter = FilterSamples(vp1, vp0, vq0, vq1, bS, alpha, beta);
        if (filter == Vector256<short>.Zero)
        {
            return;
        }

        Vector256<short> vp2 = Load(ref Unsafe.Add(ref p3, stride)), vq2 = Load(ref Unsafe.Add(ref p3, 6 * stride));
        Vector256<short> b = Vector256.Create((short)beta);
        Vector256<short> ap = Vector256.LessThan(Vector256.Abs(vp2 - vp0), b), aq = Vector256.LessThan(Vector256.Abs(vq2 - vq0), b);
        Vector256<short> one = Vector256.Create((short)1), two = Vector256.Create((short)2), four = Vector256.Create((short)4);

        // bS < 4 (8.7.2.3): masks are -1 where true, so subtracting them adds one to tC.
        Vector256<short> tc = tc0 - ap - aq;
        Vector256<short> delta = Clamp(Vector256.ShiftRightArithmetic(((vq0 - vp0) << 2) + (vp1 - vq1) + four, 3), tc);
        Vector256<short> p0n = Clip255(vp0 + delta), q0n = Clip255(vq0 - delta);
        Vector256<short> avg = Vector256.ShiftRightArithmetic(vp0 + vq0 + one, 1);
        Vector256<short> p1n = Vector256.ConditionalSelect(ap, vp1 + Clamp(Vector256.ShiftRightArithmetic(vp2 + avg - (vp1 << 1), 1), tc0), vp1);
        Vector256<short> q1n = Vector256.ConditionalSelect(aq, vq1 + Clamp(Vector256.ShiftRightArithmetic(vq2 + avg - (vq1 << 1), 1), tc0), vq1);
        Vector256<short> p2n = vp2, q2n = vq2;

        Vector256<short> is4 = Vector256.Equals(bS, four);
        if (is4 != Vector256<short>.Zero)
        {
            // bS = 4 (8.7.2.4): the strong filter where the edge is smooth enough, else the 3-tap one.
            Vector256<short> vp3 = Load(ref p3), vq3 = Load(ref Unsafe.Add(ref p3, 7 * stride));
            Vector256<short> strong = Vector256.LessThan(Vector256.Abs(vp0 - vq0), Vector256.Create((short)((alpha >> 2) + 2)));
            Vector256<short> sp = ap & strong, sq = aq & strong;
            Vector256<short> sum = vp1 + vp0 + vq0; // shared by the strong p-side taps
            Vector256<short> p0s = Vector256.ConditionalSelect(sp, (vp2 + ((vp1 + vp0 + vq0) << 1) + vq1 + four) >> 3, ((vp1 << 1) + vp0 + vq1 + two) >> 2);
            Vector256<short> p1s = Vector256.ConditionalSelect(sp, (vp2 + sum + two) >> 2, vp1);
            Vector256<short> p2s = Vector256.ConditionalSelect(sp, ((vp3 << 1) + (vp2 * 3) + sum + four) >> 3, vp2);
            Vector256<short> sumQ = vq1 + vq0 + vp0;
            Vector256<short> q0s = Vector256.ConditionalSelect(sq, (vp1 + ((vp0 + vq0 + vq1) << 1) + vq2 + four) >> 3, ((vq1 << 1) + vq0 + vp1 + two) >> 2);
            Vector256<short> q1s = Vector256.ConditionalSelect(sq, (vq2 + sumQ + two) >> 2, vq1);
            Vector256<short> q2s = Vector256.ConditionalSelect(sq, ((vq3 << 1) + (vq2 * 3) + sumQ + four) >> 3, vq2);
            p0n = Vector256.ConditionalSelect(is4, p0s, p0n);
            p1n = Vector256.ConditionalSelect(is4, p1s, p1n);
            p2n = Vector256.ConditionalSelect(is4, p2s, p2n);
            q0n = Vector256.ConditionalSelect(is4, q0s, q0n);
            q1n = Vector256.ConditionalSelect(is4, q1s, q1n);
            q2n = Vector256.ConditionalSelect(is4, q2s, q2n);
        }

        Store(ref Unsafe.Add(ref p3, stride), Vector256.ConditionalSelect(filter, p2n, vp2));
        Store(ref Unsafe.Add(ref p3, 2 * stride), Vector256.ConditionalSelect(filter, p1n, vp1));
        Store(ref Unsafe.Add(ref p3, 3 * stride), Vector256.ConditionalSelect(filter, p0n, vp0));
        Store(ref Unsafe.Add(ref p3, 4 * stride), Vector256.ConditionalSelect(filter, q0n, vq0));
        Store(ref Unsafe.Add(ref p3, 5 * stride), Vector256.ConditionalSelect(filter, q1n, vq1));
        Store(ref Unsafe.Add(ref p3, 6 * stride), Vector256.ConditionalSelect(filter, q2n, vq2));
    }

    /// <summary>
    /// Filters 16 chroma lines given as 4 rows of 16 samples (p1, p0, q0, q1) starting at <paramref name="p1"/>,
    /// <paramref name="stride"/> bytes apart; p0 and q0 are written back (chroma filters touch nothing else).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Chroma(ref byte p1, nint stride, Vector256<short> bS, Vector256<short> tc0, int alpha, int beta)
    {
        Vector256<short> vp1 = Load(ref p1), vp0 = Load(ref Unsafe.Add(ref p1, stride));
        Vector256<short> vq0 = Load(ref Unsafe.Add(ref p1, 2 * stride)), vq1 = Load(ref Unsafe.Add(ref p1, 3 * stride));
        Vector256<short> filter = FilterSamples(vp1, vp0, vq0, vq1, bS, alpha, beta);
        if (filter == Vector256<short>.Zero)
        {
            return;
        }

        Vector256<short> one = Vector256.Create((short)1), two = Vector256.Create((short)2), four = Vector256.Create((short)4);
        Vector256<short> delta = Clamp(Vector256.ShiftRightArithmetic(((vq0 - vp0) << 2) + (vp1 - vq1) + four, 3), tc0 + one);
        Vector256<short> is4 = Vector256.Equals(bS, four);
        Vector256<short> p0n = Vector256.ConditionalSelect(is4, ((vp1 << 1) + vp0 + vq1 + two) >> 2, Clip255(vp0 + delta));
        Vector256<short> q0n = Vector256.ConditionalSelect(is4, ((vq1 << 1) + vq0 + vp1 + two) >> 2, Clip255(vq0 - delta));
        Store(ref Unsafe.Add(ref p1, stride), Vector256.ConditionalSelect(filter, p0n, vp0));
        Store(ref Unsafe.Add(ref p1, 2 * stride), Vector256.ConditionalSelect(filter, q0n, vq0));
    }

    /// <summary>
    /// Transposes the 16 rows of 8 samples at <paramref name="src"/> (a vertical edge's lines, p3..q3 each) into
    /// 8 rows of 16 in <paramref name="dst"/>: row k holds sample k of every line.
    /// </summary>
    public static void Transpose16x8(ref byte src, nint stride, Span<byte> dst)
    {
        if (!Sse2.IsSupported)
        {
            for (int i = 0; i < 16; i++)
            {
                for (int k = 0; k < 8; k++)
                {
                    dst[(k * 16) + i] = Unsafe.Add(ref src, (i * stride) + k);
                }
            }

            return;
        }

        // Interleave bytes of row pairs, then 16-bit pairs, 32-bit quads and 64-bit halves: after the last
        // step each vector is one column of the 16 x 8 block.
        Vector128<byte> a0 = Sse2.UnpackLow(Row8(ref src, 0, stride), Row8(ref src, 1, stride));
        Vector128<byte> a1 = Sse2.UnpackLow(Row8(ref src, 2, stride), Row8(ref src, 3, stride));
        Vector128<byte> a2 = Sse2.UnpackLow(Row8(ref src, 4, stride), Row8(ref src, 5, stride));
        Vector128<byte> a3 = Sse2.UnpackLow(Row8(ref src, 6, stride), Row8(ref src, 7, stride));
        Vector128<byte> a4 = Sse2.UnpackLow(Row8(ref src, 8, stride), Row8(ref src, 9, stride));
        Vector128<byte> a5 = Sse2.UnpackLow(Row8(ref src, 10, stride), Row8(ref src, 11, stride));
        Vector128<byte> a6 = Sse2.UnpackLow(Row8(ref src, 12, stride), Row8(ref src, 13, stride));
        Vector128<byte> a7 = Sse2.UnpackLow(Row8(ref src, 14, stride), Row8(ref src, 15, stride));
        Vector128<ushort> b0 = Sse2.UnpackLow(a0.AsUInt16(), a1.AsUInt16()), b1 = Sse2.UnpackHigh(a0.AsUInt16(), a1.AsUInt16());
        Vector128<ushort> b2 = Sse2.UnpackLow(a2.AsUInt16(), a3.AsUInt16()), b3 = Sse2.UnpackHigh(a2.AsUInt16(), a3.AsUInt16());
        Vector128<ushort> b4 = Sse2.UnpackLow(a4.AsUInt16(), a5.AsUInt16()), b5 = Sse2.UnpackHigh(a4.AsUInt16(), a5.AsUInt16());
        Vector128<ushort> b6 = Sse2.UnpackLow(a6.AsUInt16(), a7.AsUInt16()), b7 = Sse2.UnpackHigh(a6.AsUInt16(), a7.AsUInt16());
        Vector128<uint> c0 = Sse2.UnpackLow(b0.AsUInt32(), b2.AsUInt32()), c1 = Sse2.UnpackHigh(b0.AsUInt32(), b2.AsUInt32());
        Vector128<uint> c2 = Sse2.UnpackLow(b1.AsUInt32(), b3.AsUInt32()), c3 = Sse2.UnpackHigh(b1.AsUInt32(), b3.AsUInt32());
        Vector128<uint> c4 = Sse2.UnpackLow(b4.AsUInt32(), b6.AsUInt32()), c5 = Sse2.UnpackHigh(b4.AsUInt32(), b6.AsUInt32());
        Vector128<uint> c6 = Sse2.UnpackLow(b5.AsUInt32(), b7.AsUInt32()), c7 = Sse2.UnpackHigh(b5.AsUInt32(), b7.AsUInt32());
        ref byte d = ref dst[..128][0];
        Sse2.UnpackLow(c0.AsUInt64(), c4.AsUInt64()).AsByte().StoreUnsafe(ref d);
        Sse2.UnpackHigh(c0.AsUInt64(), c4.AsUInt64()).AsByte().StoreUnsafe(ref Unsafe.Add(ref d, 16));
        Sse2.UnpackLow(c1.AsUInt64(), c5.AsUInt64()).AsByte().StoreUnsafe(ref Unsafe.Add(ref d, 32));
        Sse2.UnpackHigh(c1.AsUInt64(), c5.AsUInt64()).AsByte().StoreUnsafe(ref Unsafe.Add(ref d, 48));
        Sse2.UnpackLow(c2.AsUInt64(), c6.AsUInt64()).AsByte().StoreUnsafe(ref Unsafe.Add(ref d, 64));
        Sse2.UnpackHigh(c2.AsUInt64(), c6.AsUInt64()).AsByte().StoreUnsafe(ref Unsafe.Add(ref d, 80));
        Sse2.UnpackLow(c3.AsUInt64(), c7.AsUInt64()).AsByte().StoreUnsafe(ref Unsafe.Add(ref d, 96));
        Sse2.UnpackHigh(c3.AsUInt64(), c7.AsUInt64()).AsByte().StoreUnsafe(ref Unsafe.Add(ref d, 112));
    }

    /// <summary>The inverse of <see cref="Transpose16x8"/>: 8 rows of 16 back into 16 rows of 8 samples at <paramref name="dst"/>.</summary>
    public static void Transpose8x16(ReadOnlySpan<byte> src, ref byte dst, nint stride)
    {
        if (!Sse2.IsSupported)
        {
            for (int i = 0; i < 16; i++)
            {
                for (int k = 0; k < 8; k++)
                {
                    Unsafe.Add(ref dst, (i * stride) + k) = src[(k * 16) + i];
                }
            }

            return;
        }

        ref byte s = ref MemoryMarshal.GetReference(src[..128]);
        Vector128<byte> k0 = Vector128.LoadUnsafe(ref s), k1 = Vector128.LoadUnsafe(ref s, 16), k2 = Vector128.LoadUnsafe(ref s, 32), k3 = Vector128.LoadUnsafe(ref s, 48);
        Vector128<byte> k4 = Vector128.LoadUnsafe(ref s, 64), k5 = Vector128.LoadUnsafe(ref s, 80), k6 = Vector128.LoadUnsafe(ref s, 96), k7 = Vector128.LoadUnsafe(ref s, 112);
        Vector128<ushort> d0 = Sse2.UnpackLow(k0, k1).AsUInt16(), d1 = Sse2.UnpackHigh(k0, k1).AsUInt16();
        Vector128<ushort> d2 = Sse2.UnpackLow(k2, k3).AsUInt16(), d3 = Sse2.UnpackHigh(k2, k3).AsUInt16();
        Vector128<ushort> d4 = Sse2.UnpackLow(k4, k5).AsUInt16(), d5 = Sse2.UnpackHigh(k4, k5).AsUInt16();
        Vector128<ushort> d6 = Sse2.UnpackLow(k6, k7).AsUInt16(), d7 = Sse2.UnpackHigh(k6, k7).AsUInt16();
        Vector128<uint> e0 = Sse2.UnpackLow(d0, d2).AsUInt32(), e1 = Sse2.UnpackHigh(d0, d2).AsUInt32();
        Vector128<uint> e2 = Sse2.UnpackLow(d4, d6).AsUInt32(), e3 = Sse2.UnpackHigh(d4, d6).AsUInt32();
        Vector128<uint> e4 = Sse2.UnpackLow(d1, d3).AsUInt32(), e5 = Sse2.UnpackHigh(d1, d3).AsUInt32();
        Vector128<uint> e6 = Sse2.UnpackLow(d5, d7).AsUInt32(), e7 = Sse2.UnpackHigh(d5, d7).AsUInt32();
        StoreRows(ref dst, 0, stride, Sse2.UnpackLow(e0, e2).AsUInt64());
        StoreRows(ref dst, 2, stride, Sse2.UnpackHigh(e0, e2).AsUInt64());
        StoreRows(ref dst, 4, stride, Sse2.UnpackLow(e1, e3).AsUInt64());
        StoreRows(ref dst, 6, stride, Sse2.UnpackHigh(e1, e3).AsUInt64());
        StoreRows(ref dst, 8, stride, Sse2.UnpackLow(e4, e6).AsUInt64());
        StoreRows(ref dst, 10, stride, Sse2.UnpackHigh(e4, e6).AsUInt64());
        StoreRows(ref dst, 12, stride, Sse2.UnpackLow(e5, e7).AsUInt64());
        StoreRows(ref dst, 14, stride, Sse2.UnpackHigh(e5, e7).AsUInt64());
    }

    // Row i's 8 samples in the low half of a vector.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> Row8(ref byte src, int i, nint stride) =>
        Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref src, i * stride))).AsByte();

    // Rows i and i + 1 from the low and high halves of a vector.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRows(ref byte dst, int i, nint stride, Vector128<ulong> v)
    {
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, i * stride), v.GetElement(0));
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref dst, (i + 1) * stride), v.GetElement(1));
    }

    /// <summary>16 samples widened to 16-bit lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<short> Load(ref byte p)
    {
        Vector128<byte> v = Vector128.LoadUnsafe(ref p);
        return Avx2.IsSupported ? Avx2.ConvertToVector256Int16(v) : Vector256.Create(Vector128.WidenLower(v), Vector128.WidenUpper(v)).AsInt16();
    }

    /// <summary>16 lanes already within 0..255 narrowed back to samples.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store(ref byte p, Vector256<short> v) =>
        Vector128.Narrow(v.GetLower().AsUInt16(), v.GetUpper().AsUInt16()).StoreUnsafe(ref p);

    // filterSamplesFlag (8.7.2.2), per line of the edge: bS > 0, |p0 - q0| < α, |p1 - p0| < β and |q1 - q0| < β.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> FilterSamples(Vector256<short> vp1, Vector256<short> vp0, Vector256<short> vq0, Vector256<short> vq1,
        Vector256<short> bS, int alpha, int beta)
    {
        Vector256<short> b = Vector256.Create((short)beta);
        return Vector256.LessThan(Vector256.Abs(vp0 - vq0), Vector256.Create((short)alpha)) & Vector256.LessThan(Vector256.Abs(vp1 - vp0), b)
            & Vector256.LessThan(Vector256.Abs(vq1 - vq0), b) & Vector256.GreaterThan(bS, Vector256<short>.Zero);
    }

    private static Vector256<short> Clamp(Vector256<short> v, Vector256<short> limit) => Vector256.Min(Vector256.Max(v, -limit), limit);

    private static Vector256<short> Clip255(Vector256<short> v) => Vector256.Min(Vector256.Max(v, Vector256<short>.Zero), Vector256.Create((short)255));
}
