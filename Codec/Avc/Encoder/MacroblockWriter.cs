using System.Runtime.CompilerServices;
using JpegLm.Codec.Bitstream;

namespace JpegLm.Codec.Avc.Encoder;

/// <summary>
/// Writes macroblock_layer() (clause 7.3.5) with CAVLC residuals from the same <see cref="Macroblock"/>
/// record the decoder's reconstruction consumes, and records each block's TotalCoeff in
/// <see cref="PictureState"/> for the nC of later blocks (9.2.1) and for deblocking.
/// </summary>
internal sealed class MacroblockWriter
{
    private readonly PictureState _state;
    private readonly int[] _scan = new int[16];

    public MacroblockWriter(PictureState state) => _state = state;

    /// <summary>Slice of the macroblock being written (neighbour availability for nC).</summary>
    public int SliceId { get; set; }

    /// <summary>num_ref_idx_l0_active_minus1 + 1 of the slice (ref_idx_l0 is te(v) over it).</summary>
    public int NumRefIdxActive { get; set; }

    /// <summary>Marks a macroblock as decoded in the current slice, as the decoder's parser does before its residual.</summary>
    public void Commit(Macroblock mb)
    {
        int a = mb.Address;
        _state.MarkDecoded(a, SliceId, mb.Kind);
        _state.QpY[a] = (byte)mb.QpY;
        if (mb.Kind == MacroblockKind.I4x4)
        {
            for (int i = 0; i < 16; i++)
            {
                _state.Intra4x4Mode[(a * 16) + i] = (sbyte)mb.Intra4x4PredMode[i];
            }
        }

        if (mb.Kind == MacroblockKind.PSkip)
        {
            _state.TotalCoeff.AsSpan(a * PictureState.CoeffSlots, PictureState.CoeffSlots).Clear();
        }
    }

    /// <summary>Writes a macroblock that is not P_Skip (the caller writes mb_skip_run before it in P slices).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Write(RbspWriter w, Macroblock mb, bool intraSlice, int predQp)
    {
        Commit(mb);
        int typeBase = intraSlice ? 0 : 5;
        int cbp = mb.CodedBlockPattern;
        switch (mb.Kind)
        {
            case MacroblockKind.I16x16:
                w.WriteUe(typeBase + 1 + mb.Intra16x16PredMode + (4 * (cbp >> 4)) + ((cbp & 15) != 0 ? 12 : 0));
                w.WriteUe(mb.IntraChromaPredMode);
                break;
            case MacroblockKind.I4x4:
                w.WriteUe(typeBase);
                WriteIntra4x4Modes(w, mb);
                w.WriteUe(mb.IntraChromaPredMode);
                break;
            case MacroblockKind.P16x16:
                w.WriteUe(0);
                WriteRefs(w, mb, 1);
                WriteMvd(w, mb, 0);
                break;
            case MacroblockKind.P16x8:
            case MacroblockKind.P8x16:
                w.WriteUe(mb.Kind == MacroblockKind.P16x8 ? 1 : 2);
                WriteRefs(w, mb, 2);
                WriteMvd(w, mb, 0);
                WriteMvd(w, mb, 4);
                break;
            case MacroblockKind.P8x8:
                w.WriteUe(3);
                for (int i = 0; i < 4; i++)
                {
                    w.WriteUe(0); // sub_mb_type: P_L0_8x8
                }

                WriteRefs(w, mb, 4);
                for (int i = 0; i < 4; i++)
                {
                    WriteMvd(w, mb, i * 4);
                }

                break;
            default:
                throw new InvalidOperationException($"cannot write macroblock kind {mb.Kind}");
        }

        if (mb.Kind != MacroblockKind.I16x16)
        {
            w.WriteUe(CodedBlockPatternMapping.ToCodeNum(cbp, mb.Kind == MacroblockKind.I4x4));
        }

        if (cbp != 0 || mb.Kind == MacroblockKind.I16x16)
        {
            w.WriteSe(mb.QpY - predQp);
            WriteResidual(w, mb);
        }
        else
        {
            _state.TotalCoeff.AsSpan(mb.Address * PictureState.CoeffSlots, PictureState.CoeffSlots).Clear();
        }
    }

