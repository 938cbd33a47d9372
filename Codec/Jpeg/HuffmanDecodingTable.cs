namespace JpegLm.Codec.Jpeg;

/// <summary>
/// A Huffman table ready for decoding (T.81 Annex C and F.2.2.3): a lookahead table answers every
/// code of up to <see cref="LookaheadBits"/> bits in one probe; longer codes fall back to the
/// MAXCODE/VALPTR walk of Figure F.16, which is rare in practice.
/// </summary>
internal sealed class HuffmanDecodingTable
{
    /// <summary>Bits resolved by one lookup.</summary>
    public const int LookaheadBits = 9;

    /// <summary>
    /// For each <see cref="LookaheadBits"/>-bit prefix: (code length &lt;&lt; 8) | symbol, or 0 when the code is longer.
    /// </summary>
    public readonly ushort[] Lookahead = new ushort[1 << LookaheadBits];

    /// <summary>
    /// AC tables only: for each prefix whose whole run/size symbol and magnitude bits fit in the lookahead,
    /// (value &lt;&lt; 16) | (run &lt;&lt; 8) | total bits; 0 otherwise. Saves the second bit-buffer access per coefficient.
    /// </summary>
    public readonly int[] FastAc = new int[1 << LookaheadBits];

    /// <summary>
    /// AC tables only: <see cref="FastAc"/> and <see cref="Lookahead"/> in one table for the sequential
    /// decoder, so its loop keeps one table in a register: negative = fast entry, (value &lt;&lt; 16 with bit
    /// 31 set) | (run &lt;&lt; 8) | total bits, value in bits 16..30; positive = (length &lt;&lt; 8) | symbol;
    /// 0 = a code longer than the lookahead.
    /// </summary>
    public readonly int[] Sequential = new int[1 << LookaheadBits];

    /// <summary>MaxCode[l]: largest code of length l (1..16), −1 if none; MaxCode[17] is a sentinel.</summary>
    private readonly int[] _maxCode = new int[18];

    /// <summary>ValueOffset[l]: index in Values of the first code of length l, minus that code.</summary>
    private readonly int[] _valueOffset = new int[17];

    private readonly byte[] _values = new byte[256];

    /// <summary>How many recently built tables each thread keeps for <see cref="Get"/>.</summary>
    private const int CacheSize = 8;

    // Most streams of one source repeat the same four DHT tables, and building a table (lookahead plus
    // FastAc) costs about as much as decoding a small image's luma; tables are immutable once built, so a
    // per-thread cache of recent definitions, keyed by their exact bytes, is safe to share between decodes.
    [ThreadStatic]
    private static (byte[] Key, HuffmanDecodingTable Table)[]? t_cache;

    [ThreadStatic]
    private static int t_nextSlot;

    /// <summary>
    /// The table for this definition: a cached one built earlier on this thread from identical bytes, or a
    /// new one (validated as by the constructor, which throws on an inconsistent definition).
    /// </summary>
    public static HuffmanDecodingTable Get(ReadOnlySpan<byte> bits, ReadOnlySpan<byte> values, bool isDc, long byteOffset)
    {
        (byte[] Key, HuffmanDecodingTable Table)[] cache = t_cache ??= new (byte[], HuffmanDecodingTable)[CacheSize];
        int keyLength = 1 + 16 + values.Length;
        foreach ((byte[] key, HuffmanDecodingTable table) in cache)
        {
            if (key != null && key.Length == keyLength && key[0] == (isDc ? 1 : 0)
                && bits.SequenceEqual(key.AsSpan(1, 16)) && values.SequenceEqual(key.AsSpan(17)))
            {
                return table;
            }
        }

        var built = new HuffmanDecodingTable(bits, values, isDc, byteOffset);
        byte[] newKey = new byte[keyLength];
        newKey[0] = (byte)(isDc ? 1 : 0);
        bits[..16].CopyTo(newKey.AsSpan(1));
        values.CopyTo(newKey.AsSpan(17));
        cache[t_nextSlot] = (newKey, built);
        t_nextSlot = (t_nextSlot + 1) % CacheSize;
        return built;
    }

