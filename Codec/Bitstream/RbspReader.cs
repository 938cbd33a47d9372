using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using JpegLm.Codec.Avc;

namespace JpegLm.Codec.Bitstream;

/// <summary>
/// Reads an H.264 raw byte sequence payload (emulation prevention already removed) bit by bit,
/// most significant bit first, with the Exp-Golomb codes of clause 9.1. The buffer is padded with
/// zero bytes so a 64-bit peek never runs off the end; reading past the payload throws
/// <see cref="AvcFormatException"/>. A writer for the encoder belongs beside it (RbspWriter).
/// </summary>
public sealed class RbspReader
{
    private const int Padding = 8;
    private byte[] _data = new byte[64];
    private long _bitLength;
    private long _position;
    private long _stopBit;

    /// <summary>Creates an empty reader; call <see cref="Reset"/> to give it a payload.</summary>
    public RbspReader()
    {
    }

    /// <summary>Creates a reader over a copy of <paramref name="rbsp"/>.</summary>
    public RbspReader(ReadOnlySpan<byte> rbsp) => Reset(rbsp);

    /// <summary>Current position in bits from the start of the payload.</summary>
    public long BitPosition => _position;

    /// <summary>Length of the payload in bits.</summary>
    public long BitLength => _bitLength;

    /// <summary>Position of the rbsp_stop_one_bit (the last 1 bit), or -1 when the payload has none.</summary>
    public long StopBitPosition => _stopBit;

    /// <summary>Whether the reader sits on a byte boundary.</summary>
    public bool IsByteAligned => (_position & 7) == 0;

    /// <summary>Loads a new payload (copied into a reused buffer).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Reset(ReadOnlySpan<byte> rbsp)
    {
        if (_data.Length < rbsp.Length + Padding)
        {
            _data = new byte[Math.Max(rbsp.Length + Padding, _data.Length * 2)];
        }

        rbsp.CopyTo(_data);
        _data.AsSpan(rbsp.Length, Padding).Clear();
        _bitLength = (long)rbsp.Length * 8;
        _position = 0;
        _stopBit = -1;
        for (int i = rbsp.Length - 1; i >= 0; i--)
        {
            if (rbsp[i] != 0)
            {
                _stopBit = ((long)i * 8) + 7 - System.Numerics.BitOperations.TrailingZeroCount(rbsp[i]);
                break;
            }
        }
    }

    /// <summary>The reason of the error raised when a read runs past the payload.</summary>
    public const string PastEndReason = "read past the end of the NAL unit";

    /// <summary>
    /// Treat the payload as possibly cut short (a NAL unit still being written): more_rbsp_data() is always
    /// true, and a <see cref="Peek"/> beyond the payload fails as a read past the end instead of seeing zeros,
    /// so every other error raised was decided by real bits alone.
    /// </summary>
    internal bool MayContinue { get; set; }

