using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// The constant tables of ITU-T T.81 that both the encoder and the decoder use, each in one place:
/// the zig-zag order (Figure A.6), the example quantization tables (Annex K, Tables K.1/K.2) that the
/// IJG quality scaling starts from, and the typical Huffman tables (Annex K.3, Tables K.3–K.6), which
/// are also the defaults a decoder assumes for image-only (Motion-JPEG style) streams.
/// </summary>
public static class JpegTables
{
    /// <summary>ZigZag[k] = natural (row-major) index of the k-th coefficient in zig-zag order (T.81 Figure A.6).</summary>
    public static ReadOnlySpan<byte> ZigZag =>
    [
        0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
        12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
        35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
        58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
    ];

    // vpermt2w indices: natural index n (0..31, 32..63) takes zig-zag position InverseZigZag(n).
    private static readonly Vector512<short> NaturalLow = InverseZigZagIndices(0);
    private static readonly Vector512<short> NaturalHigh = InverseZigZagIndices(32);

    /// <summary>Reorders 64 coefficients from zig-zag to natural order (two word permutes with AVX-512BW).</summary>
    internal static void FromZigZag(ReadOnlySpan<short> zigZag, Span<short> natural)
    {
        if (zigZag.Length < 64 || natural.Length < 64)
        {
            throw new ArgumentException("blocks have 64 coefficients");
        }

        if (Avx512BW.IsSupported)
        {
            ref short source = ref MemoryMarshal.GetReference(zigZag);
            ref short destination = ref MemoryMarshal.GetReference(natural);
            var low = Vector512.LoadUnsafe(ref source);
            var high = Vector512.LoadUnsafe(ref source, 32);
            Avx512BW.PermuteVar32x16x2(low, NaturalLow, high).StoreUnsafe(ref destination);
            Avx512BW.PermuteVar32x16x2(low, NaturalHigh, high).StoreUnsafe(ref destination, 32);
            return;
        }

        ReadOnlySpan<byte> order = ZigZag;
        for (int k = 0; k < 64; k++)
        {
            natural[order[k]] = zigZag[k];
        }
    }

    private static Vector512<short> InverseZigZagIndices(int start)
    {
        Span<short> inverse = stackalloc short[64];
        for (int k = 0; k < 64; k++)
        {
            inverse[ZigZag[k]] = (short)k;
        }

        return Vector512.Create<short>(inverse.Slice(start, 32));
    }

    /// <summary>Table K.1: luminance quantization base table, natural order.</summary>
    public static ReadOnlySpan<byte> LuminanceQuantBase =>
    [
        16, 11, 10, 16, 24, 40, 51, 61,
        12, 12, 14, 19, 26, 58, 60, 55,
        14, 13, 16, 24, 40, 57, 69, 56,
        14, 17, 22, 29, 51, 87, 80, 62,
        18, 22, 37, 56, 68, 109, 103, 77,
        24, 35, 55, 64, 81, 104, 113, 92,
        49, 64, 78, 87, 103, 121, 120, 101,
        72, 92, 95, 98, 112, 100, 103, 99,
    ];

    /// <summary>Table K.2: chrominance quantization base table, natural order.</summary>
    public static ReadOnlySpan<byte> ChrominanceQuantBase =>
    [
        17, 18, 24, 47, 99, 99, 99, 99,
        18, 21, 26, 66, 99, 99, 99, 99,
        24, 26, 56, 99, 99, 99, 99, 99,
        47, 66, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
        99, 99, 99, 99, 99, 99, 99, 99,
    ];

    /// <summary>Table K.3: LuminanceDc Huffman code counts per length 1..16 (BITS).</summary>
    public static ReadOnlySpan<byte> LuminanceDcBits =>
    [
        0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0,
    ];

    /// <summary>Table K.3: LuminanceDc Huffman symbols in code order (HUFFVAL).</summary>
    public static ReadOnlySpan<byte> LuminanceDcValues =>
    [
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B,
    ];

    /// <summary>Table K.5: LuminanceAc Huffman code counts per length 1..16 (BITS).</summary>
    public static ReadOnlySpan<byte> LuminanceAcBits =>
    [
        0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 125,
    ];

    /// <summary>Table K.5: LuminanceAc Huffman symbols in code order (HUFFVAL).</summary>
    public static ReadOnlySpan<byte> LuminanceAcValues =>
    [
        0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
        0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52, 0xD1, 0xF0,
        0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25, 0x26, 0x27, 0x28,
        0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
        0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
        0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
        0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
        0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5,
        0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2,
        0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
        0xF9, 0xFA,
    ];

    /// <summary>Table K.4: ChrominanceDc Huffman code counts per length 1..16 (BITS).</summary>
    public static ReadOnlySpan<byte> ChrominanceDcBits =>
    [
        0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
    ];

    /// <summary>Table K.4: ChrominanceDc Huffman symbols in code order (HUFFVAL).</summary>
    public static ReadOnlySpan<byte> ChrominanceDcValues =>
    [
        0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B,
    ];

    /// <summary>Table K.6: ChrominanceAc Huffman code counts per length 1..16 (BITS).</summary>
    public static ReadOnlySpan<byte> ChrominanceAcBits =>
    [
        0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 119,
    ];

    /// <summary>Table K.6: ChrominanceAc Huffman symbols in code order (HUFFVAL).</summary>
    public static ReadOnlySpan<byte> ChrominanceAcValues =>
    [
        0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
        0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xA1, 0xB1, 0xC1, 0x09, 0x23, 0x33, 0x52, 0xF0,
        0x15, 0x62, 0x72, 0xD1, 0x0A, 0x16, 0x24, 0x34, 0xE1, 0x25, 0xF1, 0x17, 0x18, 0x19, 0x1A, 0x26,
        0x27, 0x28, 0x29, 0x2A, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
        0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
        0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
        0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5,
        0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3,
        0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA,
        0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
        0xF9, 0xFA,
    ];

    /// <summary>
    /// IJG quality scaling (jcparam.c): scale = q &lt; 50 ? 5000 / q : 200 − 2q; entry = (base · scale + 50) / 100
    /// clamped to 1..255 (baseline). Writes a natural-order table.
    /// </summary>
    /// <param name="baseTable">Table K.1 or K.2, natural order.</param>
    /// <param name="quality">IJG quality 1..100.</param>
    /// <param name="destination">64 entries, natural order.</param>
    public static void ScaleQuantTable(ReadOnlySpan<byte> baseTable, int quality, Span<ushort> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(quality, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(quality, 100);
        int scale = quality < 50 ? 5000 / quality : 200 - (quality * 2);
        for (int i = 0; i < 64; i++)
        {
            int v = ((baseTable[i] * scale) + 50) / 100;
            destination[i] = (ushort)Math.Clamp(v, 1, 255);
        }
    }
}
