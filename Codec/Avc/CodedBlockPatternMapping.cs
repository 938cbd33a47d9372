namespace JpegLm.Codec.Avc;

/// <summary>
/// Table 9-4 for chroma_format_idc 1: the coded_block_pattern each me(v) codeNum stands for, in the
/// Intra_4x4 and Inter columns. The decoder's parser, the encoder and the stream grammar all map through
/// here, so the table exists once and a typo cannot make the writer and the readers disagree.
/// </summary>
internal static class CodedBlockPatternMapping
{
    // Intra_4x4 column, indexed by codeNum.
    private static readonly byte[] IntraByCode =
    [
        47, 31, 15, 0, 23, 27, 29, 30, 7, 11, 13, 14, 39, 43, 45, 46, 16, 3, 5, 10, 12, 19, 21, 26,
        28, 35, 37, 42, 44, 1, 2, 4, 8, 17, 18, 20, 24, 6, 9, 22, 25, 32, 33, 34, 36, 40, 38, 41,
    ];

    // Inter column, indexed by codeNum.
    private static readonly byte[] InterByCode =
    [
        0, 16, 1, 2, 4, 8, 32, 3, 5, 10, 12, 15, 47, 7, 11, 13, 14, 6, 9, 31, 35, 37, 42, 44,
        33, 34, 36, 40, 39, 43, 45, 46, 17, 18, 20, 24, 19, 21, 26, 28, 23, 27, 29, 30, 22, 25, 38, 41,
    ];

    // The writer's direction, derived from the columns above rather than typed out a second time.
    private static readonly byte[] IntraCodeByCbp = Invert(IntraByCode);
    private static readonly byte[] InterCodeByCbp = Invert(InterByCode);

    /// <summary>The largest codeNum of the table (coded_block_pattern is me(v) over 0..47).</summary>
    public const int MaxCodeNum = 47;

    /// <summary>coded_block_pattern of <paramref name="codeNum"/> (0..47) for an Intra_4x4 or an Inter macroblock.</summary>
    public static int FromCodeNum(int codeNum, bool intra4x4) => (intra4x4 ? IntraByCode : InterByCode)[codeNum];

    /// <summary>The codeNum that codes <paramref name="cbp"/> (0..47) for an Intra_4x4 or an Inter macroblock.</summary>
    public static int ToCodeNum(int cbp, bool intra4x4) => (intra4x4 ? IntraCodeByCbp : InterCodeByCbp)[cbp];

    private static byte[] Invert(byte[] cbpByCode)
    {
        var codeByCbp = new byte[cbpByCode.Length];
        for (int code = 0; code < cbpByCode.Length; code++)
        {
            codeByCbp[cbpByCode[code]] = (byte)code;
        }

        return codeByCbp;
    }
}
