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
    private readonly int[] _window = new int[MaxWindow * MaxWindow];
    private readonly int[] _b1 = new int[MaxWindow * MaxWindow];

    /// <summary>Predicts a w x h luma block at (x, y) of <paramref name="dst"/> from <paramref name="reference"/> with motion (mvx, mvy) in quarter samples.</summary>
    public void PredictLuma(DecodedPicture reference, Span<byte> dst, int stride, int x, int y, int w, int h, int mvx, int mvy)
    {
        int xi = x + (mvx >> 2), yi = y + (mvy >> 2);
        int xf = mvx & 3, yf = mvy & 3;
        int pw = reference.Width, ph = reference.Height;
        byte[] src = reference.Y;
        int ww = w + 5;
        int wh = h + 5;
        int[] win = _window;
        bool inside = xi - 2 >= 0 && yi - 2 >= 0 && xi + w + 3 <= pw && yi + h + 3 <= ph;
        for (int j = 0; j < wh; j++)
        {
            int sy = yi - 2 + j;
            int row = (inside ? sy : Math.Clamp(sy, 0, ph - 1)) * pw;
            for (int i = 0; i < ww; i++)
            {
                int sx = xi - 2 + i;
                win[(j * ww) + i] = src[row + (inside ? sx : Math.Clamp(sx, 0, pw - 1))];
            }
        }

        if (xf == 0 && yf == 0)
        {
            for (int j = 0; j < h; j++)
            {
                for (int i = 0; i < w; i++)
                {
                    dst[((y + j) * stride) + x + i] = (byte)win[((j + 2) * ww) + i + 2];
                }
            }

            return;
        }

        // Horizontal 6-tap intermediates b1 for every window row (needed by j).
        if (xf != 0)
        {
            for (int j = 0; j < wh; j++)
            {
                int wr = j * ww;
                for (int i = 0; i < w; i++)
                {
                    int o = wr + i;
                    _b1[o] = win[o] - (5 * win[o + 1]) + (20 * win[o + 2]) + (20 * win[o + 3]) - (5 * win[o + 4]) + win[o + 5];
                }
            }
        }

        for (int j = 0; j < h; j++)
        {
            for (int i = 0; i < w; i++)
            {
                int v;
                int gIdx = ((j + 2) * ww) + i + 2;
                switch ((xf << 2) | yf)
                {
                    case 0x4: v = (win[gIdx] + B(j, i, ww) + 1) >> 1; break; // a
                    case 0x8: v = B(j, i, ww); break; // b
                    case 0xC: v = (win[gIdx + 1] + B(j, i, ww) + 1) >> 1; break; // c
                    case 0x1: v = (win[gIdx] + Hv(win, gIdx, ww) + 1) >> 1; break; // d
                    case 0x2: v = Hv(win, gIdx, ww); break; // h
                    case 0x3: v = (win[gIdx + ww] + Hv(win, gIdx, ww) + 1) >> 1; break; // n
                    case 0x5: v = (B(j, i, ww) + Hv(win, gIdx, ww) + 1) >> 1; break; // e
                    case 0xD: v = (B(j, i, ww) + Hv(win, gIdx + 1, ww) + 1) >> 1; break; // g
                    case 0x7: v = (Hv(win, gIdx, ww) + B(j + 1, i, ww) + 1) >> 1; break; // p
                    case 0xF: v = (Hv(win, gIdx + 1, ww) + B(j + 1, i, ww) + 1) >> 1; break; // r
                    case 0x9: v = (B(j, i, ww) + J(j, i, ww) + 1) >> 1; break; // f
                    case 0xB: v = (J(j, i, ww) + B(j + 1, i, ww) + 1) >> 1; break; // q
                    case 0x6: v = (Hv(win, gIdx, ww) + J(j, i, ww) + 1) >> 1; break; // i
                    case 0xE: v = (J(j, i, ww) + Hv(win, gIdx + 1, ww) + 1) >> 1; break; // k
                    default: v = J(j, i, ww); break; // j
                }

                dst[((y + j) * stride) + x + i] = (byte)v;
            }
        }
    }

    // b at block position (i, j): rounded horizontal half sample between G and H.
    private int B(int j, int i, int ww) => Clip((_b1[((j + 2) * ww) + i] + 16) >> 5);

    // h at window index g: rounded vertical half sample between G and M.
    private static int Hv(int[] win, int g, int ww)
    {
        int v = win[g - (2 * ww)] - (5 * win[g - ww]) + (20 * win[g]) + (20 * win[g + ww]) - (5 * win[g + (2 * ww)]) + win[g + (3 * ww)];
        return Clip((v + 16) >> 5);
    }

    // j: the centre half sample from the unrounded horizontal intermediates.
    private int J(int j, int i, int ww)
    {
        int o = ((j + 2) * ww) + i;
        int v = _b1[o - (2 * ww)] - (5 * _b1[o - ww]) + (20 * _b1[o]) + (20 * _b1[o + ww]) - (5 * _b1[o + (2 * ww)]) + _b1[o + (3 * ww)];
        return Clip((v + 512) >> 10);
    }

    private static int Clip(int v) => v < 0 ? 0 : v > 255 ? 255 : v;

    /// <summary>Predicts a w x h chroma block at chroma (x, y) from one plane with the luma motion vector.</summary>
    public static void PredictChroma(byte[] src, int pw, int ph, Span<byte> dst, int stride, int x, int y, int w, int h, int mvx, int mvy)
    {
        int xi = x + (mvx >> 3), yi = y + (mvy >> 3);
        int xf = mvx & 7, yf = mvy & 7;
        int wA = (8 - xf) * (8 - yf), wB = xf * (8 - yf), wC = (8 - xf) * yf, wD = xf * yf;
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
