using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace JpegLm.Codec.Avc;

/// <summary>Per-slice deblocking parameters (slice header fields and the PPS chroma offset).</summary>
internal readonly record struct SliceFilterParams(int DisableIdc, int OffsetA, int OffsetB, int ChromaQpOffset);

/// <summary>
/// The deblocking filter process of clause 8.7 over a whole decoded picture, macroblocks in address
/// order: boundary strength (8.7.2.1), thresholds alpha/beta/tC0 (Tables 8-16, 8-17) and the
/// bS &lt; 4 and bS = 4 sample filters (8.7.2.3, 8.7.2.4).
/// </summary>
internal static class DeblockingFilter
{
    // Table 8-16, alpha' and beta' for indexA / indexB 0..51 (both 0 below 16).
    private static readonly byte[] Alpha =
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        4, 4, 5, 6, 7, 8, 9, 10, 12, 13, 15, 17, 20, 22, 25, 28, 32, 36, 40, 45, 50, 56, 63, 71,
        80, 90, 101, 113, 127, 144, 162, 182, 203, 226, 255, 255,
    ];

    private static readonly byte[] Beta =
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12,
        13, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18, 18,
    ];

    // Table 8-17, tC0 for bS = 1, 2, 3 and indexA 0..51.
    private static readonly byte[,] Tc0 =
    {
        { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 },
        { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 }, { 0, 0, 0 },
        { 0, 0, 0 }, { 0, 0, 1 }, { 0, 0, 1 }, { 0, 0, 1 }, { 0, 0, 1 }, { 0, 1, 1 }, { 0, 1, 1 }, { 1, 1, 1 },
        { 1, 1, 1 }, { 1, 1, 1 }, { 1, 1, 1 }, { 1, 1, 2 }, { 1, 1, 2 }, { 1, 1, 2 }, { 1, 1, 2 }, { 1, 2, 3 },
        { 1, 2, 3 }, { 2, 2, 3 }, { 2, 2, 4 }, { 2, 3, 4 }, { 2, 3, 4 }, { 3, 3, 5 }, { 3, 4, 6 }, { 3, 4, 6 },
        { 4, 5, 7 }, { 4, 5, 8 }, { 4, 6, 9 }, { 5, 7, 10 }, { 6, 8, 11 }, { 6, 8, 13 }, { 7, 10, 14 }, { 8, 11, 16 },
        { 9, 12, 18 }, { 10, 13, 20 }, { 11, 15, 23 }, { 13, 17, 25 },
    };

    // tC0 lanes by bS (0 and 4 take none) for each indexA: Table 8-17 laid out for the kernels.
    private static readonly short[] Tc0ByStrength = BuildTc0ByStrength();

    /// <summary>Filters every macroblock edge of <paramref name="pic"/>; <paramref name="slices"/> is indexed by slice id.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Filter(DecodedPicture pic, PictureState state, ReadOnlySpan<SliceFilterParams> slices)
    {
        int w = state.WidthInMbs;
        Span<byte> bs = stackalloc byte[4];
        Span<byte> lines = stackalloc byte[8 * 16]; // a vertical edge's lines, transposed into rows
        MacroblockKind[] kind = state.Kind;
        byte[] totals = state.TotalCoeff;
        int[] refPic = state.RefPicId;
        short[] mv = state.Mv;
        for (int a = 0; a < state.MbCount; a++)
        {
            int sid = state.SliceId[a];
            if (sid < 0)
            {
                continue;
            }

            SliceFilterParams sp = slices[sid];
            if (sp.DisableIdc == 1)
            {
                continue;
            }

            int mbx = a % w, mby = a / w;
            bool qIntra = kind[a] >= MacroblockKind.I4x4;
            bool leftEdge = mbx > 0 && (sp.DisableIdc != 2 || state.SliceId[a - 1] == sid) && state.SliceId[a - 1] >= 0;
            bool topEdge = mby > 0 && (sp.DisableIdc != 2 || state.SliceId[a - w] == sid) && state.SliceId[a - w] >= 0;

            // Vertical edges, left to right, then horizontal edges, top to bottom.
            for (int dir = 0; dir < 2; dir++)
            {
                for (int e = 0; e < 4; e++)
                {
                    if (e == 0 && !(dir == 0 ? leftEdge : topEdge))
                    {
                        continue;
                    }

                    int n = e == 0 ? (dir == 0 ? a - 1 : a - w) : a;
                    if (qIntra || kind[n] >= MacroblockKind.I4x4)
                    {
                        // An intra macroblock on either side: 4 on a macroblock edge, 3 inside (8.7.2.1).
                        bs.Fill((byte)(e == 0 ? 4 : 3));
                    }
                    else
                    {
                        int any = 0;
                        for (int k = 0; k < 4; k++)
                        {
                            // q block: column e, row k (vertical edges) or row e, column k (horizontal).
                            int qb = dir == 0 ? e + (4 * k) : k + (4 * e);
                            int pb = e == 0 ? (dir == 0 ? 3 + (4 * k) : k + 12) : (dir == 0 ? qb - 1 : qb - 4);
                            bs[k] = (byte)InterStrength(totals, refPic, mv, a, qb, n, pb);
                            any |= bs[k];
                        }

                        if (any == 0)
                        {
                            continue;
                        }
                    }

                    int qpAv = (state.QpY[a] + state.QpY[n] + 1) >> 1;
                    FilterLumaEdge(pic, mbx, mby, dir, e, bs, qpAv, sp, lines);
                    if ((e & 1) == 0)
                    {
                        int qpc = (InverseTransform.ChromaQp(state.QpY[a], sp.ChromaQpOffset) + InverseTransform.ChromaQp(state.QpY[n], sp.ChromaQpOffset) + 1) >> 1;
                        FilterChromaEdge(pic, mbx, mby, dir, e / 2, bs, qpc, sp, lines);
                    }
                }
            }
        }
    }

    // bS between two blocks of inter macroblocks (8.7.2.1): 2 where either has coefficients, 1 where they use
    // different reference pictures or motion differing by a whole sample or more, else 0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int InterStrength(byte[] totals, int[] refPic, short[] mv, int q, int qb, int p, int pb)
    {
        if (totals[(q * PictureState.CoeffSlots) + qb] != 0 || totals[(p * PictureState.CoeffSlots) + pb] != 0)
        {
            return 2;
        }

        int q8 = ((qb >> 3) * 2) + ((qb & 3) >> 1);
        int p8 = ((pb >> 3) * 2) + ((pb & 3) >> 1);
        if (refPic[(q * 4) + q8] != refPic[(p * 4) + p8])
        {
            return 1;
        }

        int qm = (q * 32) + (2 * qb), pm = (p * 32) + (2 * pb);
        return Math.Abs(mv[qm] - mv[pm]) >= 4 || Math.Abs(mv[qm + 1] - mv[pm + 1]) >= 4 ? 1 : 0;
    }

    // Thresholds of an edge (8.7.2.2): alpha, beta and the row of tC0 by bS; false when alpha or beta is 0
    // (indexA or indexB below 16), where no sample can pass the filterSamplesFlag test.
    private static bool Thresholds(int qpAv, SliceFilterParams sp, out int alpha, out int beta, out int tc0Row)
    {
        int indexA = Math.Clamp(qpAv + sp.OffsetA, 0, 51);
        alpha = Alpha[indexA];
        beta = Beta[Math.Clamp(qpAv + sp.OffsetB, 0, 51)];
        tc0Row = indexA * 5;
        return alpha != 0 && beta != 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FilterLumaEdge(DecodedPicture pic, int mbx, int mby, int dir, int e, ReadOnlySpan<byte> bs, int qpAv, SliceFilterParams sp, Span<byte> lines)
    {
        if (!Thresholds(qpAv, sp, out int alpha, out int beta, out int tc0Row))
        {
            return;
        }

        // Each 4-line group takes its block pair's bS and tC0.
        ReadOnlySpan<short> tc0 = Tc0ByStrength.AsSpan(tc0Row, 5);
        Vector256<short> bsV = Vector256.Create(
            bs[0], bs[0], bs[0], bs[0], bs[1], bs[1], bs[1], bs[1], bs[2], bs[2], bs[2], bs[2], bs[3], bs[3], bs[3], (short)bs[3]);
        Vector256<short> tcV = Vector256.Create(
            tc0[bs[0]], tc0[bs[0]], tc0[bs[0]], tc0[bs[0]], tc0[bs[1]], tc0[bs[1]], tc0[bs[1]], tc0[bs[1]],
            tc0[bs[2]], tc0[bs[2]], tc0[bs[2]], tc0[bs[2]], tc0[bs[3]], tc0[bs[3]], tc0[bs[3]], tc0[bs[3]]);
        int stride = pic.Width;
        Span<byte> y = pic.Y;
        if (dir == 1)
        {
            // Horizontal edge: the lines are columns, so the rows p3..q3 are the kernel's rows as they lie.
            int p3 = (((mby * 16) + (e * 4) - 4) * stride) + (mbx * 16);
            Span<byte> edge = y.Slice(p3, (7 * stride) + 16); // bounds-checked once for the whole 8 x 16 area
            DeblockingKernels.Luma(ref edge[0], stride, bsV, tcV, alpha, beta);
            return;
        }

        int first = (mby * 16 * stride) + (mbx * 16) + (e * 4) - 4;
        Span<byte> rows = y.Slice(first, (15 * stride) + 8); // bounds-checked once for the 16 x 8 area
        DeblockingKernels.Transpose16x8(ref rows[0], stride, lines);
        DeblockingKernels.Luma(ref lines[0], 16, bsV, tcV, alpha, beta);
        DeblockingKernels.Transpose8x16(lines, ref rows[0], stride);
    }

    // Chroma edge ce (0 or 2 in luma units, 0 or 1 here) of both Cb and Cr: lanes 0..7 are Cb lines, 8..15 Cr.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FilterChromaEdge(DecodedPicture pic, int mbx, int mby, int dir, int ce, ReadOnlySpan<byte> bs, int qpAv, SliceFilterParams sp, Span<byte> lines)
    {
        if (!Thresholds(qpAv, sp, out int alpha, out int beta, out int tc0Row))
        {
            return;
        }

        ReadOnlySpan<short> tc0 = Tc0ByStrength.AsSpan(tc0Row, 5);
        short b0 = bs[0], b1 = bs[1], b2 = bs[2], b3 = bs[3];
        Vector256<short> bsV = Vector256.Create(b0, b0, b1, b1, b2, b2, b3, b3, b0, b0, b1, b1, b2, b2, b3, b3);
        short t0 = tc0[b0], t1 = tc0[b1], t2 = tc0[b2], t3 = tc0[b3];
        Vector256<short> tcV = Vector256.Create(t0, t0, t1, t1, t2, t2, t3, t3, t0, t0, t1, t1, t2, t2, t3, t3);
        int stride = pic.Width / 2;
        Span<byte> u = pic.U, v = pic.V;
        if (dir == 1)
        {
            // Horizontal edge: rows p1..q1 of Cb and Cr side by side, 8 samples each.
            int first = (((mby * 8) + (ce * 4) - 2) * stride) + (mbx * 8);
            for (int k = 0; k < 4; k++)
            {
                u.Slice(first + (k * stride), 8).CopyTo(lines.Slice(k * 16, 8));
                v.Slice(first + (k * stride), 8).CopyTo(lines.Slice((k * 16) + 8, 8));
            }

            DeblockingKernels.Chroma(ref lines[0], 16, bsV, tcV, alpha, beta);
            for (int k = 1; k < 3; k++)
            {
                lines.Slice(k * 16, 8).CopyTo(u.Slice(first + (k * stride), 8));
                lines.Slice((k * 16) + 8, 8).CopyTo(v.Slice(first + (k * stride), 8));
            }

            return;
        }

        int left = (mby * 8 * stride) + (mbx * 8) + (ce * 4) - 2;
        for (int i = 0; i < 8; i++)
        {
            int o = left + (i * stride);
            for (int k = 0; k < 4; k++)
            {
                lines[(k * 16) + i] = u[o + k];
                lines[(k * 16) + 8 + i] = v[o + k];
            }
        }

        DeblockingKernels.Chroma(ref lines[0], 16, bsV, tcV, alpha, beta);
        for (int i = 0; i < 8; i++)
        {
            int o = left + (i * stride);
            u[o + 1] = lines[16 + i];
            u[o + 2] = lines[32 + i];
            v[o + 1] = lines[24 + i];
            v[o + 2] = lines[40 + i];
        }
    }

    private static short[] BuildTc0ByStrength()
    {
        var t = new short[52 * 5];
        for (int indexA = 0; indexA < 52; indexA++)
        {
            for (int strength = 1; strength <= 3; strength++)
            {
                t[(indexA * 5) + strength] = Tc0[indexA, strength - 1];
            }
        }

        return t;
    }
}
