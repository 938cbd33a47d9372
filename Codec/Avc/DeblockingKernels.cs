using System.Runtime.CompilerServices;
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
        Vector256<short> a = Vector256.Create((short)alpha), b = Vector256.Create((short)beta);
        Vector256<short> filter = Vector256.LessThan(Vector256.Abs(vp0 - vq0), a) & Vector256.LessThan(Vector256.Abs(vp1 - vp0), b)
            & Vector256.LessThan(Vector256.Abs(vq1 - vq0), b) & Vector256.GreaterThan(bS, Vector256<short>.Zero);
        if (filter == Vector256<short>.Zero)
        {
            return;
        }

        Vector256<short> vp2 = Load(ref Unsafe.Add(ref p3, stride)), vq2 = Load(ref Unsafe.Add(ref p3, 6 * stride));
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
        Vector256<short> a = Vector256.Create((short)alpha), b = Vector256.Create((short)beta);
        Vector256<short> filter = Vector256.LessThan(Vector256.Abs(vp0 - vq0), a) & Vector256.LessThan(Vector256.Abs(vp1 - vp0), b)
            & Vector256.LessThan(Vector256.Abs(vq1 - vq0), b) & Vector256.GreaterThan(bS, Vector256<short>.Zero);
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

    private static Vector256<short> Clamp(Vector256<short> v, Vector256<short> limit) => Vector256.Min(Vector256.Max(v, -limit), limit);

    private static Vector256<short> Clip255(Vector256<short> v) => Vector256.Min(Vector256.Max(v, Vector256<short>.Zero), Vector256.Create((short)255));
}