    private void WriteRefs(RbspWriter w, Macroblock mb, int count)
    {
        if (NumRefIdxActive > 1)
        {
            for (int i = 0; i < count; i++)
            {
                w.WriteTe(mb.RefIdx[i], NumRefIdxActive - 1);
            }
        }
    }

    private static void WriteMvd(RbspWriter w, Macroblock mb, int slot)
    {
        w.WriteSe(mb.Mvd[2 * slot]);
        w.WriteSe(mb.Mvd[(2 * slot) + 1]);
    }

    // prev_intra4x4_pred_mode_flag / rem_intra4x4_pred_mode against the predicted mode (8.3.1.1).
    private void WriteIntra4x4Modes(RbspWriter w, Macroblock mb)
    {
        for (int blk = 0; blk < 16; blk++)
        {
            int raster = MacroblockLayerReader.BlockIndexToRaster(blk);
            int mode = mb.Intra4x4PredMode[raster];
            int predicted = PredictedIntra4x4Mode(mb, raster);
            if (mode == predicted)
            {
                w.WriteFlag(true);
            }
            else
            {
                w.WriteFlag(false);
                w.WriteBits((uint)(mode < predicted ? mode : mode - 1), 3);
            }
        }
    }

    /// <summary>predIntra4x4PredMode of a raster block (8.3.1.1): <see cref="PictureState.PredictedIntra4x4Mode"/> with this slice's availability.</summary>
    public int PredictedIntra4x4Mode(Macroblock mb, int raster)
    {
        int a = mb.Address, w = _state.WidthInMbs;
        bool leftOk = a % w > 0 && _state.Available(a - 1, SliceId);
        bool aboveOk = a - w >= 0 && _state.Available(a - w, SliceId);
        return _state.PredictedIntra4x4Mode(mb, raster, leftOk, aboveOk);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WriteResidual(RbspWriter w, Macroblock mb)
    {
        int a = mb.Address;
        Span<byte> totals = _state.TotalCoeff.AsSpan(a * PictureState.CoeffSlots, PictureState.CoeffSlots);
        totals.Clear();
        Span<int> scan = _scan;
        int cbp = mb.CodedBlockPattern;
        bool i16 = mb.Kind == MacroblockKind.I16x16;
        if (i16)
        {
            for (int k = 0; k < 16; k++)
            {
                scan[k] = mb.LumaDc[Macroblock.ZigZag[k]];
            }

            CavlcResidualWriter.Write(w, CoeffTokenContext.Luma(_state, SliceId, a, 0, totals), scan, 16);
        }

        for (int blk = 0; blk < 16; blk++)
        {
            if ((cbp & (1 << (blk >> 2))) == 0)
            {
                continue;
            }

            int raster = MacroblockLayerReader.BlockIndexToRaster(blk);
            int nC = CoeffTokenContext.Luma(_state, SliceId, a, raster, totals);
            ReadOnlySpan<int> levels = mb.Luma.AsSpan(raster * 16, 16);
            int first = i16 ? 1 : 0;
            for (int k = first; k < 16; k++)
            {
                scan[k - first] = levels[Macroblock.ZigZag[k]];
            }

            totals[raster] = (byte)CavlcResidualWriter.Write(w, nC, scan, 16 - first);
        }

        if ((cbp >> 4) != 0)
        {
            for (int c = 0; c < 2; c++)
            {
                CavlcResidualWriter.Write(w, -1, mb.ChromaDc.AsSpan(c * 4, 4), 4);
            }
        }

        if ((cbp >> 4) == 2)
        {
            for (int c = 0; c < 2; c++)
            {
                for (int b = 0; b < 4; b++)
                {
                    ReadOnlySpan<int> levels = mb.ChromaAc.AsSpan(((c * 4) + b) * 16, 16);
                    for (int k = 1; k < 16; k++)
                    {
                        scan[k - 1] = levels[Macroblock.ZigZag[k]];
                    }

                    totals[16 + (c * 4) + b] = (byte)CavlcResidualWriter.Write(w, CoeffTokenContext.Chroma(_state, SliceId, a, c, b, totals), scan, 15);
                }
            }
        }
    }
}
