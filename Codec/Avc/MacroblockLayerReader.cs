using System.Runtime.CompilerServices;
using JpegLm.Codec.Bitstream;

namespace JpegLm.Codec.Avc;

/// <summary>
/// Parses macroblock_layer() (clause 7.3.5) with CAVLC residuals into a <see cref="Macroblock"/>
/// record and records the facts neighbours need in <see cref="PictureState"/>. No sample
/// reconstruction happens here, so the same reader serves the decoder and the grammar checker.
/// </summary>
internal sealed class MacroblockLayerReader
{
    private readonly PictureState _state;

    public MacroblockLayerReader(PictureState state) => _state = state;

    /// <summary>Slice index within the picture (neighbour availability).</summary>
    public int SliceId { get; set; }

    /// <summary>Whether the slice is an I slice.</summary>
    public bool IntraSlice { get; set; }

    /// <summary>num_ref_idx_l0_active_minus1 + 1.</summary>
    public int NumRefIdxActive { get; set; }

    /// <summary>constrained_intra_pred_flag.</summary>
    public bool ConstrainedIntraPred { get; set; }

    /// <summary>
    /// When true (grammar checking without reconstruction) intra prediction modes are checked
    /// against the neighbours they need; reconstruction checks them anyway.
    /// </summary>
    public bool CheckIntraModes { get; set; }

    /// <summary>QPY of the previous macroblock in the slice (QPY,PRED).</summary>
    public int QpPred { get; set; }

    /// <summary>Records a P_Skip macroblock at <paramref name="addr"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SetSkip(Macroblock mb, int addr)
    {
        mb.Address = addr;
        mb.Kind = MacroblockKind.PSkip;
        mb.QpY = QpPred;
        mb.QpDelta = 0;
        mb.CodedBlockPattern = 0;
        mb.LumaNonZero = 0;
        mb.ChromaAcNonZero = 0;
        Commit(mb);
        _state.QpY[addr] = (byte)QpPred;
        _state.TotalCoeff.AsSpan(addr * PictureState.CoeffSlots, PictureState.CoeffSlots).Clear();
    }

    /// <summary>Reads macroblock_layer() for the macroblock at <paramref name="addr"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Read(RbspReader r, Macroblock mb, int addr)
    {
        mb.Address = addr;
        mb.AllRefZero = false;
        mb.LumaNonZero = 0;
        mb.ChromaAcNonZero = 0;
        int mbType = r.ReadUe("mb_type", IntraSlice ? 25 : 30);
        if (!IntraSlice)
        {
            if (mbType < 5)
            {
                mb.Kind = mbType switch
                {
                    0 => MacroblockKind.P16x16,
                    1 => MacroblockKind.P16x8,
                    2 => MacroblockKind.P8x16,
                    _ => MacroblockKind.P8x8,
                };
                mb.AllRefZero = mbType == 4;
                ReadInter(r, mb);
                return;
            }

            mbType -= 5;
        }

        if (mbType == 25)
        {
            ReadPcm(r, mb);
            return;
        }

        int cbp;
        if (mbType == 0)
        {
            mb.Kind = MacroblockKind.I4x4;
            ReadIntra4x4Modes(r, mb);
            mb.IntraChromaPredMode = r.ReadUe("intra_chroma_pred_mode", 3);
            cbp = CodedBlockPatternMapping.FromCodeNum(r.ReadUe("coded_block_pattern", CodedBlockPatternMapping.MaxCodeNum), intra4x4: true);
        }
        else
        {
            mb.Kind = MacroblockKind.I16x16;
            mb.Intra16x16PredMode = (mbType - 1) % 4;
            cbp = ((((mbType - 1) / 4) % 3) << 4) | (mbType >= 13 ? 15 : 0);
            mb.IntraChromaPredMode = r.ReadUe("intra_chroma_pred_mode", 3);
        }

        mb.CodedBlockPattern = cbp;
        if (CheckIntraModes)
        {
            CheckModes(mb, r);
        }

        Commit(mb);
        ReadResidualWithQp(r, mb);
    }

