using System.Runtime.CompilerServices;

namespace JpegLm.Codec.Avc;

/// <summary>
/// Scaling (dequantization) and inverse transforms of clause 8.5 with flat scaling matrices:
/// the 4x4 integer transform, the luma DC Hadamard (Intra 16x16) and the chroma DC 2x2 transform.
/// </summary>
internal static class InverseTransform
{
    // normAdjust4x4 values v[m][0..2] (equation 8-315): positions (even,even), (odd,odd), other.
    private static readonly int[,] NormAdjust = { { 10, 16, 13 }, { 11, 18, 14 }, { 13, 20, 16 }, { 14, 23, 18 }, { 16, 25, 20 }, { 18, 29, 23 } };

    /// <summary>LevelScale4x4 / 16 for qP % 6 and raster position (flat weights cancel the 16).</summary>
    public static readonly int[][] LevelScale = BuildLevelScale();

    // Table 8-15: QPC for qPI 30..51.
    private static readonly byte[] ChromaQpTable = [29, 30, 31, 32, 32, 33, 34, 34, 35, 35, 36, 36, 37, 37, 37, 38, 38, 38, 39, 39, 39, 39];

    /// <summary>QPC for a luma QP and chroma_qp_index_offset (clause 8.5.8, Table 8-15).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ChromaQp(int qpY, int offset)
    {
        int qpi = Math.Clamp(qpY + offset, 0, 51);
        return qpi < 30 ? qpi : ChromaQpTable[qpi - 30];
    }

    /// <summary>Scales the AC (or all, when <paramref name="skipDc"/> is false) levels of a raster 4x4 block in place (8.5.12.1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Dequantize(Span<int> c, int qp, bool skipDc)
    {
        int[] scale = LevelScale[qp % 6];
        int shift = qp / 6;
        for (int i = skipDc ? 1 : 0; i < 16; i++)
        {
            if (c[i] != 0)
            {
                c[i] = (c[i] * scale[i]) << shift;
            }
        }
    }

    /// <summary>The 4x4 inverse transform (8.5.12.2) of <paramref name="d"/>, added to the prediction in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AddInverse4x4(Span<int> d, Span<byte> dst, int offset, int stride)
    {
        Span<int> t = stackalloc int[16];
        for (int i = 0; i < 4; i++)
        {
            int d0 = d[i * 4], d1 = d[(i * 4) + 1], d2 = d[(i * 4) + 2], d3 = d[(i * 4) + 3];
            int e0 = d0 + d2, e1 = d0 - d2, e2 = (d1 >> 1) - d3, e3 = d1 + (d3 >> 1);
            t[i * 4] = e0 + e3;
            t[(i * 4) + 1] = e1 + e2;
            t[(i * 4) + 2] = e1 - e2;
            t[(i * 4) + 3] = e0 - e3;
        }

        for (int j = 0; j < 4; j++)
        {
            int f0 = t[j], f1 = t[4 + j], f2 = t[8 + j], f3 = t[12 + j];
            int g0 = f0 + f2, g1 = f0 - f2, g2 = (f1 >> 1) - f3, g3 = f1 + (f3 >> 1);
            AddClip(dst, offset + j, (g0 + g3 + 32) >> 6);
            AddClip(dst, offset + stride + j, (g1 + g2 + 32) >> 6);
            AddClip(dst, offset + (2 * stride) + j, (g1 - g2 + 32) >> 6);
            AddClip(dst, offset + (3 * stride) + j, (g0 - g3 + 32) >> 6);
        }
    }

    /// <summary>
    /// <see cref="AddInverse4x4"/> of a block whose only nonzero coefficient is the (already scaled) DC: every
    /// sample of the transform's output is (dc + 32) >> 6, so it is one addition per sample.
    /// </summary>
    public static void AddDcOnly(int dc, Span<byte> dst, int offset, int stride)
    {
        int r = (dc + 32) >> 6;
        for (int j = 0; j < 4; j++)
        {
            Span<byte> row = dst.Slice(offset + (j * stride), 4);
            for (int i = 0; i < 4; i++)
            {
                int v = row[i] + r;
                row[i] = (byte)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }

    private static void AddClip(Span<byte> dst, int i, int r)
    {
        int v = dst[i] + r;
        dst[i] = (byte)(v < 0 ? 0 : v > 255 ? 255 : v);
    }

    /// <summary>Intra 16x16 luma DC: inverse Hadamard and scaling (8.5.10), raster 4x4 in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void LumaDc(Span<int> c, int qp)
    {
        Span<int> f = stackalloc int[16];
        Hadamard4(c, f);
        int scale = LevelScale[qp % 6][0] * 16;
        int q6 = qp / 6;
        for (int i = 0; i < 16; i++)
        {
            c[i] = qp >= 36 ? (f[i] * scale) << (q6 - 6) : ((f[i] * scale) + (1 << (5 - q6))) >> (6 - q6);
        }
    }

    private static void Hadamard4(ReadOnlySpan<int> c, Span<int> f)
    {
        Span<int> t = stackalloc int[16];
        for (int i = 0; i < 4; i++)
        {
            int a = c[i * 4], b = c[(i * 4) + 1], cc = c[(i * 4) + 2], d = c[(i * 4) + 3];
            t[i * 4] = a + b + cc + d;
            t[(i * 4) + 1] = a + b - cc - d;
            t[(i * 4) + 2] = a - b - cc + d;
            t[(i * 4) + 3] = a - b + cc - d;
        }

        for (int j = 0; j < 4; j++)
        {
            int a = t[j], b = t[4 + j], cc = t[8 + j], d = t[12 + j];
            f[j] = a + b + cc + d;
            f[4 + j] = a + b - cc - d;
            f[8 + j] = a - b - cc + d;
            f[12 + j] = a - b + cc - d;
        }
    }

    /// <summary>Chroma DC 2x2 transform and scaling (8.5.11) of four raster levels in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ChromaDc(Span<int> c, int qpc)
    {
        int f0 = c[0] + c[1] + c[2] + c[3];
        int f1 = c[0] - c[1] + c[2] - c[3];
        int f2 = c[0] + c[1] - c[2] - c[3];
        int f3 = c[0] - c[1] - c[2] + c[3];
        int scale = LevelScale[qpc % 6][0] * 16;
        int q6 = qpc / 6;
        c[0] = ((f0 * scale) << q6) >> 5;
        c[1] = ((f1 * scale) << q6) >> 5;
        c[2] = ((f2 * scale) << q6) >> 5;
        c[3] = ((f3 * scale) << q6) >> 5;
    }

    private static int[][] BuildLevelScale()
    {
        var t = new int[6][];
        for (int m = 0; m < 6; m++)
        {
            t[m] = new int[16];
            for (int i = 0; i < 16; i++)
            {
                int x = i & 3, y = i >> 2;
                t[m][i] = (x & 1) == 0 && (y & 1) == 0 ? NormAdjust[m, 0] : (x & 1) == 1 && (y & 1) == 1 ? NormAdjust[m, 1] : NormAdjust[m, 2];
            }
        }

        return t;
    }
}
