using System.Runtime.CompilerServices;

namespace JpegLm.Codec.Avc;

/// <summary>
/// Turns a parsed <see cref="Macroblock"/> into samples of the current picture: intra or inter
/// prediction (clauses 8.3, 8.4), then scaling and inverse transform of the residual (8.5).
/// Also stores the motion deblocking and later neighbours need.
/// </summary>
internal sealed class MacroblockReconstructor
{
    private readonly PictureState _state;
    private readonly MotionVectorPrediction _mvp;
    private readonly InterPrediction _inter = new();
    private readonly int[] _block = new int[16];
    private readonly int[] _dc = new int[16];

    // Raster 4x4 block index to luma4x4BlkIdx (decoding order).
    private static readonly byte[] RasterToBlockIndex = [0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15];

    public MacroblockReconstructor(PictureState state)
    {
        _state = state;
        _mvp = new MotionVectorPrediction(state);
    }

    public DecodedPicture Picture { get; set; } = null!;

    public DecodedPicture?[] RefList { get; set; } = [];

    public int SliceId { get; set; }

    public int ChromaQpOffset { get; set; }

    public bool ConstrainedIntraPred { get; set; }

    public SliceHeader? Header { get; set; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Reconstruct(Macroblock mb)
    {
        switch (mb.Kind)
        {
            case MacroblockKind.IPcm:
                Pcm(mb);
                break;
            case MacroblockKind.I4x4:
            case MacroblockKind.I16x16:
                Intra(mb);
                break;
            default:
                Inter(mb);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void StoreIntraMotion(int a)
    {
        _state.Mv.AsSpan(a * 32, 32).Clear();
        _state.RefIdx.AsSpan(a * 4, 4).Fill(-1);
        _state.RefPicId.AsSpan(a * 4, 4).Fill(-1);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Pcm(Macroblock mb)
    {
        int a = mb.Address, w = _state.WidthInMbs;
        int stride = Picture.Width, cs = stride / 2;
        int mbx = a % w, mby = a / w;
        for (int y = 0; y < 16; y++)
        {
            mb.Pcm.AsSpan(y * 16, 16).CopyTo(Picture.Y.AsSpan((((mby * 16) + y) * stride) + (mbx * 16)));
        }

        for (int y = 0; y < 8; y++)
        {
            mb.Pcm.AsSpan(256 + (y * 8), 8).CopyTo(Picture.U.AsSpan((((mby * 8) + y) * cs) + (mbx * 8)));
            mb.Pcm.AsSpan(320 + (y * 8), 8).CopyTo(Picture.V.AsSpan((((mby * 8) + y) * cs) + (mbx * 8)));
        }

        StoreIntraMotion(a);
    }

    // Whether neighbour macroblock (nx, ny) can feed intra prediction of the current one.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IntraNeighbour(int nx, int ny)
    {
        int w = _state.WidthInMbs;
        if (nx < 0 || ny < 0 || nx >= w)
        {
            return false;
        }

        int n = (ny * w) + nx;
        return _state.Available(n, SliceId) && (!ConstrainedIntraPred || _state.Kind[n] >= MacroblockKind.I4x4);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Intra(Macroblock mb)
    {
        int a = mb.Address, w = _state.WidthInMbs;
        int mbx = a % w, mby = a / w;
        bool left = IntraNeighbour(mbx - 1, mby);
        bool top = IntraNeighbour(mbx, mby - 1);
        bool topLeft = IntraNeighbour(mbx - 1, mby - 1);
        bool topRight = IntraNeighbour(mbx + 1, mby - 1);
        int stride = Picture.Width;
        int lumaOff = (mby * 16 * stride) + (mbx * 16);
        Span<byte> y = Picture.Y;
        if (mb.Kind == MacroblockKind.I4x4)
        {
            for (int blk = 0; blk < 16; blk++)
            {
                int raster = MacroblockLayerReader.BlockIndexToRaster(blk);
                int bx = raster & 3, by = raster >> 2;
                bool l = bx > 0 || left;
                bool t = by > 0 || top;
                bool tl = bx > 0 && by > 0 ? true : bx > 0 ? top : by > 0 ? left : topLeft;
                bool tr;
                if (by == 0)
                {
                    tr = bx < 3 ? top : topRight;
                }
                else
                {
                    tr = bx < 3 && RasterToBlockIndex[raster - 3] < blk;
                }

                int off = lumaOff + (by * 4 * stride) + (bx * 4);
                IntraPrediction.Predict4x4(y, off, stride, mb.Intra4x4PredMode[raster], l, t, tl, tr);
                if ((mb.LumaNonZero & (1 << raster)) != 0)
                {
                    Span<int> c = _block;
                    mb.Luma.AsSpan(raster * 16, 16).CopyTo(c);
                    InverseTransform.Dequantize(c, mb.QpY, false);
                    InverseTransform.AddInverse4x4(c, y, off, stride);
                }
            }
        }
        else
        {
            IntraPrediction.Predict16x16(y, lumaOff, stride, mb.Intra16x16PredMode, left, top, topLeft);
            Span<int> dc = _dc;
            mb.LumaDc.AsSpan().CopyTo(dc);
            InverseTransform.LumaDc(dc, mb.QpY);
            for (int raster = 0; raster < 16; raster++)
            {
                bool ac = (mb.LumaNonZero & (1 << raster)) != 0;
                if (!ac && dc[raster] == 0)
                {
                    continue;
                }

                int off = lumaOff + ((raster >> 2) * 4 * stride) + ((raster & 3) * 4);
                if (!ac)
                {
                    InverseTransform.AddDcOnly(dc[raster], y, off, stride);
                    continue;
                }

                Span<int> c = _block;
                mb.Luma.AsSpan(raster * 16, 16).CopyTo(c);
                InverseTransform.Dequantize(c, mb.QpY, true);
                c[0] = dc[raster];
                InverseTransform.AddInverse4x4(c, y, off, stride);
            }
        }

        int cs = stride / 2;
        int chromaOff = (mby * 8 * cs) + (mbx * 8);
        IntraPrediction.PredictChroma(Picture.U, chromaOff, cs, mb.IntraChromaPredMode, left, top, topLeft);
        IntraPrediction.PredictChroma(Picture.V, chromaOff, cs, mb.IntraChromaPredMode, left, top, topLeft);
        ChromaResidual(mb, chromaOff, cs);
        StoreIntraMotion(a);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ChromaResidual(Macroblock mb, int chromaOff, int cs)
    {
        if ((mb.CodedBlockPattern >> 4) == 0)
        {
            return;
        }

        int qpc = InverseTransform.ChromaQp(mb.QpY, ChromaQpOffset);
        for (int c = 0; c < 2; c++)
        {
            Span<byte> plane = c == 0 ? Picture.U : Picture.V;
            Span<int> dc = _dc.AsSpan(0, 4);
            mb.ChromaDc.AsSpan(c * 4, 4).CopyTo(dc);
            InverseTransform.ChromaDc(dc, qpc);
            for (int b = 0; b < 4; b++)
            {
                bool ac = (mb.ChromaAcNonZero & (1 << ((c * 4) + b))) != 0;
                if (!ac && dc[b] == 0)
                {
                    continue;
                }

                int off = chromaOff + ((b >> 1) * 4 * cs) + ((b & 1) * 4);
                if (!ac)
                {
                    InverseTransform.AddDcOnly(dc[b], plane, off, cs);
                    continue;
                }

                Span<int> blk = _block;
                mb.ChromaAc.AsSpan(((c * 4) + b) * 16, 16).CopyTo(blk);
                InverseTransform.Dequantize(blk, qpc, true);
                blk[0] = dc[b];
                InverseTransform.AddInverse4x4(blk, plane, off, cs);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Inter(Macroblock mb)
    {
        int a = mb.Address, w = _state.WidthInMbs;
        int mbx = a % w, mby = a / w;
        _mvp.Address = a;
        _mvp.SliceId = SliceId;
        _mvp.Assigned = 0;
        switch (mb.Kind)
        {
            case MacroblockKind.PSkip:
                {
                    var mv = _mvp.PredictSkip();
                    Partition(mbx, mby, 0, 0, 16, 16, 0, mv.X, mv.Y);
                    break;
                }

            case MacroblockKind.P16x16:
                PartitionWithMvd(mb, mbx, mby, 0, 0, 16, 16, mb.RefIdx[0], 0);
                break;
            case MacroblockKind.P16x8:
                PartitionWithMvd(mb, mbx, mby, 0, 0, 16, 8, mb.RefIdx[0], 0);
                PartitionWithMvd(mb, mbx, mby, 0, 8, 16, 8, mb.RefIdx[1], 4);
                break;
            case MacroblockKind.P8x16:
                PartitionWithMvd(mb, mbx, mby, 0, 0, 8, 16, mb.RefIdx[0], 0);
                PartitionWithMvd(mb, mbx, mby, 8, 0, 8, 16, mb.RefIdx[1], 4);
                break;
            default:
                for (int i = 0; i < 4; i++)
                {
                    int x0 = (i & 1) * 8, y0 = (i >> 1) * 8;
                    int r = mb.RefIdx[i];
                    switch (mb.SubMbType[i])
                    {
                        case 0:
                            PartitionWithMvd(mb, mbx, mby, x0, y0, 8, 8, r, i * 4);
                            break;
                        case 1:
                            PartitionWithMvd(mb, mbx, mby, x0, y0, 8, 4, r, i * 4);
                            PartitionWithMvd(mb, mbx, mby, x0, y0 + 4, 8, 4, r, (i * 4) + 1);
                            break;
                        case 2:
                            PartitionWithMvd(mb, mbx, mby, x0, y0, 4, 8, r, i * 4);
                            PartitionWithMvd(mb, mbx, mby, x0 + 4, y0, 4, 8, r, (i * 4) + 1);
                            break;
                        default:
                            for (int j = 0; j < 4; j++)
                            {
                                PartitionWithMvd(mb, mbx, mby, x0 + ((j & 1) * 4), y0 + ((j >> 1) * 4), 4, 4, r, (i * 4) + j);
                            }

                            break;
                    }
                }

                break;
        }

        // Store motion for neighbours and deblocking.
        for (int i = 0; i < 32; i++)
        {
            _state.Mv[(a * 32) + i] = (short)_mvp.CurrentMv[i];
        }

        for (int i = 0; i < 4; i++)
        {
            int r = _mvp.CurrentRef[i];
            _state.RefIdx[(a * 4) + i] = (sbyte)r;
            _state.RefPicId[(a * 4) + i] = RefList[r]!.Id;
        }

        if (mb.Kind == MacroblockKind.PSkip)
        {
            return;
        }

        int stride = Picture.Width;
        int lumaOff = (mby * 16 * stride) + (mbx * 16);
        for (int raster = 0; raster < 16; raster++)
        {
            if ((mb.LumaNonZero & (1 << raster)) == 0)
            {
                continue;
            }

            Span<int> c = _block;
            mb.Luma.AsSpan(raster * 16, 16).CopyTo(c);
            InverseTransform.Dequantize(c, mb.QpY, false);
            InverseTransform.AddInverse4x4(c, Picture.Y, lumaOff + ((raster >> 2) * 4 * stride) + ((raster & 3) * 4), stride);
        }

        int cs = stride / 2;
        ChromaResidual(mb, (mby * 8 * cs) + (mbx * 8), cs);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PartitionWithMvd(Macroblock mb, int mbx, int mby, int x, int y, int w, int h, int refIdx, int mvdSlot)
    {
        var p = _mvp.Predict(x, y, w, h, refIdx);
        Partition(mbx, mby, x, y, w, h, refIdx, p.X + mb.Mvd[2 * mvdSlot], p.Y + mb.Mvd[(2 * mvdSlot) + 1]);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Partition(int mbx, int mby, int x, int y, int w, int h, int refIdx, int mvx, int mvy)
    {
        _mvp.Assign(x, y, w, h, refIdx, mvx, mvy);
        DecodedPicture reference = (refIdx < RefList.Length ? RefList[refIdx] : null)
            ?? throw new AvcFormatException($"ref_idx_l0 {refIdx} names no reference picture", -1);
        int px = (mbx * 16) + x, py = (mby * 16) + y;
        int stride = Picture.Width;
        _inter.PredictLuma(reference, Picture.Y, stride, px, py, w, h, mvx, mvy);
        int cs = stride / 2;
        InterPrediction.PredictChroma(reference.U, cs, reference.Height / 2, Picture.U, cs, px / 2, py / 2, w / 2, h / 2, mvx, mvy);
        InterPrediction.PredictChroma(reference.V, cs, reference.Height / 2, Picture.V, cs, px / 2, py / 2, w / 2, h / 2, mvx, mvy);
        if (Header?.Weights is { } wt)
        {
            InterPrediction.Weight(Picture.Y, stride, px, py, w, h, Header.LumaLog2WeightDenom, wt[refIdx, 0], wt[refIdx, 1]);
            InterPrediction.Weight(Picture.U, cs, px / 2, py / 2, w / 2, h / 2, Header.ChromaLog2WeightDenom, wt[refIdx, 2], wt[refIdx, 3]);
            InterPrediction.Weight(Picture.V, cs, px / 2, py / 2, w / 2, h / 2, Header.ChromaLog2WeightDenom, wt[refIdx, 4], wt[refIdx, 5]);
        }
    }
}
