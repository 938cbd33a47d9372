using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace JpegLm.Codec.Avc;

/// <summary>
/// Fractional sample interpolation of clause 8.4.2.2: quarter-sample luma with the 6-tap filter
/// (8.4.2.2.1) and eighth-sample bilinear chroma (8.4.2.2.2). Reference samples outside the picture
/// repeat the nearest edge sample (the clamping in equations 8-239/8-240). Optional explicit weights
/// (8.4.2.3.2).
/// </summary>
internal sealed class InterPrediction
{
    // Edge-clamped window: up to 21 x 21 samples (a 16 x 16 block and its 6-tap support) in rows of 24, plus
    // slack, so the 16-lane loads below (which read up to 21 bytes from a row's start) stay inside it.
    private const int WindowStride = 24;
    private readonly byte[] _window = new byte[(21 * WindowStride) + 32];

    /// <summary>Predicts a w x h luma block at (x, y) of <paramref name="dst"/> from <paramref name="reference"/> with motion (mvx, mvy) in quarter samples.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void PredictLuma(DecodedPicture reference, Span<byte> dst, int stride, int x, int y, int w, int h, int mvx, int mvy)
    {
        int xi = x + (mvx >> 2), yi = y + (mvy >> 2);
        int xf = mvx & 3, yf = mvy & 3;
        int pw = reference.Width, ph = reference.Height;

        // Source samples: the reference itself when the 6-tap support lies inside the picture (and every
        // 16-lane load, which reads up to 19 bytes right of the block's first column, stays in the array),
        // otherwise a window filled with edge-clamped samples (equations 8-239, 8-240).
        byte[] src;
        int ss, g0; // stride and index of G (the integer sample of the block's top-left)
        if (xi - 2 >= 0 && yi - 2 >= 0 && xi + w + 3 <= pw && yi + h + 3 <= ph && ((yi + h + 2) * pw) + xi + 19 <= reference.Y.Length)
        {
            src = reference.Y;
            ss = pw;
            g0 = (yi * pw) + xi;
        }
        else
        {
            src = _window;
            ss = WindowStride;
            FillWindow(reference.Y, pw, ph, xi - 2, yi - 2, w + 5, h + 5);
            g0 = (2 * ss) + 2;
        }

        ref byte g = ref src[g0];
        _ = src.AsSpan(g0 - (2 * ss) - 2, ((h + 4) * ss) + 21); // every load below: rows -2..h+2, columns -2..+18 of G
        ref byte d = ref dst[(y * stride) + x];
        _ = dst.Slice((y * stride) + x, ((h - 1) * stride) + w); // the block lies inside dst
        if (xf == 0 && yf == 0)
        {
            for (int j = 0; j < h; j++)
            {
                Store(ref Unsafe.Add(ref d, j * stride), Load(ref Unsafe.Add(ref g, j * ss)), w);
            }

            return;
        }

        if (yf == 0)
        {
            // a, b, c: the horizontal half sample b, averaged with G or its right neighbour for a and c.
            for (int j = 0; j < h; j++)
            {
                ref byte row = ref Unsafe.Add(ref g, j * ss);
                Vector256<short> b = Half(Tap6H(ref Unsafe.Subtract(ref row, 2)));
                Store(ref Unsafe.Add(ref d, j * stride), xf == 2 ? b : Avg(b, Load(ref Unsafe.Add(ref row, xf >> 1))), w);
            }

            return;
        }

        if (xf == 0)
        {
            // d, h, n: the vertical half sample h, averaged with G or the sample below it for d and n.
            for (int j = 0; j < h; j++)
            {
                ref byte row = ref Unsafe.Add(ref g, j * ss);
                Vector256<short> hh = Half(Tap6V(ref Unsafe.Subtract(ref row, 2 * ss), ss));
                Store(ref Unsafe.Add(ref d, j * stride), yf == 2 ? hh : Avg(hh, Load(ref Unsafe.Add(ref row, (yf >> 1) * ss))), w);
            }

            return;
        }

        if (xf != 2 && yf != 2)
        {
            // e, g, p, r: the mean of the nearest b (this row or the next) and h (this column or the next).
            for (int j = 0; j < h; j++)
            {
                ref byte row = ref Unsafe.Add(ref g, j * ss);
                Vector256<short> b = Half(Tap6H(ref Unsafe.Add(ref row, ((yf >> 1) * ss) - 2)));
                Vector256<short> hh = Half(Tap6V(ref Unsafe.Add(ref row, (xf >> 1) - (2 * ss)), ss));
                Store(ref Unsafe.Add(ref d, j * stride), Avg(b, hh), w);
            }

            return;
        }

        // j and the positions that average it: f, q (with b above or below) and i, k (with h left or right).
        // j is the 6-tap of the unrounded b1 values of rows -2..h+2, in 32 bits (it reaches about 450,000).
        Span<Vector256<short>> b1 = stackalloc Vector256<short>[21];
        for (int j = 0; j < h + 5; j++)
        {
            b1[j] = Tap6H(ref Unsafe.Add(ref g, ((j - 2) * ss) - 2));
        }

        for (int j = 0; j < h; j++)
        {
            Vector256<short> jj = Center(b1.Slice(j, 6));
            Vector256<short> other = xf == 2
                ? (yf == 2 ? jj : Half(b1[j + 2 + (yf >> 1)]))
                : Half(Tap6V(ref Unsafe.Add(ref g, (j * ss) + (xf >> 1) - (2 * ss)), ss));
            Store(ref Unsafe.Add(ref d, j * stride), Avg(jj, other), w);
        }
    }

