namespace JpegLm.Codec.Jpeg;

/// <summary>
/// Builds an optimal Huffman table from symbol frequencies the way T.81 Annex K.2 describes it and
/// libjpeg implements it (jchuff.c, jpeg_gen_optimal_table), so the DHT bytes match <c>cjpeg -optimize</c>:
/// a reserved pseudo-symbol 256 with frequency 1 keeps any real code from being all ones; ties pick
/// the highest-numbered symbol; lengths over 16 are folded back by Figure K.3's adjustment.
/// </summary>
internal static class HuffmanTableOptimizer
{
    private const int MaxCodeLength = 32;

    /// <summary>Builds the table for <paramref name="frequencies"/> (257 entries; the last is overwritten).</summary>
    public static HuffmanTableSpec Build(Span<long> frequencies)
    {
        if (frequencies.Length != 257)
        {
            throw new ArgumentException("need 257 frequency slots", nameof(frequencies));
        }

        Span<int> bits = stackalloc int[MaxCodeLength + 1];
        Span<int> codeSize = stackalloc int[257];
        Span<int> others = stackalloc int[257];
        bits.Clear();
        codeSize.Clear();
        others.Fill(-1);
        frequencies[256] = 1; // reserved code point: no real code is all ones

        // Figure K.1: repeatedly merge the two least frequent trees.
        while (true)
        {
            int c1 = LeastFrequent(frequencies, -1);
            int c2 = LeastFrequent(frequencies, c1);
            if (c2 < 0)
            {
                break;
            }

            frequencies[c1] += frequencies[c2];
            frequencies[c2] = 0;
            codeSize[c1]++;
            while (others[c1] >= 0)
            {
                c1 = others[c1];
                codeSize[c1]++;
            }

            others[c1] = c2;
            codeSize[c2]++;
            while (others[c2] >= 0)
            {
                c2 = others[c2];
                codeSize[c2]++;
            }
        }

        // Figure K.2: count codes of each size.
        for (int i = 0; i <= 256; i++)
        {
            if (codeSize[i] > 0)
            {
                if (codeSize[i] > MaxCodeLength)
                {
                    throw new InvalidOperationException("Huffman code length overflow");
                }

                bits[codeSize[i]]++;
            }
        }

        // Figure K.3: move codes longer than 16 bits up the tree: take two from length i, give one
        // to i - 1 and turn a shorter leaf at length j into a node with two children at j + 1.
        for (int i = MaxCodeLength; i > 16; i--)
        {
            while (bits[i] > 0)
            {
                int j = i - 2;
                while (bits[j] == 0)
                {
                    j--;
                }

                bits[i] -= 2;
                bits[i - 1]++;
                bits[j + 1] += 2;
                bits[j]--;
            }
        }

        // Drop the reserved code point: it is one of the longest codes.
        int longest = 16;
        while (bits[longest] == 0)
        {
            longest--;
        }

        bits[longest]--;

        var bitsOut = new byte[16];
        int count = 0;
        for (int i = 1; i <= 16; i++)
        {
            bitsOut[i - 1] = (byte)bits[i];
            count += bits[i];
        }

        // Figure K.4: symbols sorted by code length, then by value.
        var values = new byte[count];
        int p = 0;
        for (int length = 1; length <= MaxCodeLength && p < count; length++)
        {
            for (int symbol = 0; symbol < 256; symbol++)
            {
                if (codeSize[symbol] == length)
                {
                    values[p++] = (byte)symbol;
                }
            }
        }

        return new HuffmanTableSpec(bitsOut, values);
    }

    /// <summary>The symbol with the smallest nonzero frequency (the highest such index on ties), other than <paramref name="exclude"/>.</summary>
    private static int LeastFrequent(ReadOnlySpan<long> frequencies, int exclude)
    {
        int best = -1;
        long bestFrequency = long.MaxValue;
        for (int i = 0; i <= 256; i++)
        {
            long f = frequencies[i];
            if (f != 0 && f <= bestFrequency && i != exclude)
            {
                bestFrequency = f;
                best = i;
            }
        }

        return best;
    }
}
