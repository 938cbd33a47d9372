using System.Runtime.CompilerServices;

namespace JpegLm.Codec.Avc;

/// <summary>
/// Intra prediction of clause 8.3, written straight into the picture plane: Intra_4x4 (9 modes,
/// 8.3.1.2), Intra_16x16 (4 modes, 8.3.3) and chroma (4 modes, 8.3.4). The caller says which
/// neighbours are available; a mode that needs a missing one throws.
/// </summary>
internal static class IntraPrediction
{
    /// <summary>Predicts a 4x4 luma block at <paramref name="off"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Predict4x4(Span<byte> p, int off, int stride, int mode, bool left, bool top, bool topLeft, bool topRight)
    {
        // e[0] = corner, e[1..8] = top row (4..7 substituted by p[3,-1] if unavailable); l[0..3] = left column.
        Span<int> t = stackalloc int[9];
        Span<int> l = stackalloc int[4];
        if (top)
        {
            for (int x = 0; x < 4; x++)
            {
                t[1 + x] = p[off - stride + x];
            }

            for (int x = 4; x < 8; x++)
            {
                t[1 + x] = topRight ? p[off - stride + x] : t[4];
            }
        }

        if (left)
        {
            for (int y = 0; y < 4; y++)
            {
                l[y] = p[off + (y * stride) - 1];
            }
        }

        if (topLeft)
        {
            t[0] = p[off - stride - 1];
        }

        Require(mode switch
        {
            0 or 3 or 7 => top,
            1 or 8 => left,
            4 or 5 or 6 => top && left && topLeft,
            _ => true,
        }, "Intra_4x4", mode);

        for (int y = 0; y < 4; y++)
        {
            for (int x = 0; x < 4; x++)
            {
                int v;
                switch (mode)
                {
                    case 0:
                        v = t[1 + x];
                        break;
                    case 1:
                        v = l[y];
                        break;
                    case 2:
                        v = Dc4(t, l, top, left);
                        break;
                    case 3:
                        v = x == 3 && y == 3 ? (t[7] + (3 * t[8]) + 2) >> 2 : (t[1 + x + y] + (2 * t[2 + x + y]) + t[3 + x + y] + 2) >> 2;
                        break;
                    case 4:
                        v = x > y ? (P(t, l, x - y - 2, -1) + (2 * P(t, l, x - y - 1, -1)) + P(t, l, x - y, -1) + 2) >> 2
                            : x < y ? (P(t, l, -1, y - x - 2) + (2 * P(t, l, -1, y - x - 1)) + P(t, l, -1, y - x) + 2) >> 2
                            : (P(t, l, 0, -1) + (2 * t[0]) + l[0] + 2) >> 2;
                        break;
                    case 5:
                        {
                            int z = (2 * x) - y;
                            v = z >= 0 && (z & 1) == 0 ? (P(t, l, x - (y >> 1) - 1, -1) + P(t, l, x - (y >> 1), -1) + 1) >> 1
                                : z > 0 ? (P(t, l, x - (y >> 1) - 2, -1) + (2 * P(t, l, x - (y >> 1) - 1, -1)) + P(t, l, x - (y >> 1), -1) + 2) >> 2
                                : z == -1 ? (l[0] + (2 * t[0]) + t[1] + 2) >> 2
                                : (P(t, l, -1, y - 1) + (2 * P(t, l, -1, y - 2)) + P(t, l, -1, y - 3) + 2) >> 2;
                            break;
                        }

                    case 6:
                        {
                            int z = (2 * y) - x;
                            v = z >= 0 && (z & 1) == 0 ? (P(t, l, -1, y - (x >> 1) - 1) + P(t, l, -1, y - (x >> 1)) + 1) >> 1
                                : z > 0 ? (P(t, l, -1, y - (x >> 1) - 2) + (2 * P(t, l, -1, y - (x >> 1) - 1)) + P(t, l, -1, y - (x >> 1)) + 2) >> 2
                                : z == -1 ? (l[0] + (2 * t[0]) + t[1] + 2) >> 2
                                : (P(t, l, x - 1, -1) + (2 * P(t, l, x - 2, -1)) + P(t, l, x - 3, -1) + 2) >> 2;
                            break;
                        }

                    case 7:
                        v = (y & 1) == 0 ? (t[1 + x + (y >> 1)] + t[2 + x + (y >> 1)] + 1) >> 1
                            : (t[1 + x + (y >> 1)] + (2 * t[2 + x + (y >> 1)]) + t[3 + x + (y >> 1)] + 2) >> 2;
                        break;
                    default:
                        {
                            int z = x + (2 * y);
                            v = z > 5 ? l[3]
                                : z == 5 ? (l[2] + (3 * l[3]) + 2) >> 2
                                : (z & 1) == 0 ? (l[y + (x >> 1)] + l[y + (x >> 1) + 1] + 1) >> 1
                                : (l[y + (x >> 1)] + (2 * l[y + (x >> 1) + 1]) + l[y + (x >> 1) + 2] + 2) >> 2;
                            break;
                        }
                }

                p[off + (y * stride) + x] = (byte)v;
            }
        }
    }

    // p[x,-1] or p[-1,y] (with p[-1,-1] the corner) from the gathered edges.
    private static int P(ReadOnlySpan<int> t, ReadOnlySpan<int> l, int x, int y) => y < 0 ? t[1 + x] : x < 0 ? (y < 0 ? t[0] : l[y]) : 0;

    private static int Dc4(ReadOnlySpan<int> t, ReadOnlySpan<int> l, bool top, bool left)
    {
        int st = t[1] + t[2] + t[3] + t[4];
        int sl = l[0] + l[1] + l[2] + l[3];
        return top && left ? (st + sl + 4) >> 3 : left ? (sl + 2) >> 2 : top ? (st + 2) >> 2 : 128;
    }