    // Copies the w x h area at (x0, y0) of a plane into the window, repeating edge samples outside it.
    private void FillWindow(byte[] plane, int pw, int ph, int x0, int y0, int w, int h)
    {
        for (int j = 0; j < h; j++)
        {
            int row = Math.Clamp(y0 + j, 0, ph - 1) * pw;
            Span<byte> dst = _window.AsSpan(j * WindowStride, w);
            if (x0 >= 0 && x0 + w <= pw)
            {
                plane.AsSpan(row + x0, w).CopyTo(dst);
                continue;
            }

            for (int i = 0; i < w; i++)
            {
                dst[i] = plane[row + Math.Clamp(x0 + i, 0, pw - 1)];
            }
        }
    }

    // The 6-tap filter (1, -5, 20, 20, -5, 1) over 16 horizontally adjacent positions, s at the leftmost tap.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Tap6H(ref byte s) =>
        Tap6(Load(ref s), Load(ref Unsafe.Add(ref s, 1)), Load(ref Unsafe.Add(ref s, 2)), Load(ref Unsafe.Add(ref s, 3)), Load(ref Unsafe.Add(ref s, 4)), Load(ref Unsafe.Add(ref s, 5)));

    // The same filter down 16 columns, s at the top tap.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Tap6V(ref byte s, nint ss) =>
        Tap6(Load(ref s), Load(ref Unsafe.Add(ref s, ss)), Load(ref Unsafe.Add(ref s, 2 * ss)), Load(ref Unsafe.Add(ref s, 3 * ss)), Load(ref Unsafe.Add(ref s, 4 * ss)), Load(ref Unsafe.Add(ref s, 5 * ss)));

    // Samples give sums in -2550..10710, which 16-bit lanes hold.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Tap6(Vector256<short> a, Vector256<short> b, Vector256<short> c, Vector256<short> d, Vector256<short> e, Vector256<short> f) =>
        a + f - ((b + e) * (short)5) + ((c + d) * (short)20);

    // j (equation 8-245 and 8-246): the 6-tap of six b1 rows, rounded by 10 bits, in 32-bit lanes.
    private static Vector256<short> Center(ReadOnlySpan<Vector256<short>> b1)
    {
        (Vector256<int> a0, Vector256<int> a1) = Vector256.Widen(b1[0]);
        (Vector256<int> b0, Vector256<int> bb1) = Vector256.Widen(b1[1]);
        (Vector256<int> c0, Vector256<int> c1) = Vector256.Widen(b1[2]);
        (Vector256<int> d0, Vector256<int> d1) = Vector256.Widen(b1[3]);
        (Vector256<int> e0, Vector256<int> e1) = Vector256.Widen(b1[4]);
        (Vector256<int> f0, Vector256<int> f1) = Vector256.Widen(b1[5]);
        Vector256<int> round = Vector256.Create(512), max = Vector256.Create(255);
        Vector256<int> lo = a0 + f0 - ((b0 + e0) * 5) + ((c0 + d0) * 20) + round;
        Vector256<int> hi = a1 + f1 - ((bb1 + e1) * 5) + ((c1 + d1) * 20) + round;
        lo = Vector256.Min(Vector256.Max(lo >> 10, Vector256<int>.Zero), max);
        hi = Vector256.Min(Vector256.Max(hi >> 10, Vector256<int>.Zero), max);
        return Vector256.Narrow(lo, hi);
    }

    // A half sample from its 6-tap sum: (sum + 16) >> 5, clipped (equations 8-243, 8-244).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Half(Vector256<short> sum) =>
        Vector256.Min(Vector256.Max((sum + Vector256.Create((short)16)) >> 5, Vector256<short>.Zero), Vector256.Create((short)255));

