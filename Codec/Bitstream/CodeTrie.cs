namespace JpegLm.Codec.Bitstream;

/// <summary>
/// The flat binary trie both bit-level grammars walk (JPEG Huffman tables, H.264 CAVLC tables): node n's children
/// are <c>child[2·n + bit]</c>, each ≥ 0 an inner node, −(value + 1) a leaf, or <see cref="Dead"/> where no code
/// continues. Node 0 is the root and children always get larger indices than their parent, so one reverse pass
/// over the nodes sees every child before its parent.
/// </summary>
internal static class CodeTrie
{
    /// <summary>Child value of a bit no code continues with.</summary>
    public const int Dead = int.MinValue;

    /// <summary>A trie with only the root.</summary>
    public static List<int> Empty() => [Dead, Dead];

    /// <summary>Adds the <paramref name="length"/>-bit <paramref name="code"/> (MSB first) as a leaf for <paramref name="value"/>.</summary>
    /// <exception cref="InvalidOperationException">A shorter code is a prefix of this one (not a prefix code).</exception>
    public static void Insert(List<int> child, int code, int length, int value)
    {
        int node = 0;
        for (int b = length - 1; b > 0; b--)
        {
            int bit = (code >> b) & 1;
            int next = child[(2 * node) + bit];
            if (next == Dead)
            {
                next = child.Count / 2;
                child[(2 * node) + bit] = next;
                child.Add(Dead);
                child.Add(Dead);
            }
            else if (next < 0)
            {
                throw new InvalidOperationException("not a prefix code");
            }

            node = next;
        }

        child[(2 * node) + (code & 1)] = -(value + 1);
    }
}
