using System.Numerics;
using System.Runtime.CompilerServices;

namespace JpegLm.Codec.Avc;

/// <summary>
/// The CAVLC code tables of clause 9.2 written as (code length, code value) pairs, and the lookup
/// tables built from them once: peeked bits give the symbol and its length in one step (coeff_token
/// through its leading zeros, the others by direct index).
/// </summary>
internal static class CavlcTables
{
    // Table 9-5, coeff_token, indexed [TotalCoeff * 4 + TrailingOnes], for 0<=nC<2, 2<=nC<4, 4<=nC<8.
    private static readonly byte[][] CoeffTokenLength =
    [
        [
            1, 0, 0, 0, 6, 2, 0, 0, 8, 6, 3, 0, 9, 8, 7, 5, 10, 9, 8, 6,
            11, 10, 9, 7, 13, 11, 10, 8, 13, 13, 11, 9, 13, 13, 13, 10,
            14, 14, 13, 11, 14, 14, 14, 13, 15, 15, 14, 14, 15, 15, 15, 14,
            16, 15, 15, 15, 16, 16, 16, 15, 16, 16, 16, 16, 16, 16, 16, 16,
        ],
        [
            2, 0, 0, 0, 6, 2, 0, 0, 6, 5, 3, 0, 7, 6, 6, 4, 8, 6, 6, 4,
            8, 7, 7, 5, 9, 8, 8, 6, 11, 9, 9, 6, 11, 11, 11, 7,
            12, 11, 11, 9, 12, 12, 12, 11, 12, 12, 12, 11, 13, 13, 13, 12,
            13, 13, 13, 13, 13, 14, 13, 13, 14, 14, 14, 13, 14, 14, 14, 14,
        ],
        [
            4, 0, 0, 0, 6, 4, 0, 0, 6, 5, 4, 0, 6, 5, 5, 4, 7, 5, 5, 4,
            7, 5, 5, 4, 7, 6, 6, 4, 7, 6, 6, 4, 8, 7, 7, 5,
            8, 8, 7, 6, 9, 8, 8, 7, 9, 9, 8, 8, 9, 9, 9, 8,
            10, 9, 9, 9, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10,
        ],
    ];

    private static readonly byte[][] CoeffTokenCode =
    [
        [
            1, 0, 0, 0, 5, 1, 0, 0, 7, 4, 1, 0, 7, 6, 5, 3, 7, 6, 5, 3,
            7, 6, 5, 4, 15, 6, 5, 4, 11, 14, 5, 4, 8, 10, 13, 4,
            15, 14, 9, 4, 11, 10, 13, 12, 15, 14, 9, 12, 11, 10, 13, 8,
            15, 1, 9, 12, 11, 14, 13, 8, 7, 10, 9, 12, 4, 6, 5, 8,
        ],
        [
            3, 0, 0, 0, 11, 2, 0, 0, 7, 7, 3, 0, 7, 10, 9, 5, 7, 6, 5, 4,
            4, 6, 5, 6, 7, 6, 5, 8, 15, 6, 5, 4, 11, 14, 13, 4,
            15, 10, 9, 4, 11, 14, 13, 12, 8, 10, 9, 8, 15, 14, 13, 12,
            11, 10, 9, 12, 7, 11, 6, 8, 9, 8, 10, 1, 7, 6, 5, 4,
        ],
        [
            15, 0, 0, 0, 15, 14, 0, 0, 11, 15, 13, 0, 8, 12, 14, 12, 15, 10, 11, 11,
            11, 8, 9, 10, 9, 14, 13, 9, 8, 10, 9, 8, 15, 14, 13, 13,
            11, 14, 10, 12, 15, 10, 13, 12, 11, 14, 9, 12, 8, 10, 13, 8,
            13, 7, 9, 12, 9, 12, 11, 10, 5, 8, 7, 6, 1, 4, 3, 2,
        ],
    ];

    // Table 9-5, coeff_token for nC == -1 (chroma DC, 4:2:0), [TotalCoeff * 4 + TrailingOnes].
    private static readonly byte[] ChromaDcCoeffTokenLength = [2, 0, 0, 0, 6, 1, 0, 0, 6, 6, 3, 0, 6, 7, 7, 6, 6, 8, 8, 7];
    private static readonly byte[] ChromaDcCoeffTokenCode = [1, 0, 0, 0, 7, 1, 0, 0, 4, 6, 1, 0, 3, 3, 2, 5, 2, 3, 2, 0];

