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

    /// <summary>Filters every macroblock edge of <paramref name="pic"/>; <paramref name="slices"/> is indexed by slice id.</summary>
    public static void Filter(DecodedPicture pic, PictureState state, IReadOnlyList<SliceFilterParams> slices)
    {
        int w = state.WidthInMbs;
        Span<int> bs = stackalloc int[4];
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
                    bool any = false;
                    for (int k = 0; k < 4; k++)
                    {
                        // q block: column e, row k (vertical edges) or row e, column k (horizontal).
                        int qb = dir == 0 ? e + (4 * k) : k + (4 * e);
                        int pb = e == 0 ? (dir == 0 ? 3 + (4 * k) : k + 12) : (dir == 0 ? qb - 1 : qb - 4);
                        bs[k] = Strength(state, a, qb, n, pb, e == 0);
                        any |= bs[k] != 0;
                    }

                    if (!any)
                    {
                        continue;
                    }

                    int qpAv = (state.QpY[a] + state.QpY[n] + 1) >> 1;
                    FilterLumaEdge(pic, mbx, mby, dir, e, bs, qpAv, sp);
                    if ((e & 1) == 0)
                    {
                        int qpc = (InverseTransform.ChromaQp(state.QpY[a], sp.ChromaQpOffset) + InverseTransform.ChromaQp(state.QpY[n], sp.ChromaQpOffset) + 1) >> 1;
                        FilterChromaEdge(pic.U, pic.Width / 2, mbx, mby, dir, e / 2, bs, qpc, sp);
                        FilterChromaEdge(pic.V, pic.Width / 2, mbx, mby, dir, e / 2, bs, qpc, sp);
                    }
                }
            }
        }
    }

    private static int Strength(PictureState s, int q, int qb, int p, int pb, bool mbEdge)
    {
        bool qIntra = s.Kind[q] >= MacroblockKind.I4x4;
        bool pIntra = s.Kind[p] >= MacroblockKind.I4x4;
        if (qIntra || pIntra)
        {
            return mbEdge ? 4 : 3;
        }

        if (s.TotalCoeff[(q * PictureState.CoeffSlots) + qb] != 0 || s.TotalCoeff[(p * PictureState.CoeffSlots) + pb] != 0)
        {
            return 2;
        }

        int q8 = (((qb >> 2) >> 1) * 2) + ((qb & 3) >> 1);
        int p8 = (((pb >> 2) >> 1) * 2) + ((pb & 3) >> 1);
        if (s.RefPicId[(q * 4) + q8] != s.RefPicId[(p * 4) + p8])
        {
            return 1;
        }

        int qm = (q * 32) + (2 * qb), pm = (p * 32) + (2 * pb);
        return Math.Abs(s.Mv[qm] - s.Mv[pm]) >= 4 || Math.Abs(s.Mv[qm + 1] - s.Mv[pm + 1]) >= 4 ? 1 : 0;
    }

    private static unsafe void FilterLumaEdge(DecodedPicture pic, int mbx, int mby, int dir, int e, ReadOnlySpan<int> bs, int qpAv, SliceFilterParams sp)
    {
        int indexA = Math.Clamp(qpAv + sp.OffsetA, 0, 51);
        int alpha = Alpha[indexA];
        int beta = Beta[Math.Clamp(qpAv + sp.OffsetB, 0, 51)];
        if (alpha == 0 || beta == 0)
        {
            return;
        }

        int stride = pic.Width;
        fixed (byte* y = pic.Y)
        {
            FilterLuma(y, stride, mbx, mby, dir, e, bs, alpha, beta, indexA);
        }
    }

    // The sample filters on raw pointers: the edge positions are inside the picture by construction.
    private static unsafe void FilterLuma(byte* y, int stride, int mbx, int mby, int dir, int e, ReadOnlySpan<int> bs, int alpha, int beta, int indexA)
    {
        int origin = (mby * 16 * stride) + (mbx * 16);
        int step = dir == 0 ? 1 : stride; // across the edge
        int along = dir == 0 ? stride : 1;
        int first = origin + (dir == 0 ? e * 4 : e * 4 * stride);
        for (int i = 0; i < 16; i++)
        {
            int strength = bs[i >> 2];
            if (strength == 0)
            {
                continue;
            }

            int q0i = first + (i * along);
            int p0 = y[q0i - step], p1 = y[q0i - (2 * step)], p2 = y[q0i - (3 * step)];
            int q0 = y[q0i], q1 = y[q0i + step], q2 = y[q0i + (2 * step)];
            if (Math.Abs(p0 - q0) >= alpha || Math.Abs(p1 - p0) >= beta || Math.Abs(q1 - q0) >= beta)
            {
                continue;
            }

            int ap = Math.Abs(p2 - p0), aq = Math.Abs(q2 - q0);
            if (strength < 4)
            {
                int tc0 = Tc0[indexA, strength - 1];
                int tc = tc0 + (ap < beta ? 1 : 0) + (aq < beta ? 1 : 0);
                int delta = Math.Clamp((((q0 - p0) << 2) + (p1 - q1) + 4) >> 3, -tc, tc);
                y[q0i - step] = Clip(p0 + delta);
                y[q0i] = Clip(q0 - delta);
                if (ap < beta)
                {
                    y[q0i - (2 * step)] = (byte)(p1 + Math.Clamp((p2 + ((p0 + q0 + 1) >> 1) - (p1 << 1)) >> 1, -tc0, tc0));
                }

                if (aq < beta)
                {
                    y[q0i + step] = (byte)(q1 + Math.Clamp((q2 + ((p0 + q0 + 1) >> 1) - (q1 << 1)) >> 1, -tc0, tc0));
                }
            }
            else
            {
                int p3 = y[q0i - (4 * step)], q3 = y[q0i + (3 * step)];
                bool strong = Math.Abs(p0 - q0) < ((alpha >> 2) + 2);
                if (ap < beta && strong)
                {
                    y[q0i - step] = (byte)((p2 + (2 * p1) + (2 * p0) + (2 * q0) + q1 + 4) >> 3);
                    y[q0i - (2 * step)] = (byte)((p2 + p1 + p0 + q0 + 2) >> 2);
                    y[q0i - (3 * step)] = (byte)(((2 * p3) + (3 * p2) + p1 + p0 + q0 + 4) >> 3);
                }
                else
                {
                    y[q0i - step] = (byte)(((2 * p1) + p0 + q1 + 2) >> 2);
                }

                if (aq < beta && strong)
                {
                    y[q0i] = (byte)((p1 + (2 * p0) + (2 * q0) + (2 * q1) + q2 + 4) >> 3);
                    y[q0i + step] = (byte)((p0 + q0 + q1 + q2 + 2) >> 2);
                    y[q0i + (2 * step)] = (byte)(((2 * q3) + (3 * q2) + q1 + q0 + p0 + 4) >> 3);
                }
                else
                {
                    y[q0i] = (byte)(((2 * q1) + q0 + p1 + 2) >> 2);
                }
            }
        }
    }

    private static unsafe void FilterChromaEdge(byte[] planeArray, int stride, int mbx, int mby, int dir, int e, ReadOnlySpan<int> bs, int qpAv, SliceFilterParams sp)
    {
        int indexA = Math.Clamp(qpAv + sp.OffsetA, 0, 51);
        int alpha = Alpha[indexA];
        int beta = Beta[Math.Clamp(qpAv + sp.OffsetB, 0, 51)];
        if (alpha == 0 || beta == 0)
        {
            return;
        }

        fixed (byte* plane = planeArray)
        {
            FilterChroma(plane, stride, mbx, mby, dir, e, bs, alpha, beta, indexA);
        }
    }

    private static unsafe void FilterChroma(byte* plane, int stride, int mbx, int mby, int dir, int e, ReadOnlySpan<int> bs, int alpha, int beta, int indexA)
    {
        int origin = (mby * 8 * stride) + (mbx * 8);
        int step = dir == 0 ? 1 : stride;
        int along = dir == 0 ? stride : 1;
        int first = origin + (dir == 0 ? e * 4 : e * 4 * stride);
        for (int i = 0; i < 8; i++)
        {
            int strength = bs[i >> 1];
            if (strength == 0)
            {
                continue;
            }

            int q0i = first + (i * along);
            int p0 = plane[q0i - step], p1 = plane[q0i - (2 * step)];
            int q0 = plane[q0i], q1 = plane[q0i + step];
            if (Math.Abs(p0 - q0) >= alpha || Math.Abs(p1 - p0) >= beta || Math.Abs(q1 - q0) >= beta)
            {
                continue;
            }

            if (strength < 4)
            {
                int tc = Tc0[indexA, strength - 1] + 1;
                int delta = Math.Clamp((((q0 - p0) << 2) + (p1 - q1) + 4) >> 3, -tc, tc);
                plane[q0i - step] = Clip(p0 + delta);
                plane[q0i] = Clip(q0 - delta);
            }
            else
            {
                plane[q0i - step] = (byte)(((2 * p1) + p0 + q1 + 2) >> 2);
                plane[q0i] = (byte)(((2 * q1) + q0 + p1 + 2) >> 2);
            }
        }
    }

    private static byte Clip(int v) => (byte)(v < 0 ? 0 : v > 255 ? 255 : v);
}
