using System.Runtime.CompilerServices;
using JpegLm.Codec.Bitstream;

namespace JpegLm.Codec.Avc.Encoder;

/// <summary>P-slice decisions: P_Skip probe, P_L0_16x16 motion search over every reference, intra fallback.</summary>
internal sealed partial class MacroblockEncoder
{
    private readonly InterPrediction _inter = new();
    private byte[] _scratchY = [];

    // Motion per frame of distance (the chosen vector divided by refIdx + 1) of every macroblock in
    // the current and the previous picture: search starting points, as x264 keeps its last vectors.
    // Only candidates: the coded predictor still follows the slice rules of 8.4.1.3.
    private (short X, short Y, bool Valid)[] _motion = [];
    private (short X, short Y, bool Valid)[] _previousMotion = [];

    /// <summary>Starts a new picture: this picture's motion becomes the previous one's.</summary>
    public void BeginPicture()
    {
        int n = _state.MbCount;
        if (_motion.Length != n)
        {
            _motion = new (short, short, bool)[n];
            _previousMotion = new (short, short, bool)[n];
        }

        (_motion, _previousMotion) = (_previousMotion, _motion);
        Array.Clear(_motion);
    }

    private void RecordMotion(int refIdx, (int X, int Y) mv) => _motion[Mb.Address] = ((short)(mv.X / (refIdx + 1)), (short)(mv.Y / (refIdx + 1)), true);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ChooseInter()
    {
        Macroblock mb = Mb;
        int addr = mb.Address;
        (int x, int y) = MbOrigin(addr);
        _mvp.Address = addr;
        _mvp.SliceId = SliceId;
        _mvp.Assigned = 0;
        (int X, int Y) skip = _mvp.PredictSkip();

        // P_Skip probe (x264's fast skip): if the skip prediction leaves nothing worth coding, stop
        // here. Probed only when the full-sample SAD is small enough for that to be possible.
        if (SkipPossible(x, y, skip))
        {
            PredictInter(0, x, y, 16, 16, skip.X, skip.Y);
            CodeInterLuma();
            CodeChroma(intra: false);
            if (mb.CodedBlockPattern == 0)
            {
                SetSkip();
                RecordMotion(0, skip);
                return;
            }
        }

        int lambda = Lambda;
        _mvp.Assigned = 0;
        int interCost = SearchPartition(x, y, 0, 0, 16, 16, 0) + lambda;
        MacroblockKind kind = MacroblockKind.P16x16;
        _bestParts.AsSpan().CopyTo(_chosenParts);
        if (Options.InterPartitions)
        {
            // mb_type bits (ue 1, 2, 3) plus the extra ref_idx and sub_mb_type syntax of each shape.
            (MacroblockKind Kind, int Bits)[] shapes = [(MacroblockKind.P16x8, 3), (MacroblockKind.P8x16, 3), (MacroblockKind.P8x8, 7)];
            foreach ((MacroblockKind shape, int bits) in shapes)
            {
                int c = SearchShape(x, y, shape) + (lambda * bits);
                if (c < interCost)
                {
                    interCost = c;
                    kind = shape;
                    _bestParts.AsSpan().CopyTo(_chosenParts);
                }
            }
        }

        if (IntraCheaper(interCost))
        {
            ChooseIntra(Options.Intra4x4InP, out _);
            return;
        }

        mb.Kind = kind;
        mb.CodedBlockPattern = 0;
        int parts = PartitionCount(kind);
        for (int i = 0; i < parts; i++)
        {
            Partition p = _chosenParts[i];
            int slot = i * 4;
            mb.Mvd[2 * slot] = p.Mv.X - p.Mvp.X;
            mb.Mvd[(2 * slot) + 1] = p.Mv.Y - p.Mvp.Y;
            if (kind == MacroblockKind.P8x8)
            {
                mb.RefIdx[i] = p.Ref;
            }
            else
            {
                // 16x16 and two-partition shapes: RefIdx per partition (the reconstructor reads 0 and 1).
                mb.RefIdx[i] = p.Ref;
                if (parts == 1)
                {
                    mb.RefIdx[1] = mb.RefIdx[2] = mb.RefIdx[3] = p.Ref;
                }
            }

            PredictInter(p.Ref, x + p.X, y + p.Y, p.W, p.H, p.Mv.X, p.Mv.Y);
        }

        RecordMotion(_chosenParts[0].Ref, _chosenParts[0].Mv);
        CodeInterLuma();
        CodeChroma(intra: false);
        if (kind == MacroblockKind.P16x16 && mb.CodedBlockPattern == 0 && _chosenParts[0].Ref == 0 && _chosenParts[0].Mv == skip)
        {
            SetSkip();
        }
    }

