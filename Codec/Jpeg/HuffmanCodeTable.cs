namespace JpegLm.Codec.Jpeg;

/// <summary>
/// A Huffman table as it is written in a DHT segment (T.81 B.2.4.2): BITS, the number of codes of each
/// length 1..16, and HUFFVAL, the symbols in order of increasing code length.
/// </summary>
/// <param name="Bits">16 counts: Bits[i] codes of length i + 1.</param>
/// <param name="Values">The symbols, in code order.</param>
internal sealed record HuffmanTableSpec(byte[] Bits, byte[] Values)
{
    /// <summary>The Annex K table (K.3–K.6) for a DC or AC table of the luminance (0) or chrominance (1) slot.</summary>
    public static HuffmanTableSpec Standard(bool ac, int slot) => (ac, slot) switch
    {
        (false, 0) => new(JpegTables.LuminanceDcBits.ToArray(), JpegTables.LuminanceDcValues.ToArray()),
        (true, 0) => new(JpegTables.LuminanceAcBits.ToArray(), JpegTables.LuminanceAcValues.ToArray()),
        (false, _) => new(JpegTables.ChrominanceDcBits.ToArray(), JpegTables.ChrominanceDcValues.ToArray()),
        (true, _) => new(JpegTables.ChrominanceAcBits.ToArray(), JpegTables.ChrominanceAcValues.ToArray()),
    };
}

/// <summary>
/// The encoder's view of a Huffman table: for each symbol its code and code length (T.81 C.2,
/// Figures C.1–C.3: codes are assigned in order of length, consecutively, shifting left at each new
/// length). Length 0 means the symbol has no code.
/// </summary>
internal sealed class HuffmanCodeTable
{
    private HuffmanCodeTable(ushort[] codes, byte[] lengths)
    {
        Codes = codes;
        Lengths = lengths;
        Packed = new uint[256];
        for (int i = 0; i < 256; i++)
        {
            Packed[i] = ((uint)codes[i] << 8) | lengths[i];
        }
    }

    /// <summary>Code and length of each symbol in one word, (code « 8) | length: one load in the coder's inner loop.</summary>
    public uint[] Packed { get; }

    /// <summary>Code of each symbol 0..255, right-aligned.</summary>
    public ushort[] Codes { get; }

    /// <summary>Code length of each symbol (0 = no code).</summary>
    public byte[] Lengths { get; }

    /// <summary>Derives the codes from a BITS/HUFFVAL specification.</summary>
    public static HuffmanCodeTable Create(HuffmanTableSpec spec)
    {
        var codes = new ushort[256];
        var lengths = new byte[256];
        int code = 0, k = 0;
        for (int length = 1; length <= 16; length++)
        {
            for (int i = 0; i < spec.Bits[length - 1]; i++)
            {
                byte symbol = spec.Values[k++];
                codes[symbol] = (ushort)code;
                lengths[symbol] = (byte)length;
                code++;
            }

            if (code > (1 << length))
            {
                throw new ArgumentException($"Huffman BITS over-subscribe code length {length}", nameof(spec));
            }

            code <<= 1;
        }

        return new HuffmanCodeTable(codes, lengths);
    }
}