    // Tables 9-7 and 9-8, total_zeros for 4x4 blocks, [TotalCoeff - 1][total_zeros].
    private static readonly byte[][] TotalZerosLength =
    [
        [1, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 9],
        [3, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 6, 6, 6, 6],
        [4, 3, 3, 3, 4, 4, 3, 3, 4, 5, 5, 6, 5, 6],
        [5, 3, 4, 4, 3, 3, 3, 4, 3, 4, 5, 5, 5],
        [4, 4, 4, 3, 3, 3, 3, 3, 4, 5, 4, 5],
        [6, 5, 3, 3, 3, 3, 3, 3, 4, 3, 6],
        [6, 5, 3, 3, 3, 2, 3, 4, 3, 6],
        [6, 4, 5, 3, 2, 2, 3, 3, 6],
        [6, 6, 4, 2, 2, 3, 2, 5],
        [5, 5, 3, 2, 2, 2, 4],
        [4, 4, 3, 3, 1, 3],
        [4, 4, 2, 1, 3],
        [3, 3, 1, 2],
        [2, 2, 1],
        [1, 1],
    ];

    private static readonly byte[][] TotalZerosCode =
    [
        [1, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 1],
        [7, 6, 5, 4, 3, 5, 4, 3, 2, 3, 2, 3, 2, 1, 0],
        [5, 7, 6, 5, 4, 3, 4, 3, 2, 3, 2, 1, 1, 0],
        [3, 7, 5, 4, 6, 5, 4, 3, 3, 2, 2, 1, 0],
        [5, 4, 3, 7, 6, 5, 4, 3, 2, 1, 1, 0],
        [1, 1, 7, 6, 5, 4, 3, 2, 1, 1, 0],
        [1, 1, 5, 4, 3, 3, 2, 1, 1, 0],
        [1, 1, 1, 3, 3, 2, 2, 1, 0],
        [1, 0, 1, 3, 2, 1, 1, 1],
        [1, 0, 1, 3, 2, 1, 1],
        [0, 1, 1, 2, 1, 3],
        [0, 1, 1, 1, 1],
        [0, 1, 1, 1],
        [0, 1, 1],
        [0, 1],
    ];

    // Table 9-9 (a), total_zeros for chroma DC 2x2, [TotalCoeff - 1][total_zeros].
    private static readonly byte[][] ChromaDcTotalZerosLength = [[1, 2, 3, 3], [1, 2, 2], [1, 1]];
    private static readonly byte[][] ChromaDcTotalZerosCode = [[1, 1, 1, 0], [1, 1, 0], [1, 0]];

    // Table 9-10, run_before, [Min(zerosLeft, 7) - 1][run_before].
    private static readonly byte[][] RunBeforeLength =
    [
        [1, 1],
        [1, 2, 2],
        [2, 2, 2, 2],
        [2, 2, 2, 3, 3],
        [2, 2, 3, 3, 3, 3],
        [2, 3, 3, 3, 3, 3, 3],
        [3, 3, 3, 3, 3, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11],
    ];

    private static readonly byte[][] RunBeforeCode =
    [
        [1, 0],
        [1, 1, 0],
        [3, 2, 1, 0],
        [3, 2, 1, 1, 0],
        [3, 2, 3, 2, 1, 0],
        [3, 0, 1, 3, 2, 5, 4],
        [7, 6, 5, 4, 3, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1],
    ];

    /// <summary>Bits peeked for a coeff_token lookup (the longest code).</summary>
    public const int CoeffTokenBits = 16;

    // A coeff_token is found by its leading zeros (0..16) and the 3 bits after the first one: no code has more
    // than 3 bits there, so 17 x 8 entries per table replace a 2^16 one (which missed the L1 cache on most reads).
    private const int CoeffTokenSuffixBits = 3;

    /// <summary>Bits peeked for total_zeros and run_before lookups.</summary>
    public const int ZerosBits = 11;

    // coeff_token lookups for nC classes 0..2 (VLC) and 3 (chroma DC), indexed as in CoeffTokenEntry.
    private static readonly ushort[][] CoeffToken = BuildCoeffTokens();

    /// <summary>total_zeros lookups for TotalCoeff 1..15 (index TotalCoeff - 1).</summary>
    public static readonly ushort[][] TotalZeros = Build(TotalZerosLength, TotalZerosCode);

    /// <summary>total_zeros lookups for chroma DC, TotalCoeff 1..3.</summary>
    public static readonly ushort[][] ChromaDcTotalZeros = Build(ChromaDcTotalZerosLength, ChromaDcTotalZerosCode);

    /// <summary>run_before lookups for zerosLeft 1..6 and &gt;6 (index Min(zerosLeft,7) - 1).</summary>
    public static readonly ushort[][] RunBefore = Build(RunBeforeLength, RunBeforeCode);

    /// <summary>
    /// The coeff_token of nC class <paramref name="table"/> (0..2 VLC, 3 chroma DC) that starts the
    /// <see cref="CoeffTokenBits"/> bits <paramref name="peek"/>: symbol &lt;&lt; 8 | length with
    /// symbol = TotalCoeff * 4 + TrailingOnes, or 0 where no code exists.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ushort CoeffTokenEntry(int table, uint peek)
    {
        int zeros = BitOperations.LeadingZeroCount(peek << (32 - CoeffTokenBits)); // 32 when peek is 0
        int index = zeros >= CoeffTokenBits
            ? CoeffTokenBits << CoeffTokenSuffixBits
            : (zeros << CoeffTokenSuffixBits) | (int)(((peek << (zeros + 1)) & 0xFFFF) >> (CoeffTokenBits - CoeffTokenSuffixBits));
        return CoeffToken[table][index];
    }

