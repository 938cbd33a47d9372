using System.Runtime.CompilerServices;

namespace JpegLm.Codec.Avc;

/// <summary>
/// Per-macroblock facts of the picture being decoded that neighbours need (clause 6.4): which slice
/// decoded it, its kind, coefficient counts (CAVLC nC), intra modes, motion and QP (deblocking).
/// Arrays are sized once per sequence and reset per picture.
/// </summary>
internal sealed class PictureState
{
    /// <summary>Count slots per macroblock: 16 luma (raster), 4 Cb, 4 Cr.</summary>
    public const int CoeffSlots = 24;

    public PictureState(int widthInMbs, int heightInMbs)
    {
        WidthInMbs = widthInMbs;
        HeightInMbs = heightInMbs;
        int n = widthInMbs * heightInMbs;
        SliceId = new int[n];
        Kind = new MacroblockKind[n];
        TotalCoeff = new byte[n * CoeffSlots];
        Intra4x4Mode = new sbyte[n * 16];
        Mv = new short[n * 32];
        RefIdx = new sbyte[n * 4];
        RefPicId = new int[n * 4];
        QpY = new byte[n];
        SliceGroupMap = new byte[n];
        Reset();
    }

    public int WidthInMbs { get; }

    public int HeightInMbs { get; }

    public int MbCount => SliceId.Length;

    /// <summary>Slice (index within the picture) that decoded each macroblock, -1 when none did.</summary>
    public int[] SliceId { get; }

    public MacroblockKind[] Kind { get; }

    /// <summary>TotalCoeff per 4x4 block (16 for I_PCM, 0 for skipped).</summary>
    public byte[] TotalCoeff { get; }

    /// <summary>Intra4x4PredMode per 4x4 raster block; 2 (DC) for macroblocks that are not I4x4.</summary>
    public sbyte[] Intra4x4Mode { get; }

    /// <summary>Motion vector per 4x4 raster block (x, y) in quarter samples.</summary>
    public short[] Mv { get; }

    /// <summary>ref_idx_l0 per 8x8 (raster), -1 for intra.</summary>
    public sbyte[] RefIdx { get; }

    /// <summary>Identity of the referenced picture per 8x8 (deblocking compares pictures, not indices).</summary>
    public int[] RefPicId { get; }

    /// <summary>QPY per macroblock (0 for I_PCM, as deblocking wants).</summary>
    public byte[] QpY { get; }

    /// <summary>mbToSliceGroupMap (clause 8.2.2.8).</summary>
    public byte[] SliceGroupMap { get; }

    public void Reset() => Array.Fill(SliceId, -1);

    /// <summary>
    /// predIntra4x4PredMode (clause 8.3.1.1) of raster block <paramref name="raster"/> (x + 4y) of <paramref name="mb"/>:
    /// DC (2) when the block to its left or above lies in a macroblock that is not available for prediction
    /// (<paramref name="leftAvailable"/>, <paramref name="aboveAvailable"/>: the parser's and the writer's own rules),
    /// otherwise the smaller of the two neighbours' modes, from <paramref name="mb"/> itself or from
    /// <see cref="Intra4x4Mode"/>. The parser and the encoder's writer both predict through here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int PredictedIntra4x4Mode(Macroblock mb, int raster, bool leftAvailable, bool aboveAvailable)
    {
        int bx = raster & 3, by = raster >> 2;
        if (!(bx > 0 || leftAvailable) || !(by > 0 || aboveAvailable))
        {
            return 2;
        }

        int a = mb.Address;
        int modeA = bx > 0 ? mb.Intra4x4PredMode[raster - 1] : Intra4x4Mode[((a - 1) * 16) + raster + 3];
        int modeB = by > 0 ? mb.Intra4x4PredMode[raster - 4] : Intra4x4Mode[((a - WidthInMbs) * 16) + raster + 12];
        return Math.Min(modeA, modeB);
    }

    /// <summary>
    /// Records that slice <paramref name="sliceId"/> decodes macroblock <paramref name="addr"/> of kind
    /// <paramref name="kind"/>, as the parser and the encoder's writer both do before its residual. A macroblock
    /// that is not Intra_4x4 counts as DC (mode 2) when a neighbour predicts its Intra4x4PredMode (8.3.1.1);
    /// an Intra_4x4 one gets its modes written as they are known.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void MarkDecoded(int addr, int sliceId, MacroblockKind kind)
    {
        SliceId[addr] = sliceId;
        Kind[addr] = kind;
        if (kind != MacroblockKind.I4x4)
        {
            Intra4x4Mode.AsSpan(addr * 16, 16).Fill(2);
        }
    }

    /// <summary>Whether macroblock <paramref name="addr"/> is available to one in slice <paramref name="slice"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Available(int addr, int slice) => addr >= 0 && SliceId[addr] == slice;

    /// <summary>Next macroblock address in the same slice group (clause 8.2.2, NextMbAddress), or MbCount.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int NextMbAddress(int n)
    {
        int i = n + 1;
        byte g = SliceGroupMap[n];
        while (i < SliceGroupMap.Length && SliceGroupMap[i] != g)
        {
            i++;
        }

        return i;
    }
}
