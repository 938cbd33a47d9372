using JpegLm.Codec.Bitstream;

namespace JpegLm.Codec.Avc.Grammar;

/// <summary>
/// A CAVLC code table (coeff_token, total_zeros, run_before) as a binary trie over code bits, for the
/// bit-level grammar: each node knows the smallest key (TotalCoeff, total_zeros or run_before) of the
/// codes below it, so a prefix can still finish validly iff that key is within the element's limit; and,
/// per limit, which valid code below it is shortest (the canonical completion, ties to the smaller code).
/// </summary>
internal sealed class AvcCodeTrie
{
    /// <summary>Child value of a bit no code continues with.</summary>
    public const int Dead = CodeTrie.Dead;

    private const int Limits = 17; // keys and limits are 0..16

    private AvcCodeTrie(int[] child, int[] minKey, int[] keyOf, int[] canonical)
    {
        Child = child;
        MinKey = minKey;
        KeyOf = keyOf;
        _canonical = canonical;
    }

    /// <summary>Child[2·node + bit]: ≥ 0 an inner node, −(value + 1) a leaf, <see cref="Dead"/> no code.</summary>
    public int[] Child { get; }

    /// <summary>Smallest key of a code below each node.</summary>
    public int[] MinKey { get; }

    /// <summary>The key of each value (index = value).</summary>
    public int[] KeyOf { get; }

    // Per (node, limit): the first bit of the shortest code below the node whose key is within the limit, or -1.
    private readonly int[] _canonical;

    /// <summary>The bit the canonical completion takes next from <paramref name="node"/>, or −1 when nothing below fits <paramref name="limit"/>.</summary>
    public int CanonicalBit(int node, int limit) => _canonical[(node * Limits) + Math.Clamp(limit, 0, Limits - 1)];

    /// <summary>Builds a trie from (length, code) by value; a length of 0 marks a value with no code. The key of a value is <paramref name="key"/>(value).</summary>
    public static AvcCodeTrie Build(byte[] lengths, byte[] codes, Func<int, int> key)
    {
        var entries = new List<(int Value, int Length, int Code)>();
        for (int v = 0; v < lengths.Length; v++)
        {
            if (lengths[v] > 0)
            {
                entries.Add((v, lengths[v], codes[v]));
            }
        }

        return Build(entries, lengths.Length, key);
    }

    /// <summary>Builds a trie from explicit (value, length, code) entries.</summary>
    public static AvcCodeTrie Build(List<(int Value, int Length, int Code)> entries, int values, Func<int, int> key)
    {
        List<int> child = CodeTrie.Empty();
        foreach ((int value, int length, int code) in entries)
        {
            CodeTrie.Insert(child, code, length, value);
        }

        var keyOf = new int[values];
        for (int v = 0; v < values; v++)
        {
            keyOf[v] = key(v);
        }

        int nodes = child.Count / 2;
        var minKey = new int[nodes];
        var depth = new int[nodes * Limits]; // shortest valid code length below (node, limit)
        var canonical = new int[nodes * Limits];
        for (int n = nodes - 1; n >= 0; n--)
        {
            // Children have larger indices than their parent, so one reverse pass sees them first.
            minKey[n] = int.MaxValue;
            for (int limit = 0; limit < Limits; limit++)
            {
                int best = int.MaxValue, bestBit = -1;
                for (int bit = 0; bit < 2; bit++)
                {
                    int c = child[(2 * n) + bit];
                    int d = c >= 0 ? (depth[(c * Limits) + limit] == int.MaxValue ? int.MaxValue : depth[(c * Limits) + limit] + 1)
                        : c != Dead && keyOf[-c - 1] <= limit ? 1 : int.MaxValue;
                    if (d < best)
                    {
                        (best, bestBit) = (d, bit);
                    }
                }

                depth[(n * Limits) + limit] = best;
                canonical[(n * Limits) + limit] = bestBit;
            }

            for (int bit = 0; bit < 2; bit++)
            {
                int c = child[(2 * n) + bit];
                minKey[n] = Math.Min(minKey[n], c >= 0 ? minKey[c] : c != Dead ? keyOf[-c - 1] : int.MaxValue);
            }
        }

        return new AvcCodeTrie([.. child], minKey, keyOf, canonical);
    }

    /// <summary>The coeff_token tries: nC classes 0..2 (VLC), 3 (chroma DC), 4 (nC ≥ 8, the 6-bit FLC); value = TotalCoeff·4 + TrailingOnes, key = TotalCoeff.</summary>
    public static AvcCodeTrie[] CoeffToken { get; } = BuildCoeffTokens();

    /// <summary>total_zeros tries for 4x4 blocks by TotalCoeff (index 1..15; key = value).</summary>
    public static AvcCodeTrie[] TotalZeros { get; } = [null!, .. Enumerable.Range(1, 15).Select(tc => Plain(CavlcTables.TotalZerosTable(tc, false)))];

    /// <summary>total_zeros tries for chroma DC by TotalCoeff (index 1..3).</summary>
    public static AvcCodeTrie[] ChromaDcTotalZeros { get; } = [null!, .. Enumerable.Range(1, 3).Select(tc => Plain(CavlcTables.TotalZerosTable(tc, true)))];

    /// <summary>run_before tries by Min(zerosLeft, 7) (index 1..7).</summary>
    public static AvcCodeTrie[] RunBefore { get; } = [null!, .. Enumerable.Range(1, 7).Select(z => Plain(CavlcTables.RunBeforeTable(z)))];

    private static AvcCodeTrie Plain((byte[] Length, byte[] Code) t) => Build(t.Length, t.Code, v => v);

    private static AvcCodeTrie[] BuildCoeffTokens()
    {
        var tries = new AvcCodeTrie[5];
        for (int c = 0; c < 4; c++)
        {
            (byte[] len, byte[] code) = CavlcTables.CoeffTokenTable(c);
            tries[c] = Build(len, code, v => v >> 2);
        }

        // nC >= 8 (9.2.1): a 6-bit code, TotalCoeff − 1 in the high 4 bits and TrailingOnes in the low 2,
        // except 000011 for no coefficients; codes with more trailing ones than coefficients do not exist.
        var flc = new List<(int, int, int)> { (0, 6, 3) };
        for (int code = 0; code < 64; code++)
        {
            int tc = (code >> 2) + 1, t1 = code & 3;
            if (code != 3 && t1 <= tc)
            {
                flc.Add(((tc * 4) + t1, 6, code));
            }
        }

        tries[4] = Build(flc, 17 * 4, v => v >> 2);
        return tries;
    }
}
