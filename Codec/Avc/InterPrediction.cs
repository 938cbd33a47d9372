using System.Runtime.CompilerServices;

namespace JpegLm.Codec.Avc;

/// <summary>
/// Fractional sample interpolation of clause 8.4.2.2: quarter-sample luma with the 6-tap filter
/// (8.4.2.2.1) and eighth-sample bilinear chroma (8.4.2.2.2). Reference samples outside the picture
/// repeat the nearest edge sample (the clamping in equations 8-239/8-240). Optional explicit weights
/// (8.4.2.3.2).
/// </summary>
internal sealed class InterPrediction
{
    private const int MaxWindow = 21;
    private readonly byte[] _window = new byte[MaxWindow * MaxWindow];
    private readonly int[] _b1 = new int[MaxWindow * MaxWindow];
    private readonly byte[] _bHalf = new byte[MaxWindow * MaxWindow];
    private readonly byte[] _hHalf = new byte[MaxWindow * MaxWindow];
    private readonly byte[] _jHalf = new byte[MaxWindow * MaxWindow];

    /// <summary>Predicts a w x h luma block at (x, y) of <paramref name="dst"/> from <paramref name="reference"/> with motion (mvx, mvy) in quarter samples.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void PredictLuma(DecodedPicture reference, Span<byte> dst, int stride, int x, int y, int w, int h, int mvx, int mvy)
    {
        int xi = x + (mvx >> 2), yi = y + (mvy >> 2);
        int xf = mvx & 3, yf = mvy & 3;
        int pw = reference.Width, ph = reference.Height;

        // Source samples: the reference itself when the 6-tap support lies inside the picture,
        // otherwise a window filled with edge-clamped samples (equations 8-239, 8-240).
        byte[] src;
        int ss, g0; // stride and index of G (the integer sample of the block's top-left)
        if (xi - 2 >= 0 && yi - 2 >= 0 && xi + w + 3 <= pw && yi + h + 3 <= ph)
        {
            src = reference.Y;
            ss = pw;
            g0 = (yi * pw) + xi;
        }
        else
        {
            src = _window;
            ss = w + 5;
            for (int j = 0; j < h + 5; j++)
            {
                int row = Math.Clamp(yi - 2 + j, 0, ph - 1) * pw;
                for (int i = 0; i < ss; i++)
                {
                    src[(j * ss) + i] = reference.Y[row + Math.Clamp(xi - 2 + i, 0, pw - 1)];
                }
            }

            g0 = (2 * ss) + 2;
        }

        if (xf == 0 && yf == 0)
        {
            for (int j = 0; j < h; j++)
            {
                src.AsSpan(g0 + (j * ss), w).CopyTo(dst.Slice(((y + j) * stride) + x, w));
            }

            return;
        }

        const int hs = MaxWindow; // stride of the half-sample planes
        bool needJ = (xf == 2 && yf != 0) || (yf == 2 && xf != 0);
        if (xf != 0)
        {
            // b (row j at plane row j + 2) for rows -2..h+2; raw b1 kept for j.
            int first = needJ ? -2 : 0, last = needJ ? h + 2 : h;
            for (int j = first; j <= last; j++)
            {
                int o = g0 + (j * ss) - 2;
                int d = (j + 2) * hs;
                for (int i = 0; i < w; i++, o++)
                {
                    int v = src[o] - (5 * src[o + 1]) + (20 * src[o + 2]) + (20 * src[o + 3]) - (5 * src[o + 4]) + src[o + 5];
                    _b1[d + i] = v;
                    _bHalf[d + i] = ClipByte((v + 16) >> 5);
                }
            }
        }

        if (yf != 0)
        {
            int cols = xf == 3 ? w + 1 : w;
            for (int j = 0; j < h; j++)
            {
                int o = g0 + (j * ss);
                for (int i = 0; i < cols; i++)
                {
                    int g = o + i;
                    int v = src[g - (2 * ss)] - (5 * src[g - ss]) + (20 * src[g]) + (20 * src[g + ss]) - (5 * src[g + (2 * ss)]) + src[g + (3 * ss)];
                    _hHalf[(j * hs) + i] = ClipByte((v + 16) >> 5);
                }
            }
        }

        if (needJ)
        {
            for (int j = 0; j < h; j++)
            {
                for (int i = 0; i < w; i++)
                {
                    int o = ((j + 2) * hs) + i;
                    int v = _b1[o - (2 * hs)] - (5 * _b1[o - hs]) + (20 * _b1[o]) + (20 * _b1[o + hs]) - (5 * _b1[o + (2 * hs)]) + _b1[o + (3 * hs)];
                    _jHalf[(j * hs) + i] = ClipByte((v + 512) >> 10);
                }
            }
        }

        // Each position is one plane or the rounded mean of two (Table 8-12 and equations 8-250..8-261).
        (byte[] a, int aBase, int aStride) = (xf, yf) switch
        {
            (1, 0) or (0, 1) => (src, g0, ss), // a = (G + b), d = (G + h)
            (3, 0) => (src, g0 + 1, ss), // c = (H + b)
            (0, 3) => (src, g0 + ss, ss), // n = (M + h)
            (2, 0) or (1, 1) or (3, 1) or (2, 1) => (_bHalf, 2 * hs, hs), // b, e, g, f
            (1, 3) or (3, 3) or (2, 3) => (_bHalf, 3 * hs, hs), // s for p, r, q
            (0, 2) or (1, 2) => (_hHalf, 0, hs), // h, i
            (3, 2) => (_hHalf, 1, hs), // m for k
            _ => (_jHalf, 0, hs), // j
        };
        (byte[]? b, int bBase) = (xf, yf) switch
        {
            (1, 0) or (3, 0) => (_bHalf, 2 * hs),
            (0, 1) or (0, 3) or (1, 1) or (1, 3) => (_hHalf, 0),
            (3, 1) or (3, 3) => (_hHalf, 1),
            (2, 1) or (2, 3) or (1, 2) or (3, 2) => (_jHalf, 0),
            _ => (null, 0),
        };
        for (int j = 0; j < h; j++)
        {
            int d = ((y + j) * stride) + x;
            int ao = aBase + (j * aStride);
            if (b == null)
            {
                a.AsSpan(ao, w).CopyTo(dst.Slice(d, w));
                continue;
            }

            int bo = bBase + (j * hs);
            for (int i = 0; i < w; i++)
            {
                dst[d + i] = (byte)((a[ao + i] + b[bo + i] + 1) >> 1);
            }
        }
    }

    private static byte ClipByte(int v) => (byte)(v < 0 ? 0 : v > 255 ? 255 : v);

    private static int Clip(int v) => v < 0 ? 0 : v > 255 ? 255 : v;

    /// <summary>Predicts a w x h chroma block at chroma (x, y) from one plane with the luma motion vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PredictChroma(byte[] src, int pw, int ph, Span<byte> dst, int stride, int x, int y, int w, int h, int mvx, int mvy)
    {
        int xi = x + (mvx >> 3), yi = y + (mvy >> 3);
        int xf = mvx & 7, yf = mvy & 7;
        int wA = (8 - xf) * (8 - yf), wB = xf * (8 - yf), wC = (8 - xf) * yf, wD = xf * yf;
        if (xi >= 0 && yi >= 0 && xi + w < pw && yi + h < ph)
        {
            for (int j = 0; j < h; j++)
            {
                int s0 = ((yi + j) * pw) + xi;
                int d = ((y + j) * stride) + x;
                for (int i = 0; i < w; i++, s0++)
                {
                    dst[d + i] = (byte)(((wA * src[s0]) + (wB * src[s0 + 1]) + (wC * src[s0 + pw]) + (wD * src[s0 + pw + 1]) + 32) >> 6);
                }
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