    /// <summary>One motion partition of the macroblock under test (position relative to the macroblock).</summary>
    private readonly record struct Partition(int X, int Y, int W, int H, int Ref, (int X, int Y) Mv, (int X, int Y) Mvp);

    private readonly Partition[] _bestParts = new Partition[4];
    private readonly Partition[] _chosenParts = new Partition[4];

    private static int PartitionCount(MacroblockKind kind) => kind switch
    {
        MacroblockKind.P16x16 => 1,
        MacroblockKind.P16x8 or MacroblockKind.P8x16 => 2,
        _ => 4,
    };

    // Searches every partition of a shape in decoding order (later predictors depend on earlier motion).
    private int SearchShape(int x, int y, MacroblockKind shape)
    {
        _mvp.Assigned = 0;
        int cost = 0;
        for (int i = 0; i < PartitionCount(shape); i++)
        {
            (int px, int py, int pw, int ph) = shape switch
            {
                MacroblockKind.P16x8 => (0, i * 8, 16, 8),
                MacroblockKind.P8x16 => (i * 8, 0, 8, 16),
                _ => ((i & 1) * 8, (i >> 1) * 8, 8, 8),
            };
            cost += SearchPartition(x, y, px, py, pw, ph, i);
        }

        return cost;
    }

    /// <summary>
    /// Motion search of one partition over every reference: full-sample search per reference, the
    /// best refined to quarter samples when enabled. Records the result in _bestParts[index] and in
    /// the predictor's state; returns SATD + λ·(mvd + ref_idx bits).
    /// </summary>
    private int SearchPartition(int x, int y, int px, int py, int pw, int ph, int index)
    {
        int lambda = Lambda;
        int bestRef = 0, bestCost = int.MaxValue;
        (int X, int Y) bestMv = (0, 0), bestMvp = (0, 0);
        for (int r = 0; r < NumRefIdxActive; r++)
        {
            (int X, int Y) mvp = _mvp.Predict(px, py, pw, ph, r);
            (int X, int Y) mv = FullPelSearch(References[r], x + px, y + py, pw, ph, mvp, r, lambda * RefBits(r), out int cost);
            if (cost < bestCost)
            {
                bestCost = cost;
                bestRef = r;
                bestMv = mv;
                bestMvp = mvp;
            }
        }

        int refCost = lambda * RefBits(bestRef);
        int satd = Options.QuarterPel
            ? SubPelRefine(bestRef, x + px, y + py, pw, ph, ref bestMv, bestMvp, refCost)
            : FullPelSatd(References[bestRef], x + px, y + py, pw, ph, bestMv) + (lambda * MvdBits(bestMv, bestMvp)) + refCost;
        _mvp.Assign(px, py, pw, ph, bestRef, bestMv.X, bestMv.Y);
        _bestParts[index] = new Partition(px, py, pw, ph, bestRef, bestMv, bestMvp);
        return satd;
    }

    private int RefBits(int r) => NumRefIdxActive > 2 ? RbspWriter.UeLength((uint)r) : NumRefIdxActive == 2 ? 1 : 0;

    // A residual quantizes to nothing only if every 4x4 DC stays below about a quantizer step
    // (5/6 of it with the inter rounding); a SAD above 16 such blocks' worth rules the skip out.
    private bool SkipPossible(int x, int y, (int X, int Y) skip)
    {
        ReferenceFrame r = References[0];
        int stride = Stride;
        int sad = Distortion.Sad16(SourceY, (y * stride) + x, stride, r.PaddedY, r.Offset(x + (skip.X >> 2), y + (skip.Y >> 2)), r.Stride, 16);
        double step = 0.625 * Math.Pow(2, Qp / 6.0);
        return sad <= 16 * 4 * step;
    }