    /// <summary>Predicts a 16x16 luma block (Intra_16x16).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Predict16x16(Span<byte> p, int off, int stride, int mode, bool left, bool top, bool topLeft)
    {
        Require(mode switch { 0 => top, 1 => left, 3 => top && left && topLeft, _ => true }, "Intra_16x16", mode);
        PredictSquare(p, off, stride, 16, mode switch { 0 => 0, 1 => 1, 2 => 2, _ => 3 }, left, top, 5, 32);
    }

    /// <summary>Predicts an 8x8 chroma block (intra_chroma_pred_mode: 0 DC, 1 horizontal, 2 vertical, 3 plane).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PredictChroma(Span<byte> p, int off, int stride, int mode, bool left, bool top, bool topLeft)
    {
        Require(mode switch { 1 => left, 2 => top, 3 => top && left && topLeft, _ => true }, "chroma intra", mode);
        if (mode == 0)
        {
            // DC per 4x4 chroma block (8.3.4.1-3): corner blocks use both edges, the others prefer one.
            for (int b = 0; b < 4; b++)
            {
                int xo = (b & 1) * 4, yo = (b >> 1) * 4;
                int st = 0, sl = 0;
                for (int i = 0; i < 4; i++)
                {
                    if (top)
                    {
                        st += p[off - stride + xo + i];
                    }

                    if (left)
                    {
                        sl += p[off + ((yo + i) * stride) - 1];
                    }
                }

                int v;
                if (b == 0 || b == 3)
                {
                    v = top && left ? (st + sl + 4) >> 3 : left ? (sl + 2) >> 2 : top ? (st + 2) >> 2 : 128;
                }
                else if (b == 1)
                {
                    v = top ? (st + 2) >> 2 : left ? (sl + 2) >> 2 : 128;
                }
                else
                {
                    v = left ? (sl + 2) >> 2 : top ? (st + 2) >> 2 : 128;
                }

                for (int y = 0; y < 4; y++)
                {
                    p.Slice(off + ((yo + y) * stride) + xo, 4).Fill((byte)v);
                }
            }

            return;
        }

        PredictSquare(p, off, stride, 8, mode == 1 ? 1 : mode == 2 ? 0 : 3, left, top, 34, 32);
    }

    // Vertical (0), horizontal (1), DC (2) or plane (3) prediction of an n x n square.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PredictSquare(Span<byte> p, int off, int stride, int n, int mode, bool left, bool top, int planeMul, int planeRound)
    {
        switch (mode)
        {
            case 0:
                for (int y = 0; y < n; y++)
                {
                    p.Slice(off - stride, n).CopyTo(p.Slice(off + (y * stride), n));
                }

                break;
            case 1:
                for (int y = 0; y < n; y++)
                {
                    p.Slice(off + (y * stride), n).Fill(p[off + (y * stride) - 1]);
                }

                break;
            case 2:
                {
                    int st = 0, sl = 0;
                    for (int i = 0; i < n; i++)
                    {
                        st += top ? p[off - stride + i] : 0;
                        sl += left ? p[off + (i * stride) - 1] : 0;
                    }

                    int shift = n == 16 ? 4 : 3;
                    int v = top && left ? (st + sl + n) >> (shift + 1) : left ? (sl + (n >> 1)) >> shift : top ? (st + (n >> 1)) >> shift : 128;
                    for (int y = 0; y < n; y++)
                    {
                        p.Slice(off + (y * stride), n).Fill((byte)v);
                    }

                    break;
                }

            default:
                {
                    int half = n / 2;
                    int h = 0, v = 0;
                    for (int i = 0; i < half; i++)
                    {
                        int xr = off - stride + half + i;
                        int xl = off - stride + half - 2 - i;
                        h += (i + 1) * (p[xr] - p[xl]);
                        int yb = off + ((half + i) * stride) - 1;
                        int yt = off + ((half - 2 - i) * stride) - 1;
                        v += (i + 1) * (p[yb] - p[yt]);
                    }

                    int a = 16 * (p[off + ((n - 1) * stride) - 1] + p[off - stride + n - 1]);
                    int b = ((planeMul * h) + planeRound) >> 6;
                    int c = ((planeMul * v) + planeRound) >> 6;
                    for (int y = 0; y < n; y++)
                    {
                        for (int x = 0; x < n; x++)
                        {
                            int s = (a + (b * (x - half + 1)) + (c * (y - half + 1)) + 16) >> 5;
                            p[off + (y * stride) + x] = (byte)(s < 0 ? 0 : s > 255 ? 255 : s);
                        }
                    }

                    break;
                }
        }
    }

    private static void Require(bool ok, string what, int mode)
    {
        if (!ok)
        {
            throw new AvcFormatException($"{what} prediction mode {mode} needs neighbours that are not available", -1);
        }
    }

    /// <summary>Whether an Intra_4x4 mode's neighbours are present (for the grammar checker).</summary>
    public static bool Intra4x4ModeAllowed(int mode, bool left, bool top, bool topLeft) => mode switch
    {
        0 or 3 or 7 => top,
        1 or 8 => left,
        4 or 5 or 6 => top && left && topLeft,
        _ => true,
    };

    /// <summary>Whether an Intra_16x16 mode's neighbours are present.</summary>
    public static bool Intra16x16ModeAllowed(int mode, bool left, bool top, bool topLeft) => mode switch { 0 => top, 1 => left, 3 => top && left && topLeft, _ => true };

    /// <summary>Whether a chroma intra mode's neighbours are present.</summary>
    public static bool ChromaModeAllowed(int mode, bool left, bool top, bool topLeft) => mode switch { 1 => left, 2 => top, 3 => top && left && topLeft, _ => true };
}