    /// <summary>The next up to 32 bits without consuming them (zeros past the end; an error past the end when <see cref="MayContinue"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint Peek(int count)
    {
        if (MayContinue && _position + count > _bitLength)
        {
            throw new AvcFormatException(PastEndReason, _bitLength >> 3);
        }

        return PeekRaw(count);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private uint PeekRaw(int count)
    {
        ulong word = BinaryPrimitives.ReadUInt64BigEndian(_data.AsSpan((int)(_position >> 3)));
        word <<= (int)(_position & 7);
        return (uint)(word >> (64 - count));
    }

    /// <summary>Consumes <paramref name="count"/> bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Skip(int count)
    {
        _position += count;
        if (_position > _bitLength)
        {
            throw new AvcFormatException(PastEndReason, _bitLength >> 3);
        }
    }

    /// <summary>u(n) for n in 0..32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public uint ReadBits(int count)
    {
        if (count == 0)
        {
            return 0;
        }

        uint v = Peek(count);
        Skip(count);
        return v;
    }

    /// <summary>u(1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool ReadFlag() => ReadBits(1) != 0;

    /// <summary>ue(v), clause 9.1; at most 32 leading zeros (values up to 2^32-2).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public uint ReadUe()
    {
        uint peek = PeekRaw(32); // padding zeros only lengthen the code, and Skip then fails past the end
        if (peek >= 0x10000u)
        {
            // Fast path: the whole code fits in 32 bits.
            int zeros = System.Numerics.BitOperations.LeadingZeroCount(peek);
            int len = (2 * zeros) + 1;
            uint v = PeekRaw(len);
            Skip(len);
            return v - 1;
        }

        int leading = 0;
        while (ReadBits(1) == 0)
        {
            if (++leading > 31)
            {
                throw new AvcFormatException("Exp-Golomb code with more than 31 leading zeros", _position >> 3);
            }
        }

        ulong rest = leading == 0 ? 0 : ReadBits(leading);
        ulong value = (1UL << leading) - 1 + rest;
        return value > uint.MaxValue - 1 ? throw new AvcFormatException("Exp-Golomb value out of range", _position >> 3) : (uint)value;
    }

    /// <summary>ue(v) checked against an inclusive maximum, naming the syntax element on failure.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int ReadUe(string element, int max)
    {
        long start = _position;
        uint v;
        try
        {
            v = ReadUe();
        }
        catch (AvcFormatException e) when (MayContinue && e.Reason == PastEndReason && SmallestUeFrom(start) > (ulong)max)
        {
            // Cut short, but every completion of the bits written so far is already out of range.
            throw new AvcFormatException($"{element} >= {SmallestUeFrom(start)} exceeds {max}", _bitLength >> 3);
        }

        return v > (uint)max ? throw new AvcFormatException($"{element} = {v} exceeds {max}", _position >> 3) : (int)v;
    }

    // The least value any completion of the Exp-Golomb code starting at bit `start` can have, given the bits
    // up to the end of the payload: 2^z - 1 for z leading zeros, plus the known bits of the suffix.
    private ulong SmallestUeFrom(long start)
    {
        long p = start;
        int zeros = 0;
        while (p < _bitLength && BitAt(p) == 0)
        {
            zeros++;
            p++;
        }

        if (zeros >= 32)
        {
            return ulong.MaxValue;
        }

        ulong smallest = (1UL << zeros) - 1;
        if (p >= _bitLength)
        {
            return smallest; // the terminating 1 is not written yet: more zeros only make it larger
        }

        ulong suffix = 0;
        for (int i = 0; i < zeros; i++)
        {
            long q = p + 1 + i;
            suffix = (suffix << 1) | (q < _bitLength ? (ulong)BitAt(q) : 0);
        }

        return smallest + suffix;
    }

    private int BitAt(long bit) => (_data[(int)(bit >> 3)] >> (7 - (int)(bit & 7))) & 1;

    /// <summary>se(v), clause 9.1.1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int ReadSe()
    {
        uint k = ReadUe();
        return (k & 1) != 0 ? (int)((k + 1) >> 1) : -(int)(k >> 1);
    }

    /// <summary>se(v) checked against an inclusive range.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int ReadSe(string element, int min, int max)
    {
        int v = ReadSe();
        return v < min || v > max ? throw new AvcFormatException($"{element} = {v} outside {min}..{max}", _position >> 3) : v;
    }

    /// <summary>te(v) with range <paramref name="max"/> (clause 9.1): one inverted bit when max is 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadTe(int max) => max == 1 ? (ReadFlag() ? 0 : 1) : (int)ReadUe();

    /// <summary>more_rbsp_data(): whether anything but the stop bit and trailing zeros is left.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool MoreRbspData() => MayContinue || _position < _stopBit;

    /// <summary>
    /// Checks rbsp_trailing_bits(): the reader sits exactly on the stop bit (everything after it is
    /// zero by construction, and trailing zero bytes are stripped by the NAL splitter).
    /// </summary>
    public bool TrailingBitsAreValid() => _position == _stopBit;
}
