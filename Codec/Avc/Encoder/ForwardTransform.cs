using System.Runtime.CompilerServices;
namespace JpegLm.Codec.Avc.Encoder;

/// <summary>
/// The encoder's half of clause 8.5: the forward 4x4 integer core transform, the 4x4 luma DC and
/// 2x2 chroma DC Hadamard transforms, and dead-zone quantization whose reconstruction is exactly the
/// decoder's <see cref="InverseTransform"/> scaling. Also the x264-style decimation score that
/// drops blocks holding only a few isolated ±1 levels (they cost more bits than they repair).
/// </summary>
[SkipLocalsInit]
internal static class ForwardTransform
{
    // Quantization multipliers MF = 2^15 / (LevelScale * PF) per qP % 6 for positions
    // (even, even), (odd, odd) and the rest: the reciprocal of the normAdjust4x4 table of 8-315.
    private static readonly int[,] Multiplier = { { 13107, 5243, 8066 }, { 11916, 4660, 7490 }, { 10082, 4194, 6554 }, { 9362, 3647, 5825 }, { 8192, 3355, 5243 }, { 7282, 2893, 4559 } };

    /// <summary>MF per qP % 6 and raster position within a 4x4 block.</summary>
    private static readonly int[][] PositionMultiplier = Build();

    // x264's decimation weights by the run of zeros before a ±1 level (a run of 6 or more is free).
    private static readonly byte[] DecimateWeight = [3, 2, 2, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

    /// <summary>Forward core transform (the transpose pair of 8.5.12.2's butterflies) of a raster 4x4 residual, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Forward4x4(Span<int> d)
    {
        for (int i = 0; i < 4; i++)
        {
            int r = i * 4;
            int a = d[r] + d[r + 3], b = d[r + 1] + d[r + 2], c = d[r + 1] - d[r + 2], e = d[r] - d[r + 3];
            d[r] = a + b;
            d[r + 1] = (2 * e) + c;
            d[r + 2] = a - b;
            d[r + 3] = e - (2 * c);
        }

        for (int j = 0; j < 4; j++)
        {
            int a = d[j] + d[12 + j], b = d[4 + j] + d[8 + j], c = d[4 + j] - d[8 + j], e = d[j] - d[12 + j];
            d[j] = a + b;
            d[4 + j] = (2 * e) + c;
            d[8 + j] = a - b;
            d[12 + j] = e - (2 * c);
        }
    }

    /// <summary>
    /// Quantizes coefficients <paramref name="first"/>..15 of a raster 4x4 block in place; returns
    /// how many levels are nonzero. <paramref name="intra"/> picks the rounding offset (1/3 of a
    /// step for intra, 1/6 for inter, as JM and x264 do).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Quantize4x4(Span<int> c, int qp, bool intra, int first)
    {
        int[] mf = PositionMultiplier[qp % 6];
        int qbits = 15 + (qp / 6);
        int f = intra ? (1 << qbits) / 3 : (1 << qbits) / 6;
        int nonZero = 0;
        for (int i = first; i < 16; i++)
        {
            int v = c[i];
            int level = ((Math.Abs(v) * mf[i]) + f) >> qbits;
            level = Math.Min(level, CavlcResidualWriter.MaxLevel);
            c[i] = v < 0 ? -level : level;
            nonZero += level != 0 ? 1 : 0;
        }

        return nonZero;
    }

    /// <summary>Intra 16x16 luma DC: Hadamard of the 16 DC coefficients (raster 4x4), halved, quantized in place.</summary>
    public static int QuantizeLumaDc(Span<int> dc, int qp)
    {
        Span<int> t = stackalloc int[16];
        for (int i = 0; i < 4; i++)
        {
            int a = dc[i * 4], b = dc[(i * 4) + 1], c = dc[(i * 4) + 2], d = dc[(i * 4) + 3];
            t[i * 4] = a + b + c + d;
            t[(i * 4) + 1] = a + b - c - d;
            t[(i * 4) + 2] = a - b - c + d;
            t[(i * 4) + 3] = a - b + c - d;
        }

        int mf = PositionMultiplier[qp % 6][0];
        int qbits = 16 + (qp / 6);
        int f = (1 << qbits) / 3;
        int nonZero = 0;
        for (int j = 0; j < 4; j++)
        {
            int a = t[j], b = t[4 + j], c = t[8 + j], d = t[12 + j];
            nonZero += QuantDc(dc, j, (a + b + c + d) >> 1, mf, f, qbits);
            nonZero += QuantDc(dc, 4 + j, (a + b - c - d) >> 1, mf, f, qbits);
            nonZero += QuantDc(dc, 8 + j, (a - b - c + d) >> 1, mf, f, qbits);
            nonZero += QuantDc(dc, 12 + j, (a - b + c - d) >> 1, mf, f, qbits);
        }

        return nonZero;
    }

    /// <summary>Chroma DC: 2x2 Hadamard of four DC coefficients (raster), quantized in place.</summary>
    public static int QuantizeChromaDc(Span<int> dc, int qpc, bool intra)
    {
        int f0 = dc[0] + dc[1] + dc[2] + dc[3];
        int f1 = dc[0] - dc[1] + dc[2] - dc[3];
        int f2 = dc[0] + dc[1] - dc[2] - dc[3];
        int f3 = dc[0] - dc[1] - dc[2] + dc[3];
        int mf = PositionMultiplier[qpc % 6][0];
        int qbits = 16 + (qpc / 6);
        int f = intra ? (1 << qbits) / 3 : (1 << qbits) / 6;
        return QuantDc(dc, 0, f0, mf, f, qbits) + QuantDc(dc, 1, f1, mf, f, qbits) + QuantDc(dc, 2, f2, mf, f, qbits) + QuantDc(dc, 3, f3, mf, f, qbits);
    }

    private static int QuantDc(Span<int> dst, int i, int v, int mf, int f, int qbits)
    {
        int level = Math.Min(((Math.Abs(v) * mf) + f) >> qbits, CavlcResidualWriter.MaxLevel);
        dst[i] = v < 0 ? -level : level;
        return level != 0 ? 1 : 0;
    }

    /// <summary>
    /// Decimation score of a raster block's levels from scan position <paramref name="first"/>:
    /// 9 or more when any |level| &gt; 1, else the sum of weights of the zero runs before each ±1.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int DecimateScore(ReadOnlySpan<int> raster, int first)
    {
        int i = 15;
        while (i >= first && raster[Macroblock.ZigZag[i]] == 0)
        {
            i--;
        }

        int score = 0;
        while (i >= first)
        {
            int v = raster[Macroblock.ZigZag[i]];
            if (v > 1 || v < -1)
            {
                return 9;
            }

            // Each level pays by the run of zeros below it (towards DC).
            i--;
            int run = 0;
            while (i >= first && raster[Macroblock.ZigZag[i]] == 0)
            {
                run++;
                i--;
            }

            score += DecimateWeight[run];
        }

        return score;
    }

    private static int[][] Build()
    {
        var t = new int[6][];
        for (int m = 0; m < 6; m++)
        {
            t[m] = new int[16];
            for (int i = 0; i < 16; i++)
            {
                int x = i & 3, y = i >> 2;
                t[m][i] = (x & 1) == 0 && (y & 1) == 0 ? Multiplier[m, 0] : (x & 1) == 1 && (y & 1) == 1 ? Multiplier[m, 1] : Multiplier[m, 2];
            }
        }

        return t;
    }
}
