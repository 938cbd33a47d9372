using System.Runtime.CompilerServices;

namespace JpegLm.Codec.Avc;

/// <summary>
/// nC, the context that selects the coeff_token table (clause 9.2.1), and the table it selects (Table 9-5).
/// The decoder's parser, the encoder and the stream grammar derive it here, so all three read and write
/// the same code for every block.
/// </summary>
/// <remarks>
/// <c>totals</c> holds the TotalCoeff of the current macroblock's blocks in <see cref="PictureState.CoeffSlots"/>
/// layout: luma blocks by raster index 0..15, then Cb 4x4 blocks 16..19 and Cr 20..23. Blocks of neighbouring
/// macroblocks come from <see cref="PictureState.TotalCoeff"/> when a picture is given and the neighbour is in
/// the same slice; the grammar, whose slices hold one macroblock, passes no picture.
/// </remarks>
internal static class CoeffTokenContext
{
    /// <summary>The table index of chroma DC blocks (nC = −1).</summary>
    public const int ChromaDcTable = 3;

    /// <summary>The table index of nC ≥ 8: the 6-bit fixed-length code rather than a VLC.</summary>
    public const int FixedLengthTable = 4;

    /// <summary>
    /// nC of the luma block at raster index <paramref name="raster"/> of macroblock <paramref name="addr"/>:
    /// the rounded mean of the left (nA) and upper (nB) blocks' TotalCoeff, either one alone, or 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Luma(PictureState? picture, int sliceId, int addr, int raster, ReadOnlySpan<byte> totals)
    {
        // Column 0 takes nA from column 3 of the left macroblock, row 0 takes nB from row 3 of the upper one.
        int nA = (raster & 3) > 0 ? totals[raster - 1] : Left(picture, sliceId, addr, raster + 3);
        int nB = (raster >> 2) > 0 ? totals[raster - 4] : Above(picture, sliceId, addr, raster + 12);
        return Combine(nA, nB);
    }

    /// <summary>nC of chroma AC block <paramref name="blk"/> (0..3) of component <paramref name="c"/> (0 = Cb, 1 = Cr).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Chroma(PictureState? picture, int sliceId, int addr, int c, int blk, ReadOnlySpan<byte> totals)
    {
        int slot = 16 + (c * 4);
        int nA = (blk & 1) > 0 ? totals[slot + blk - 1] : Left(picture, sliceId, addr, slot + blk + 1);
        int nB = (blk >> 1) > 0 ? totals[slot + blk - 2] : Above(picture, sliceId, addr, slot + blk + 2);
        return Combine(nA, nB);
    }

    /// <summary>
    /// The coeff_token table <paramref name="nC"/> selects: 0..2 for the VLCs of 0 ≤ nC &lt; 2, 2 ≤ nC &lt; 4 and
    /// 4 ≤ nC &lt; 8, <see cref="ChromaDcTable"/> for −1, <see cref="FixedLengthTable"/> for nC ≥ 8.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Table(int nC) => nC < 0 ? ChromaDcTable : nC < 2 ? 0 : nC < 4 ? 1 : nC < 8 ? 2 : FixedLengthTable;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Left(PictureState? picture, int sliceId, int addr, int slot) =>
        picture != null && addr % picture.WidthInMbs > 0 && picture.Available(addr - 1, sliceId)
            ? picture.TotalCoeff[((addr - 1) * PictureState.CoeffSlots) + slot]
            : -1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Above(PictureState? picture, int sliceId, int addr, int slot) =>
        picture != null && addr >= picture.WidthInMbs && picture.Available(addr - picture.WidthInMbs, sliceId)
            ? picture.TotalCoeff[((addr - picture.WidthInMbs) * PictureState.CoeffSlots) + slot]
            : -1;

    // Unavailable neighbours are −1: both present → rounded mean, one → that one, none → 0.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Combine(int nA, int nB) => nA >= 0 && nB >= 0 ? (nA + nB + 1) >> 1 : nA >= 0 ? nA : nB >= 0 ? nB : 0;
}
