using System.Runtime.CompilerServices;
namespace JpegLm.Codec.Avc.Encoder;

/// <summary>Intra mode decision and coding: Intra 16x16, Intra 4x4 and chroma (clause 8.3).</summary>
internal sealed partial class MacroblockEncoder
{
    // x264 charges an Intra 4x4 macroblock about 24 bits of mode and pattern overhead up front.
    private const int Intra4x4Bias = 24;

    private readonly byte[] _i4Modes = new byte[16];
    private readonly int[] _i4Levels = new int[256];

    // Availability of the neighbouring macroblocks for intra prediction (6.4.11.1).
    private (bool Left, bool Top, bool TopLeft, bool TopRight) IntraNeighbours(int addr)
    {
        int w = _state.WidthInMbs;
        int mbx = addr % w, mby = addr / w;
        bool Has(int nx, int ny) => nx >= 0 && ny >= 0 && nx < w && _state.Available((ny * w) + nx, SliceId);
        return (Has(mbx - 1, mby), Has(mbx, mby - 1), Has(mbx - 1, mby - 1), Has(mbx + 1, mby - 1));
    }

    /// <summary>
    /// Chooses Intra 16x16 or (when allowed) Intra 4x4, codes the residual into <see cref="Mb"/> and
    /// returns the decision cost (SATD + λ·bits) in <paramref name="cost"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ChooseIntra(bool allowI4x4, out int cost)
    {
        Macroblock mb = Mb;
        var n = IntraNeighbours(mb.Address);
        (int x, int y) = MbOrigin(mb.Address);
        int stride = Stride;
        int lumaOff = (y * stride) + x;
        int lambda = Lambda;

        int best16 = -1, cost16 = int.MaxValue;
        for (int mode = 0; mode < 4; mode++)
        {
            if (!IntraPrediction.Intra16x16ModeAllowed(mode, n.Left, n.Top, n.TopLeft))
            {
                continue;
            }

            IntraPrediction.Predict16x16(Picture.Y, lumaOff, stride, mode, n.Left, n.Top, n.TopLeft);
            int c = Distortion.Satd(SourceY, lumaOff, stride, Picture.Y, lumaOff, stride, 16, 16) + (lambda * (mode == 2 ? 1 : 3));
            if (c < cost16)
            {
                cost16 = c;
                best16 = mode;
            }
        }

        int cost4 = int.MaxValue;
        if (allowI4x4)
        {
            cost4 = TryIntra4x4(n, lumaOff, cost16);
        }

        if (cost4 < cost16)
        {
            mb.Kind = MacroblockKind.I4x4;
            for (int r = 0; r < 16; r++)
            {
                mb.Intra4x4PredMode[r] = _i4Modes[r];
            }

            _i4Levels.AsSpan().CopyTo(mb.Luma);
            cost = cost4;
        }
        else
        {
            mb.Kind = MacroblockKind.I16x16;
            mb.Intra16x16PredMode = best16;
            CodeIntra16x16(n, lumaOff);
            cost = cost16;
        }

        ChooseChromaMode(n, x, y);
        CodeChroma(intra: true);
    }