    private void SetSkip()
    {
        Macroblock mb = Mb;
        mb.Kind = MacroblockKind.PSkip;
        mb.CodedBlockPattern = 0;
        mb.LumaNonZero = 0;
        mb.ChromaAcNonZero = 0;
    }

    // Whether the best Intra 16x16 (or Intra 4x4 when enabled) beats the inter cost.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool IntraCheaper(int interCost)
    {
        var n = IntraNeighbours(Mb.Address);
        (int x, int y) = MbOrigin(Mb.Address);
        int stride = Stride;
        int lumaOff = (y * stride) + x;
        int best = int.MaxValue;
        for (int mode = 0; mode < 4; mode++)
        {
            if (IntraPrediction.Intra16x16ModeAllowed(mode, n.Left, n.Top, n.TopLeft))
            {
                IntraPrediction.Predict16x16(Picture.Y, lumaOff, stride, mode, n.Left, n.Top, n.TopLeft);
                best = Math.Min(best, Distortion.Satd(SourceY, lumaOff, stride, Picture.Y, lumaOff, stride, 16, 16) + (Lambda * 6));
            }
        }

        if (best >= interCost && Options.Intra4x4InP)
        {
            best = Math.Min(best, TryIntra4x4(n, lumaOff, interCost) + (Lambda * 5));
        }

        return best < interCost;
    }

    private static int MvdBits((int X, int Y) mv, (int X, int Y) mvp) => RbspWriter.SeLength(mv.X - mvp.X) + RbspWriter.SeLength(mv.Y - mvp.Y);

    // Writes the prediction of a partition from reference ref with motion (mvx, mvy) into the picture.
    private void PredictInter(int refIdx, int x, int y, int w, int h, int mvx, int mvy)
    {
        ReferenceFrame r = References[refIdx];
        DecodedPicture reference = r.Picture;
        int stride = Stride, cs = stride / 2;
        if (((mvx | mvy) & 3) == 0 && Math.Abs(mvx >> 2) <= ReferenceFrame.Pad - 16 && Math.Abs(mvy >> 2) <= ReferenceFrame.Pad - 16)
        {
            // Full-sample motion: the edge-extended copy already holds the clamped samples (8-239, 8-240).
            int src = r.Offset(x + (mvx >> 2), y + (mvy >> 2));
            for (int j = 0; j < h; j++)
            {
                r.PaddedY.AsSpan(src + (j * r.Stride), w).CopyTo(Picture.Y.AsSpan(((y + j) * stride) + x));
            }
        }
        else
        {
            _inter.PredictLuma(reference, Picture.Y, stride, x, y, w, h, mvx, mvy);
        }

        InterPrediction.PredictChroma(reference.U, cs, reference.Height / 2, Picture.U, cs, x / 2, y / 2, w / 2, h / 2, mvx, mvy);
        InterPrediction.PredictChroma(reference.V, cs, reference.Height / 2, Picture.V, cs, x / 2, y / 2, w / 2, h / 2, mvx, mvy);
    }

