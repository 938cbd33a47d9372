using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// Baseline Huffman entropy coding of quantized blocks (T.81 F.1.2): DC differences as SSSS category
/// plus magnitude bits, AC coefficients as (RUN, SIZE) symbols with ZRL for 16 zeros and EOB after the
/// last nonzero one. Bits collect in a 64-bit accumulator and leave 32 at a time; a 0xFF byte is
/// followed by a stuffed 0x00 (F.1.2.3), checked for four bytes at once. Also counts symbol
/// frequencies for optimized tables, with the same traversal.
/// </summary>
internal sealed class HuffmanEntropyEncoder
{
    /// <summary>Upper bound of the bytes one block can produce, with every byte stuffed.</summary>
    public const int MaxBytesPerBlock = 2 * ((16 + 11 + (63 * (16 + 10)) + 7) / 8) + 8;

    private readonly JpegOutputBuffer _output;
    private ulong _accumulator;
    private int _bitCount;

    public HuffmanEntropyEncoder(JpegOutputBuffer output) => _output = output;

    /// <summary>Starts a scan: empty accumulator.</summary>
    public void Reset()
    {
        _accumulator = 0;
        _bitCount = 0;
    }

    /// <summary>
    /// Encodes one block given in zig-zag order. <paramref name="nonzeroMask"/> has bit k set when
    /// coefficient k is nonzero (bit 0 is ignored). The caller reserved <see cref="MaxBytesPerBlock"/>.
    /// </summary>
    /// <remarks>
    /// Not inlined on purpose: inlined into the per-MCU loop (three call sites) the bit buffer, the output
    /// position and the mask no longer fit in registers and every coefficient paid for stack spills.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public void EncodeBlock(ReadOnlySpan<short> zigZag, ulong nonzeroMask, int dcDifference, HuffmanCodeTable dc, HuffmanCodeTable ac)
    {
        ulong acc = _accumulator;
        int count = _bitCount;
        byte[] data = _output.Data;
        int pos = _output.Length;
        if (zigZag.Length < 64 || (uint)pos > (uint)(data.Length - MaxBytesPerBlock))
        {
            throw new InvalidOperationException("EncodeBlock needs a 64-coefficient block and MaxBytesPerBlock bytes reserved");
        }

        ref byte output = ref MemoryMarshal.GetArrayDataReference(data);

        int magnitudeBits = Category(dcDifference);
        uint dcEntry = Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(dc.Packed), magnitudeBits);
        Put(ref acc, ref count, ref output, ref pos, ((dcEntry >> 8) << magnitudeBits) | MagnitudeBits(dcDifference, magnitudeBits), (int)(dcEntry & 0xFF) + magnitudeBits);

        // The mask has 64 bits, so k < 64 and symbols are < 256: no bounds checks needed below.
        ref uint acTable = ref MemoryMarshal.GetArrayDataReference(ac.Packed);
        ref short coefficients = ref MemoryMarshal.GetReference(zigZag);
        ulong mask = nonzeroMask & ~1UL;
        int last = 0;
        while (mask != 0)
        {
            int k = BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            int run = k - last - 1;
            last = k;
            while (run >= 16)
            {
                uint zrl = Unsafe.Add(ref acTable, 0xF0);
                Put(ref acc, ref count, ref output, ref pos, zrl >> 8, (int)(zrl & 0xFF));
                run -= 16;
            }

            int value = Unsafe.Add(ref coefficients, k);
            int size = Category(value);
            uint entry = Unsafe.Add(ref acTable, (run << 4) | size);
            Put(ref acc, ref count, ref output, ref pos, ((entry >> 8) << size) | MagnitudeBits(value, size), (int)(entry & 0xFF) + size);
        }

        if (last != 63)
        {
            uint eob = acTable;
            Put(ref acc, ref count, ref output, ref pos, eob >> 8, (int)(eob & 0xFF));
        }

        _accumulator = acc;
        _bitCount = count;
        _output.Length = pos;
    }

    /// <summary>Counts the symbols <see cref="EncodeBlock"/> would emit into 257-entry frequency tables.</summary>
    public static void CountBlock(ReadOnlySpan<short> zigZag, ulong nonzeroMask, int dcDifference, Span<long> dcFrequencies, Span<long> acFrequencies)
    {
        dcFrequencies[Category(dcDifference)]++;
        ulong mask = nonzeroMask & ~1UL;
        int last = 0;
        while (mask != 0)
        {
            int k = BitOperations.TrailingZeroCount(mask);
            mask &= mask - 1;
            int run = k - last - 1;
            last = k;
            while (run >= 16)
            {
                acFrequencies[0xF0]++;
                run -= 16;
            }

            acFrequencies[(run << 4) | Category(zigZag[k])]++;
        }

        if (last != 63)
        {
            acFrequencies[0]++;
        }
    }

    /// <summary>
    /// Pads the last partial byte with 1 bits (F.1.2.3) and writes out everything buffered; used at
    /// the end of the scan and before each RSTn marker. The caller reserved 16 bytes.
    /// </summary>
    public void Flush()
    {
        ulong acc = _accumulator;
        int count = _bitCount;
        byte[] data = _output.Data;
        int pos = _output.Length;
        int pad = (8 - (count & 7)) & 7;
        acc = (acc << pad) | ((1UL << pad) - 1);
        count += pad;
        while (count > 0)
        {
            count -= 8;
            byte b = (byte)(acc >> count);
            data[pos++] = b;
            if (b == 0xFF)
            {
                data[pos++] = 0;
            }
        }

        _accumulator = 0;
        _bitCount = 0;
        _output.Length = pos;
    }

    /// <summary>SSSS: the number of bits of |value| (T.81 Table F.1/F.2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Category(int value)
    {
        // Branch-free |value| (Math.Abs checks for int.MinValue, which quantized coefficients never are).
        int sign = value >> 31;
        return 32 - BitOperations.LeadingZeroCount((uint)((value ^ sign) - sign));
    }

    /// <summary>The low <paramref name="size"/> bits of the value, or of value − 1 when negative (F.1.2.1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint MagnitudeBits(int value, int size) => (uint)(value + (value >> 31)) & (uint)((1 << size) - 1);

    /// <summary>Appends up to 32 bits; whenever 32 or more are buffered, 32 leave, stuffed when needed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(ref ulong acc, ref int count, ref byte output, ref int pos, uint bits, int length)
    {
        acc = (acc << length) | bits;
        count += length;
        if (count >= 32)
        {
            count -= 32;
            uint word = (uint)(acc >> count);

            // A byte of the word is 0xFF iff the same byte of ~word is zero.
            uint inverted = ~word;
            if (((inverted - 0x01010101u) & ~inverted & 0x80808080u) == 0)
            {
                // The caller reserved room, so the unchecked store stays inside the array.
                Unsafe.WriteUnaligned(ref Unsafe.Add(ref output, pos), BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(word) : word);
                pos += 4;
            }
            else
            {
                // Returned rather than passed by reference, so that pos can stay in a register.
                pos = WriteStuffed(ref output, pos, word);
            }
        }
    }

    private static int WriteStuffed(ref byte output, int pos, uint word)
    {
        for (int shift = 24; shift >= 0; shift -= 8)
        {
            byte b = (byte)(word >> shift);
            Unsafe.Add(ref output, pos++) = b;
            if (b == 0xFF)
            {
                Unsafe.Add(ref output, pos++) = 0;
            }
        }

        return pos;
    }
}