    /// <summary>coeff_token (length, code) by [TotalCoeff * 4 + TrailingOnes]: nC classes 0..2, then 3 = chroma DC.</summary>
    internal static (byte[] Length, byte[] Code) CoeffTokenTable(int nCClass)
        => nCClass < 3 ? (CoeffTokenLength[nCClass], CoeffTokenCode[nCClass]) : (ChromaDcCoeffTokenLength, ChromaDcCoeffTokenCode);

    /// <summary>total_zeros (length, code) by value for TotalCoeff 1..15 (chroma DC: 1..3).</summary>
    internal static (byte[] Length, byte[] Code) TotalZerosTable(int totalCoeff, bool chromaDc)
        => chromaDc ? (ChromaDcTotalZerosLength[totalCoeff - 1], ChromaDcTotalZerosCode[totalCoeff - 1]) : (TotalZerosLength[totalCoeff - 1], TotalZerosCode[totalCoeff - 1]);

    /// <summary>run_before (length, code) by value for zerosLeft 1..6 and &gt; 6 (index Min(zerosLeft, 7)).</summary>
    internal static (byte[] Length, byte[] Code) RunBeforeTable(int zerosLeftClass) => (RunBeforeLength[zerosLeftClass - 1], RunBeforeCode[zerosLeftClass - 1]);

    /// <summary>All (length, code) tables, for the prefix-code self-test.</summary>
    internal static IEnumerable<(byte[] Length, byte[] Code)> AllTables()
    {
        for (int i = 0; i < 3; i++)
        {
            yield return (CoeffTokenLength[i], CoeffTokenCode[i]);
        }

        yield return (ChromaDcCoeffTokenLength, ChromaDcCoeffTokenCode);
        for (int i = 0; i < TotalZerosLength.Length; i++)
        {
            yield return (TotalZerosLength[i], TotalZerosCode[i]);
        }

        for (int i = 0; i < ChromaDcTotalZerosLength.Length; i++)
        {
            yield return (ChromaDcTotalZerosLength[i], ChromaDcTotalZerosCode[i]);
        }

        for (int i = 0; i < RunBeforeLength.Length; i++)
        {
            yield return (RunBeforeLength[i], RunBeforeCode[i]);
        }
    }

    private static ushort[][] BuildCoeffTokens()
    {
        var tables = new ushort[4][];
        for (int t = 0; t < 4; t++)
        {
            (byte[] lengths, byte[] codes) = CoeffTokenTable(t);
            var table = new ushort[(CoeffTokenBits + 1) << CoeffTokenSuffixBits];
            for (int symbol = 0; symbol < lengths.Length; symbol++)
            {
                int len = lengths[symbol];
                if (len == 0)
                {
                    continue;
                }

                // A code of len bits: zeros leading zeros, a one, then suffix bits (none for the all-zero code,
                // which takes every index of at least len zeros).
                int code = codes[symbol];
                int zeros = len - (32 - BitOperations.LeadingZeroCount((uint)code));
                int suffixBits = code == 0 ? 0 : len - zeros - 1;
                int suffix = code & ((1 << suffixBits) - 1);
                for (int z = zeros; z <= (code == 0 ? CoeffTokenBits : zeros); z++)
                {
                    int first = (z << CoeffTokenSuffixBits) | (suffix << (CoeffTokenSuffixBits - suffixBits));
                    for (int k = 0; k < 1 << (CoeffTokenSuffixBits - suffixBits); k++)
                    {
                        table[first + k] = (ushort)((symbol << 8) | len);
                    }
                }
            }

            tables[t] = table;
        }

        return tables;
    }

    private static ushort[][] Build(byte[][] lengths, byte[][] codes)
    {
        var tables = new ushort[lengths.Length][];
        for (int i = 0; i < lengths.Length; i++)
        {
            tables[i] = BuildOne(lengths[i], codes[i], ZerosBits);
        }

        return tables;
    }

    private static ushort[] BuildOne(byte[] lengths, byte[] codes, int bits)
    {
        var table = new ushort[1 << bits];
        for (int symbol = 0; symbol < lengths.Length; symbol++)
        {
            int len = lengths[symbol];
            if (len == 0)
            {
                continue;
            }

            int first = codes[symbol] << (bits - len);
            int count = 1 << (bits - len);
            for (int k = 0; k < count; k++)
            {
                table[first + k] = (ushort)((symbol << 8) | len);
            }
        }

        return table;
    }
}