    /// <summary>
    /// Small-diamond full-sample search (x264's --me dia) from the better of the rounded predictor and
    /// zero motion; cost SAD + λ·mvd bits + <paramref name="refCost"/>. Returns quarter-sample units.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private (int X, int Y) FullPelSearch(ReferenceFrame reference, int x, int y, int w, int h, (int X, int Y) mvp, int refIdx, int refCost, out int bestCost)
    {
        int stride = Stride;
        int srcOff = (y * stride) + x;
        int lambda = Lambda;
        int minX = -32 - x, maxX = Picture.Width - w + 32 - x;
        int minY = -32 - y, maxY = Picture.Height - h + 32 - y;
        int range = Options.SearchRange;

        int Cost(int mx, int my) => (w == 16
                ? Distortion.Sad16(SourceY, srcOff, stride, reference.PaddedY, reference.Offset(x + mx, y + my), reference.Stride, h)
                : Distortion.Sad(SourceY, srcOff, stride, reference.PaddedY, reference.Offset(x + mx, y + my), reference.Stride, w, h))
            + (lambda * (RbspWriter.SeLength((mx * 4) - mvp.X) + RbspWriter.SeLength((my * 4) - mvp.Y))) + refCost;

        int sx = Math.Clamp((mvp.X + 2) >> 2, minX, maxX), sy = Math.Clamp((mvp.Y + 2) >> 2, minY, maxY);
        int bx = sx, by = sy;
        bestCost = Cost(sx, sy);
        if (sx != 0 || sy != 0)
        {
            int zero = Cost(0, 0);
            if (zero < bestCost)
            {
                bestCost = zero;
                bx = 0;
                by = 0;
            }
        }

        // Candidates: neighbours' and the co-located macroblock's last motion, scaled to this reference.
        int a = Mb.Address, mbw = _state.WidthInMbs, mbx = a % mbw;
        Span<int> around = [mbx > 0 ? a - 1 : -1, a - mbw, mbx < mbw - 1 ? a - mbw + 1 : -1, mbx > 0 ? a - mbw - 1 : -1];
        for (int i = 0; i < 6; i++)
        {
            var m = i < 4 ? (around[i] >= 0 ? _motion[around[i]] : default) : i == 4 ? _previousMotion[a] : (a + mbw < _previousMotion.Length ? _previousMotion[a + mbw] : default);
            if (!m.Valid)
            {
                continue;
            }

            int tx = Math.Clamp(((m.X * (refIdx + 1)) + 2) >> 2, minX, maxX), ty = Math.Clamp(((m.Y * (refIdx + 1)) + 2) >> 2, minY, maxY);
            if (tx == bx && ty == by)
            {
                continue;
            }

            int c = Cost(tx, ty);
            if (c < bestCost)
            {
                bestCost = c;
                bx = tx;
                by = ty;
            }
        }

        int cx = bx, cy = by;
        for (int iter = 0; iter < range; iter++)
        {
            int nx = bx, ny = by;
            for (int d = 0; d < 4; d++)
            {
                int tx = bx + (d == 0 ? -1 : d == 1 ? 1 : 0), ty = by + (d == 2 ? -1 : d == 3 ? 1 : 0);
                if (tx < minX || tx > maxX || ty < minY || ty > maxY || Math.Abs(tx - cx) > range || Math.Abs(ty - cy) > range)
                {
                    continue;
                }

                int c = Cost(tx, ty);
                if (c < bestCost)
                {
                    bestCost = c;
                    nx = tx;
                    ny = ty;
                }
            }

            if (nx == bx && ny == by)
            {
                break;
            }

            bx = nx;
            by = ny;
        }

        return (bx * 4, by * 4);
    }

    private int FullPelSatd(ReferenceFrame reference, int x, int y, int w, int h, (int X, int Y) mv)
    {
        int stride = Stride;
        return Distortion.Satd(SourceY, (y * stride) + x, stride, reference.PaddedY, reference.Offset(x + (mv.X >> 2), y + (mv.Y >> 2)), reference.Stride, w, h);
    }

    // Half- then quarter-sample refinement around mv by SATD of the interpolated prediction; returns the cost.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int SubPelRefine(int refIdx, int x, int y, int w, int h, ref (int X, int Y) mv, (int X, int Y) mvp, int refCost)
    {
        int stride = Stride;
        if (_scratchY.Length != Picture.Y.Length)
        {
            _scratchY = new byte[Picture.Y.Length];
        }

        DecodedPicture reference = References[refIdx].Picture;
        int srcOff = (y * stride) + x;
        int lambda = Lambda;
        int Cost(int mx, int my)
        {
            _inter.PredictLuma(reference, _scratchY, stride, x, y, w, h, mx, my);
            return Distortion.Satd(SourceY, srcOff, stride, _scratchY, srcOff, stride, w, h) + (lambda * (RbspWriter.SeLength(mx - mvp.X) + RbspWriter.SeLength(my - mvp.Y))) + refCost;
        }

        int best = Cost(mv.X, mv.Y);
        for (int step = 2; step >= 1; step--)
        {
            int cx = mv.X, cy = mv.Y;
            for (int dy = -step; dy <= step; dy += step)
            {
                for (int dx = -step; dx <= step; dx += step)
                {
                    if (dx == 0 && dy == 0)
                    {
                        continue;
                    }

                    int c = Cost(cx + dx, cy + dy);
                    if (c < best)
                    {
                        best = c;
                        mv = (cx + dx, cy + dy);
                    }
                }
            }
        }

        return best;
    }
}
