namespace JpegLm.Codec.Avc;

/// <summary>The kinds of macroblock a baseline slice holds (mb_type, Tables 7-11 and 7-13, folded).</summary>
public enum MacroblockKind : byte
{
    /// <summary>Not decoded (yet).</summary>
    None = 0,

    /// <summary>P_Skip: no syntax beyond the skip run.</summary>
    PSkip,

    /// <summary>P_L0_16x16.</summary>
    P16x16,

    /// <summary>P_L0_L0_16x8.</summary>
    P16x8,

    /// <summary>P_L0_L0_8x16.</summary>
    P8x16,

    /// <summary>P_8x8 (and P_8x8ref0, with every ref_idx 0).</summary>
    P8x8,

    /// <summary>I_NxN with 4x4 transforms (Intra_4x4 prediction).</summary>
    I4x4,

    /// <summary>I_16x16_*.</summary>
    I16x16,

    /// <summary>I_PCM: raw samples.</summary>
    IPcm,
}

/// <summary>
/// Everything the slice reader parses for one macroblock, consumed by reconstruction. One instance
/// is reused for every macroblock; arrays are fixed size.
/// </summary>
public sealed class Macroblock
{
    /// <summary>Zig-zag scan of a 4x4 frame block: scan index to raster index (Table 8-13).</summary>
    internal static readonly byte[] ZigZag = [0, 1, 4, 8, 5, 2, 3, 6, 9, 12, 13, 10, 7, 11, 14, 15];

    /// <summary>Macroblock address in the picture.</summary>
    public int Address { get; set; }

    /// <summary>The macroblock's kind.</summary>
    public MacroblockKind Kind { get; set; }

    /// <summary>Whether the kind is intra.</summary>
    public bool IsIntra => Kind >= MacroblockKind.I4x4;

    /// <summary>P_8x8ref0 (every ref_idx inferred 0).</summary>
    public bool AllRefZero { get; set; }

    /// <summary>Intra16x16PredMode (0..3).</summary>
    public int Intra16x16PredMode { get; set; }

    /// <summary>intra_chroma_pred_mode (0..3).</summary>
    public int IntraChromaPredMode { get; set; }

    /// <summary>Intra4x4PredMode per 4x4 block, raster order (derived while parsing, clause 8.3.1.1).</summary>
    public int[] Intra4x4PredMode { get; } = new int[16];

    /// <summary>sub_mb_type per 8x8 (0 8x8, 1 8x4, 2 4x8, 3 4x4).</summary>
    public int[] SubMbType { get; } = new int[4];

    /// <summary>ref_idx_l0 per macroblock partition (or per 8x8 for P_8x8).</summary>
    public int[] RefIdx { get; } = new int[4];

    /// <summary>mvd_l0 (x, y) per partition: index partition * 4 + sub-partition.</summary>
    public int[] Mvd { get; } = new int[32];

    /// <summary>coded_block_pattern: luma bits 0..3, chroma in bits 4..5.</summary>
    public int CodedBlockPattern { get; set; }

    /// <summary>mb_qp_delta.</summary>
    public int QpDelta { get; set; }

    /// <summary>QPY after the delta.</summary>
    public int QpY { get; set; }

    /// <summary>Intra 16x16 luma DC levels in raster order of the 4x4 DC matrix.</summary>
    public int[] LumaDc { get; } = new int[16];

    /// <summary>Luma levels: 16 blocks (raster block order) of 16 levels in raster order within the block; only blocks flagged in <see cref="LumaNonZero"/> are current.</summary>
    public int[] Luma { get; } = new int[256];

    /// <summary>Chroma DC levels: Cb 0..3, Cr 4..7 (raster 2x2).</summary>
    public int[] ChromaDc { get; } = new int[8];

    /// <summary>Chroma AC levels: Cb blocks 0..3 then Cr blocks 0..3, 16 raster levels each (index 0 unused); only blocks flagged in <see cref="ChromaAcNonZero"/> are current.</summary>
    public int[] ChromaAc { get; } = new int[128];

    /// <summary>Which luma 4x4 blocks (raster) have any nonzero level, bit per block.</summary>
    public int LumaNonZero { get; set; }

    /// <summary>Which chroma AC blocks have any nonzero level: bit per block, Cb 0..3, Cr 4..7.</summary>
    public int ChromaAcNonZero { get; set; }

    /// <summary>I_PCM samples: 256 luma then 64 Cb then 64 Cr.</summary>
    public byte[] Pcm { get; } = new byte[384];
}