    /// <summary>Builds the table from BITS (16 counts) and HUFFVAL; throws on an inconsistent definition.</summary>
    /// <param name="bits">Number of codes of each length 1..16.</param>
    /// <param name="values">Symbols in code order.</param>
    /// <param name="isDc">DC tables may only hold magnitude categories 0..15.</param>
    /// <param name="byteOffset">Position of the definition, for errors.</param>
    public HuffmanDecodingTable(ReadOnlySpan<byte> bits, ReadOnlySpan<byte> values, bool isDc, long byteOffset)
    {
        int total = 0;
        for (int i = 0; i < 16; i++)
        {
            total += bits[i];
        }

        if (total > 256 || total > values.Length)
        {
            throw new JpegFormatException($"Huffman table defines {total} codes (at most 256)", byteOffset);
        }

        values[..total].CopyTo(_values);
        if (isDc)
        {
            for (int i = 0; i < total; i++)
            {
                if (_values[i] > 15)
                {
                    throw new JpegFormatException($"DC Huffman table holds symbol {_values[i]} (magnitude categories are 0..15)", byteOffset);
                }
            }
        }

        // Generate the canonical codes (Figures C.1–C.3) and check none overflows its length.
        int code = 0, k = 0;
        for (int len = 1; len <= 16; len++)
        {
            int n = bits[len - 1];
            _valueOffset[len] = k - code;
            if (n == 0)
            {
                _maxCode[len] = -1;
            }
            else
            {
                for (int i = 0; i < n; i++, k++, code++)
                {
                    if (code >= (1 << len))
                    {
                        throw new JpegFormatException("Huffman table has more codes of some length than fit (bad BITS)", byteOffset);
                    }

                    if (len <= LookaheadBits)
                    {
                        int shift = LookaheadBits - len;
                        ushort entry = (ushort)((len << 8) | _values[k]);
                        for (int fill = code << shift, end = (code + 1) << shift; fill < end; fill++)
                        {
                            Lookahead[fill] = entry;
                        }
                    }
                }

                _maxCode[len] = code - 1;
            }

            code <<= 1;
        }

        _maxCode[17] = int.MaxValue;
        if (!isDc)
        {
            BuildFastAc();
        }
    }

    /// <summary>Decodes a code longer than the lookahead (Figure F.16); <paramref name="bits16"/> is the next 16 bits.</summary>
    /// <returns>(length &lt;&lt; 8) | symbol, or −1 for a bit pattern that is no code of this table.</returns>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public int DecodeLong(uint bits16)
    {
        for (int len = LookaheadBits + 1; len <= 16; len++)
        {
            int code = (int)(bits16 >> (16 - len));
            if (code <= _maxCode[len])
            {
                return (len << 8) | _values[_valueOffset[len] + code];
            }
        }

        return -1;
    }

    private void BuildFastAc()
    {
        for (int prefix = 0; prefix < Lookahead.Length; prefix++)
        {
            int entry = Lookahead[prefix];
            if (entry == 0)
            {
                continue;
            }

            int len = entry >> 8, symbol = entry & 0xFF;
            int run = symbol >> 4, size = symbol & 15;
            if (size == 0 || len + size > LookaheadBits)
            {
                continue;
            }

            int magnitude = (prefix >> (LookaheadBits - len - size)) & ((1 << size) - 1);
            int value = magnitude < (1 << (size - 1)) ? magnitude - (1 << size) + 1 : magnitude;
            FastAc[prefix] = (value << 16) | (run << 8) | (len + size);
        }

        for (int prefix = 0; prefix < Lookahead.Length; prefix++)
        {
            int fast = FastAc[prefix];

            // A fast entry's value is at most 8 bits (len + size <= 9), so it fits bits 16..30.
            Sequential[prefix] = fast != 0 ? (int)(0x8000_0000u | ((uint)(fast >> 16) & 0x7FFF) << 16 | (uint)(fast & 0xFFFF)) : Lookahead[prefix];
        }
    }
}