    // Whether neighbour macroblock (nx, ny) can feed intra prediction (clause 8.3.1.2 availability rules).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool IntraNeighbour(int nx, int ny)
    {
        int w = _state.WidthInMbs;
        if (nx < 0 || ny < 0 || nx >= w)
        {
            return false;
        }

        int n = (ny * w) + nx;
        return _state.Available(n, SliceId) && (!ConstrainedIntraPred || IsIntraKind(_state.Kind[n]));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CheckModes(Macroblock mb, RbspReader r)
    {
        int w = _state.WidthInMbs;
        int mbx = mb.Address % w, mby = mb.Address / w;
        bool left = IntraNeighbour(mbx - 1, mby), top = IntraNeighbour(mbx, mby - 1), topLeft = IntraNeighbour(mbx - 1, mby - 1);
        if (!IntraPrediction.ChromaModeAllowed(mb.IntraChromaPredMode, left, top, topLeft))
        {
            throw new AvcFormatException($"intra_chroma_pred_mode {mb.IntraChromaPredMode} needs unavailable neighbours", r.BitPosition >> 3);
        }

        if (mb.Kind == MacroblockKind.I16x16)
        {
            if (!IntraPrediction.Intra16x16ModeAllowed(mb.Intra16x16PredMode, left, top, topLeft))
            {
                throw new AvcFormatException($"Intra16x16PredMode {mb.Intra16x16PredMode} needs unavailable neighbours", r.BitPosition >> 3);
            }

            return;
        }

        for (int raster = 0; raster < 16; raster++)
        {
            int bx = raster & 3, by = raster >> 2;
            bool l = bx > 0 || left, t = by > 0 || top;
            bool tl = bx > 0 && by > 0 || (bx > 0 ? top : by > 0 ? left : topLeft);
            if (!IntraPrediction.Intra4x4ModeAllowed(mb.Intra4x4PredMode[raster], l, t, tl))
            {
                throw new AvcFormatException($"Intra4x4PredMode {mb.Intra4x4PredMode[raster]} of block {raster} needs unavailable neighbours", r.BitPosition >> 3);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadInter(RbspReader r, Macroblock mb)
    {
        int maxRef = NumRefIdxActive - 1;
        Span<int> mvd = mb.Mvd;
        if (mb.Kind == MacroblockKind.P8x8)
        {
            for (int i = 0; i < 4; i++)
            {
                mb.SubMbType[i] = r.ReadUe("sub_mb_type", 3);
            }

            for (int i = 0; i < 4; i++)
            {
                mb.RefIdx[i] = maxRef > 0 && !mb.AllRefZero ? ReadRefIdx(r, maxRef) : 0;
            }

            for (int i = 0; i < 4; i++)
            {
                int parts = mb.SubMbType[i] == 0 ? 1 : mb.SubMbType[i] == 3 ? 4 : 2;
                for (int j = 0; j < parts; j++)
                {
                    ReadMvd(r, mvd, (i * 4) + j);
                }
            }
        }
        else
        {
            int parts = mb.Kind == MacroblockKind.P16x16 ? 1 : 2;
            for (int i = 0; i < parts; i++)
            {
                mb.RefIdx[i] = maxRef > 0 ? ReadRefIdx(r, maxRef) : 0;
            }

            for (int i = 0; i < parts; i++)
            {
                ReadMvd(r, mvd, i * 4);
            }
        }

        mb.CodedBlockPattern = CodedBlockPatternMapping.FromCodeNum(r.ReadUe("coded_block_pattern", CodedBlockPatternMapping.MaxCodeNum), intra4x4: false);
        Commit(mb);
        ReadResidualWithQp(r, mb);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReadRefIdx(RbspReader r, int maxRef)
    {
        int v = r.ReadTe(maxRef);
        return v > maxRef ? throw new AvcFormatException($"ref_idx_l0 {v} exceeds num_ref_idx_l0_active_minus1 {maxRef}", r.BitPosition >> 3) : v;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ReadMvd(RbspReader r, Span<int> mvd, int slot)
    {
        mvd[2 * slot] = r.ReadSe("mvd_l0 x", -16384, 16383);
        mvd[(2 * slot) + 1] = r.ReadSe("mvd_l0 y", -16384, 16383);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadPcm(RbspReader r, Macroblock mb)
    {
        mb.Kind = MacroblockKind.IPcm;
        while (!r.IsByteAligned)
        {
            if (r.ReadFlag())
            {
                throw new AvcFormatException("pcm_alignment_zero_bit is not zero", r.BitPosition >> 3);
            }
        }

        for (int i = 0; i < 384; i++)
        {
            mb.Pcm[i] = (byte)r.ReadBits(8);
        }

        mb.QpY = QpPred;
        mb.CodedBlockPattern = 0x2F;
        Commit(mb);
        _state.TotalCoeff.AsSpan(mb.Address * PictureState.CoeffSlots, PictureState.CoeffSlots).Fill(16);
        _state.QpY[mb.Address] = 0;
    }

    // Marks the macroblock decoded in this slice and stores what neighbours read before its residual.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Commit(Macroblock mb) => _state.MarkDecoded(mb.Address, SliceId, mb.Kind);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadIntra4x4Modes(RbspReader r, Macroblock mb)
    {
        int a = mb.Address;
        int mbx = a % _state.WidthInMbs;
        int left = mbx > 0 ? a - 1 : -1;
        int above = a - _state.WidthInMbs;
        bool leftOk = left >= 0 && _state.Available(left, SliceId) && !(ConstrainedIntraPred && !IsIntraKind(_state.Kind[left]));
        bool aboveOk = above >= 0 && _state.Available(above, SliceId) && !(ConstrainedIntraPred && !IsIntraKind(_state.Kind[above]));
        for (int blk = 0; blk < 16; blk++)
        {
            bool prevFlag = r.ReadFlag();
            int rem = prevFlag ? 0 : (int)r.ReadBits(3);
            int raster = BlockIndexToRaster(blk);
            int predicted = _state.PredictedIntra4x4Mode(mb, raster, leftOk, aboveOk);
            int mode = prevFlag ? predicted : rem < predicted ? rem : rem + 1;
            mb.Intra4x4PredMode[raster] = mode;
        }

        for (int i = 0; i < 16; i++)
        {
            _state.Intra4x4Mode[(a * 16) + i] = (sbyte)mb.Intra4x4PredMode[i];
        }
    }

    private static bool IsIntraKind(MacroblockKind k) => k >= MacroblockKind.I4x4;

    /// <summary>luma4x4BlkIdx (8x8 then 4x4 z-order) to raster block index (x + 4y).</summary>
    public static int BlockIndexToRaster(int blk) => ((blk & 8) << 0 | ((blk & 2) << 1)) + ((blk & 4) >> 1) + (blk & 1);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadResidualWithQp(RbspReader r, Macroblock mb)
    {
        int cbp = mb.CodedBlockPattern;
        mb.QpDelta = 0;
        if ((cbp & 0x3F) != 0 || mb.Kind == MacroblockKind.I16x16)
        {
            mb.QpDelta = r.ReadSe("mb_qp_delta", -26, 25);
        }

        mb.QpY = (QpPred + mb.QpDelta + 52) % 52;
        _state.QpY[mb.Address] = (byte)mb.QpY;
        ReadResidual(r, mb);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReadResidual(RbspReader r, Macroblock mb)
    {
        // Levels go straight into the record in raster order; only blocks flagged in LumaNonZero / ChromaAcNonZero
        // are rewritten, the others keep stale levels that reconstruction never reads.
        int a = mb.Address;
        Span<byte> totals = _state.TotalCoeff.AsSpan(a * PictureState.CoeffSlots, PictureState.CoeffSlots);
        totals.Clear();
        ReadOnlySpan<byte> zigZag = Macroblock.ZigZag;
        int cbp = mb.CodedBlockPattern;
        bool i16 = mb.Kind == MacroblockKind.I16x16;
        if (i16)
        {
            Array.Clear(mb.LumaDc);
            CavlcResidualReader.Read(r, CoeffTokenContext.Luma(_state, SliceId, a, 0, totals), 16, mb.LumaDc, zigZag);
        }

        int nonZero = 0;
        int max = i16 ? 15 : 16;
        ReadOnlySpan<byte> lumaScan = zigZag[(16 - max)..];
        for (int blk = 0; blk < 16; blk++)
        {
            if ((cbp & (1 << (blk >> 2))) == 0)
            {
                continue;
            }

            int raster = BlockIndexToRaster(blk);
            int nC = CoeffTokenContext.Luma(_state, SliceId, a, raster, totals);
            int n = CavlcResidualReader.Read(r, nC, max, mb.Luma.AsSpan(raster * 16, 16), lumaScan);
            totals[raster] = (byte)n;
            nonZero |= (n > 0 ? 1 : 0) << raster;
        }

        mb.LumaNonZero = nonZero;
        Array.Clear(mb.ChromaDc);
        int chroma = cbp >> 4;
        if (chroma != 0)
        {
            for (int c = 0; c < 2; c++)
            {
                CavlcResidualReader.Read(r, -1, 4, mb.ChromaDc.AsSpan(c * 4, 4), ChromaDcScan);
            }
        }

        if ((chroma & 2) != 0)
        {
            int acNonZero = 0;
            for (int c = 0; c < 2; c++)
            {
                for (int blk = 0; blk < 4; blk++)
                {
                    int slot = 16 + (c * 4) + blk;
                    int n = CavlcResidualReader.Read(r, CoeffTokenContext.Chroma(_state, SliceId, a, c, blk, totals), 15, mb.ChromaAc.AsSpan(((c * 4) + blk) * 16, 16), zigZag[1..]);
                    totals[slot] = (byte)n;
                    acNonZero |= (n > 0 ? 1 : 0) << ((c * 4) + blk);
                }
            }

            mb.ChromaAcNonZero = acNonZero;
        }
    }

    // Chroma DC levels are already in raster order of the 2x2 matrix.
    private static ReadOnlySpan<byte> ChromaDcScan => [0, 1, 2, 3];
}