    // Tries Intra 4x4 block by block (each block predicts from the reconstruction of the ones before
    // it); stops early once the running cost exceeds the Intra 16x16 cost. Leaves modes and levels
    // in _i4Modes / _i4Levels and sets cbp bits 0..3 and LumaNonZero on the record.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int TryIntra4x4((bool Left, bool Top, bool TopLeft, bool TopRight) n, int lumaOff, int limit)
    {
        Macroblock mb = Mb;
        int stride = Stride;
        int lambda = Lambda;
        int cost = lambda * Intra4x4Bias;
        int nonZero = 0, cbp = 0;
        Span<int> c = _block;
        for (int blk = 0; blk < 16 && cost < limit; blk++)
        {
            int raster = MacroblockLayerReader.BlockIndexToRaster(blk);
            int bx = raster & 3, by = raster >> 2;
            bool l = bx > 0 || n.Left;
            bool t = by > 0 || n.Top;
            bool tl = bx > 0 && by > 0 ? true : bx > 0 ? n.Top : by > 0 ? n.Left : n.TopLeft;
            bool tr = by == 0 ? (bx < 3 ? n.Top : n.TopRight) : bx < 3 && BlockIndexOf(raster - 3) < blk;
            int off = lumaOff + (by * 4 * stride) + (bx * 4);

            // The predicted mode needs the modes chosen so far in this macroblock.
            for (int r = 0; r < 16; r++)
            {
                mb.Intra4x4PredMode[r] = _i4Modes[r];
            }

            int predicted = _writer.PredictedIntra4x4Mode(mb, raster);
            int bestMode = 2, bestCost = int.MaxValue;
            for (int mode = 0; mode < 9; mode++)
            {
                if (!IntraPrediction.Intra4x4ModeAllowed(mode, l, t, tl))
                {
                    continue;
                }

                IntraPrediction.Predict4x4(Picture.Y, off, stride, mode, l, t, tl, tr);
                int cm = Distortion.Satd4x4(SourceY, off, stride, Picture.Y, off, stride) + (lambda * (mode == predicted ? 1 : 4));
                if (cm < bestCost)
                {
                    bestCost = cm;
                    bestMode = mode;
                }
            }

            cost += bestCost;
            _i4Modes[raster] = (byte)bestMode;
            IntraPrediction.Predict4x4(Picture.Y, off, stride, bestMode, l, t, tl, tr);
            Residual4x4(SourceY, Picture.Y, off, stride, c);
            Span<int> levels = _i4Levels.AsSpan(raster * 16, 16);
            if (ForwardTransform.Quantize4x4(c, Qp, true, 0) != 0)
            {
                nonZero |= 1 << raster;
                cbp |= 1 << (blk >> 2);
                c.CopyTo(levels);
                InverseTransform.Dequantize(c, Qp, false);
                InverseTransform.AddInverse4x4(c, Picture.Y, off, stride);
            }
            else
            {
                levels.Clear();
            }
        }

        if (cost < limit)
        {
            mb.LumaNonZero = nonZero;
            mb.CodedBlockPattern = cbp;
        }

        return cost;
    }

    private static int BlockIndexOf(int raster) => ((raster >> 3) << 3) | (((raster >> 1) & 1) << 2) | (((raster >> 2) & 1) << 1) | (raster & 1);

    // Intra 16x16 residual: DC of every 4x4 through the Hadamard, AC coded only when any is nonzero.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CodeIntra16x16((bool Left, bool Top, bool TopLeft, bool TopRight) n, int lumaOff)
    {
        Macroblock mb = Mb;
        int stride = Stride;
        IntraPrediction.Predict16x16(Picture.Y, lumaOff, stride, mb.Intra16x16PredMode, n.Left, n.Top, n.TopLeft);
        Span<int> dc = _dc;
        int nonZero = 0;
        for (int raster = 0; raster < 16; raster++)
        {
            Span<int> c = mb.Luma.AsSpan(raster * 16, 16);
            Residual4x4(SourceY, Picture.Y, lumaOff + ((raster >> 2) * 4 * stride) + ((raster & 3) * 4), stride, c);
            dc[raster] = c[0];
            c[0] = 0;
            if (ForwardTransform.Quantize4x4(c, Qp, true, 1) != 0)
            {
                nonZero |= 1 << raster;
            }
        }

        dc.CopyTo(mb.LumaDc);
        ForwardTransform.QuantizeLumaDc(mb.LumaDc, Qp);
        if (nonZero == 0)
        {
            Array.Clear(mb.Luma);
        }

        mb.LumaNonZero = nonZero;
        mb.CodedBlockPattern = nonZero != 0 ? 15 : 0;
    }

    private void ChooseChromaMode((bool Left, bool Top, bool TopLeft, bool TopRight) n, int x, int y)
    {
        int cs = Stride / 2;
        int off = (y / 2 * cs) + (x / 2);
        int best = 0, bestCost = int.MaxValue;
        for (int mode = 0; mode < 4; mode++)
        {
            if (!IntraPrediction.ChromaModeAllowed(mode, n.Left, n.Top, n.TopLeft))
            {
                continue;
            }

            IntraPrediction.PredictChroma(Picture.U, off, cs, mode, n.Left, n.Top, n.TopLeft);
            IntraPrediction.PredictChroma(Picture.V, off, cs, mode, n.Left, n.Top, n.TopLeft);
            int c = Distortion.Satd(SourceU, off, cs, Picture.U, off, cs, 8, 8) + Distortion.Satd(SourceV, off, cs, Picture.V, off, cs, 8, 8)
                + (Lambda * RbspWriterLength(mode));
            if (c < bestCost)
            {
                bestCost = c;
                best = mode;
            }
        }

        Mb.IntraChromaPredMode = best;
        IntraPrediction.PredictChroma(Picture.U, off, cs, best, n.Left, n.Top, n.TopLeft);
        IntraPrediction.PredictChroma(Picture.V, off, cs, best, n.Left, n.Top, n.TopLeft);
    }

    private static int RbspWriterLength(int ue) => Bitstream.RbspWriter.UeLength((uint)ue);
}