    // The rounded mean of two predictions (equations 8-250..8-261).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Avg(Vector256<short> a, Vector256<short> b) => (a + b + Vector256.Create((short)1)) >> 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Load(ref byte p) => DeblockingKernels.Load(ref p);

    // Writes the first w (4, 8 or 16) lanes of a row.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(ref byte p, Vector256<short> v, int w)
    {
        Vector128<byte> bytes = Vector128.Narrow(v.GetLower().AsUInt16(), v.GetUpper().AsUInt16());
        if (w == 16)
        {
            bytes.StoreUnsafe(ref p);
        }
        else if (w == 8)
        {
            Unsafe.WriteUnaligned(ref p, bytes.AsUInt64().ToScalar());
        }
        else
        {
            Unsafe.WriteUnaligned(ref p, bytes.AsUInt32().ToScalar());
        }
    }

    private static int Clip(int v) => v < 0 ? 0 : v > 255 ? 255 : v;

    /// <summary>Predicts a w x h chroma block at chroma (x, y) from one plane with the luma motion vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PredictChroma(byte[] src, int pw, int ph, Span<byte> dst, int stride, int x, int y, int w, int h, int mvx, int mvy)
    {
        int xi = x + (mvx >> 3), yi = y + (mvy >> 3);
        int xf = mvx & 7, yf = mvy & 7;
        int wA = (8 - xf) * (8 - yf), wB = xf * (8 - yf), wC = (8 - xf) * yf, wD = xf * yf;
        if (xi >= 0 && yi >= 0 && xi + w < pw && yi + h < ph && ((yi + h) * pw) + xi + 9 <= src.Length)
        {
            // 8 lanes per row (8-byte loads reach 9 bytes right of the block's first column, checked above).
            _ = dst.Slice((y * stride) + x, ((h - 1) * stride) + w);
            ref byte s = ref src[(yi * pw) + xi];
            ref byte d = ref dst[(y * stride) + x];
            Vector128<short> a = Vector128.Create((short)wA), b = Vector128.Create((short)wB), c = Vector128.Create((short)wC), dd = Vector128.Create((short)wD);
            Vector128<short> top = Load8(ref s), topRight = Load8(ref Unsafe.Add(ref s, 1));
            for (int j = 0; j < h; j++)
            {
                ref byte next = ref Unsafe.Add(ref s, (j + 1) * pw);
                Vector128<short> bottom = Load8(ref next), bottomRight = Load8(ref Unsafe.Add(ref next, 1));
                Vector128<short> v = ((top * a) + (topRight * b) + (bottom * c) + (bottomRight * dd) + Vector128.Create((short)32)) >> 6;
                Vector128<byte> bytes = Vector128.Narrow(v.AsUInt16(), v.AsUInt16());
                ref byte o = ref Unsafe.Add(ref d, j * stride);
                if (w == 8)
                {
                    Unsafe.WriteUnaligned(ref o, bytes.AsUInt64().ToScalar());
                }
                else if (w == 4)
                {
                    Unsafe.WriteUnaligned(ref o, bytes.AsUInt32().ToScalar());
                }
                else
                {
                    Unsafe.WriteUnaligned(ref o, bytes.AsUInt16().ToScalar());
                }

                top = bottom;
                topRight = bottomRight;
            }

            return;
        }

        for (int j = 0; j < h; j++)
        {
            int y0 = Math.Clamp(yi + j, 0, ph - 1) * pw;
            int y1 = Math.Clamp(yi + j + 1, 0, ph - 1) * pw;
            for (int i = 0; i < w; i++)
            {
                int x0 = Math.Clamp(xi + i, 0, pw - 1);
                int x1 = Math.Clamp(xi + i + 1, 0, pw - 1);
                dst[((y + j) * stride) + x + i] = (byte)(((wA * src[y0 + x0]) + (wB * src[y0 + x1]) + (wC * src[y1 + x0]) + (wD * src[y1 + x1]) + 32) >> 6);
            }
        }
    }

    // 8 samples widened to 16-bit lanes.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<short> Load8(ref byte p) => Vector128.WidenLower(Vector128.CreateScalar(Unsafe.ReadUnaligned<ulong>(ref p)).AsByte()).AsInt16();

    /// <summary>Applies explicit weighted prediction (8-270) to a w x h block in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Weight(Span<byte> dst, int stride, int x, int y, int w, int h, int logWd, int weight, int offset)
    {
        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < w; i++)
            {
                int idx = ((y + j) * stride) + x + i;
                int v = logWd >= 1 ? (((dst[idx] * weight) + (1 << (logWd - 1))) >> logWd) + offset : (dst[idx] * weight) + offset;
                dst[idx] = (byte)Clip(v);
            }
        }
    }
}
