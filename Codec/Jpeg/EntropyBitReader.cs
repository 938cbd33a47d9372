using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// Reads the entropy-coded segment of a scan (T.81 F.2.2.5) through a 64-bit buffer: bytes are
/// loaded MSB-first, a stuffed 0xFF00 yields 0xFF, and a marker (or the end of the data) stops loading
/// and feeds zero bits instead. Those padding bits are counted, so consuming one of them is detected
/// as "the entropy data ended inside this MCU" rather than silently decoding zeros.
/// </summary>
internal ref struct EntropyBitReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;
    /// <summary>The bit buffer, MSB-aligned; hot decoders copy it (and <see cref="Count"/>) into locals and store them back.</summary>
    internal ulong Bits;

    /// <summary>Valid bits in <see cref="Bits"/> (including counted padding).</summary>
    internal int Count;
    private int _padBits;

    /// <summary>
    /// The AC table of the sequential block being decoded, for its rare long codes: kept here rather than
    /// in a local so that <see cref="BlockEntropyDecoder.DecodeSequential"/>'s loop needs one register less.
    /// </summary>
    internal HuffmanDecodingTable? LongCodeTable;

    /// <summary>Starts reading entropy-coded data at <paramref name="position"/>.</summary>
    public EntropyBitReader(ReadOnlySpan<byte> data, int position)
    {
        _data = data;
        _position = position;
    }

    /// <summary>Offset of the next byte not yet loaded into the buffer (a marker once the segment ended).</summary>
    public readonly int Position => _position;

    /// <summary>True once a bit beyond the entropy-coded segment has been consumed.</summary>
    public readonly bool Overran => Count < _padBits;

    /// <summary>Buffered bits that came from the data (not padding); 8 or more left at an interval's end means extra bytes.</summary>
    public readonly int BufferedDataBits => Math.Max(0, Count - _padBits);

    /// <summary>Offset of the byte holding the next unread bit, approximately (stuffed bytes make it inexact).</summary>
    public readonly long UnreadByteOffset => Math.Max(0, _position - ((Count - Math.Min(Count, _padBits)) >> 3));

    /// <summary>Makes sure at least 32 bits are buffered (a symbol plus its magnitude bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void EnsureBits()
    {
        if (Count < 32)
        {
            Refill();
        }
    }

    /// <summary>The next <paramref name="n"/> bits (1..32) without consuming them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly uint Peek(int n) => (uint)(Bits >> (64 - n));

    /// <summary>Drops <paramref name="n"/> bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Skip(int n)
    {
        Bits <<= n;
        Count -= n;
    }

    /// <summary>Reads <paramref name="n"/> bits (0..16) as an unsigned number; call <see cref="EnsureBits"/> first.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadBits(int n)
    {
        if (n == 0)
        {
            return 0;
        }

        int v = (int)(Bits >> (64 - n));
        Bits <<= n;
        Count -= n;
        return v;
    }

    /// <summary>Reads one bit; refills as needed.</summary>
    public int ReadBit()
    {
        if (Count < 1)
        {
            Refill();
        }

        int v = (int)(Bits >> 63);
        Bits <<= 1;
        Count--;
        return v;
    }

    /// <summary>Reads <paramref name="size"/> magnitude bits and sign-extends them (T.81 F.2.2.1 EXTEND).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReceiveExtend(int size)
    {
        if (size == 0)
        {
            return 0;
        }

        int v = (int)(Bits >> (64 - size));
        Bits <<= size;
        Count -= size;
        return v < (1 << (size - 1)) ? v - (1 << size) + 1 : v;
    }

    /// <summary>Decodes one Huffman symbol; call <see cref="EnsureBits"/> first. Returns −1 for an invalid code.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int DecodeSymbol(HuffmanDecodingTable table)
    {
        int entry = table.Lookahead[(int)(Bits >> (64 - HuffmanDecodingTable.LookaheadBits))];
        if (entry == 0)
        {
            entry = table.DecodeLong((uint)(Bits >> 48));
            if (entry < 0)
            {
                return -1;
            }
        }

        int len = entry >> 8;
        Bits <<= len;
        Count -= len;
        return entry & 0xFF;
    }

    /// <summary>
    /// Forgets the buffered bits (the padding after an interval's last byte) so that reading resumes at
    /// <see cref="Position"/>, e.g. after a restart marker.
    /// </summary>
    public void ResetAt(int position)
    {
        _position = position;
        Bits = 0;
        Count = 0;
        _padBits = 0;
    }

    /// <summary>Tops the buffer up to at least 57 bits (with zero padding past the segment's end).</summary>
    /// <remarks>
    /// Inlined (it makes no calls) so that the sequential block loop contains no call at all: a call there
    /// forces the loop's values into the few callee-saved registers and the rest onto the stack.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void Refill()
    {
        // Fast path: the bytes ahead up to the first 0xFF (all eight when there is none) are appended in
        // one go; only a 0xFF (stuffed, or a marker such as the RSTn after every MCU) needs the byte loop.
        if (_padBits == 0 && _position + 8 <= _data.Length)
        {
            ulong word = BinaryPrimitives.ReadUInt64BigEndian(_data[_position..]);

            // Refill is only called with fewer than 32 bits buffered, so 4..8 bytes fit.
            int take = Math.Min((64 - Count) >> 3, FirstFfByte(word));
            if (take > 0)
            {
                Bits |= (word & (ulong.MaxValue << (64 - (take * 8)))) >> Count;
                _position += take;
                Count += take * 8;
                if (Count >= 32)
                {
                    return;
                }
            }
        }

        while (Count <= 56)
        {
            uint b;
            if (_position < _data.Length && _data[_position] != 0xFF)
            {
                b = _data[_position++];
            }
            else if (_position + 1 < _data.Length && _data[_position + 1] == 0)
            {
                b = 0xFF;
                _position += 2;
            }
            else
            {
                // A marker or the end of the data: the segment is over; feed zeros and count them.
                b = 0;
                _padBits += 8;
            }

            Bits |= (ulong)b << (56 - Count);
            Count += 8;
        }
    }

    /// <summary>Index (0 = most significant) of the first 0xFF byte of a big-endian word, 8 when there is none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int FirstFfByte(ulong word)
    {
        // A byte is 0xFF exactly when its complement is zero; the classic "has zero byte" test flags every
        // such byte. A borrow can also flag a byte just before one (e.g. 0xFE 0xFF), so the index may come
        // out early, never late: no 0xFF is ever taken by the fast path, and the byte loop does the rest.
        ulong x = ~word;
        ulong flags = (x - 0x0101010101010101UL) & ~x & 0x8080808080808080UL;
        return System.Numerics.BitOperations.LeadingZeroCount(flags) >> 3;
    }
}
