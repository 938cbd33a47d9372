namespace JpegLm.Codec.Bitstream;

/// <summary>
/// Writes an H.264 raw byte sequence payload most significant bit first, with the Exp-Golomb codes
/// of clause 9.1, and packs finished payloads into Annex B NAL units: start code, NAL header and
/// emulation prevention bytes (clause 7.4.1). The mirror of <see cref="RbspReader"/>. One writer is
/// reused for every NAL unit; its buffer grows geometrically and is never shrunk.
/// </summary>
public sealed class RbspWriter
{
    private byte[] _data = new byte[256];
    private int _bytes;
    private ulong _acc;
    private int _accBits;

    /// <summary>Bits written since the last <see cref="Clear"/>.</summary>
    public long BitLength => ((long)_bytes * 8) + _accBits;

    /// <summary>Whether the writer sits on a byte boundary.</summary>
    public bool IsByteAligned => (_accBits & 7) == 0;

    /// <summary>Starts a new, empty payload.</summary>
    public void Clear()
    {
        _bytes = 0;
        _acc = 0;
        _accBits = 0;
    }

    /// <summary>Writes the low <paramref name="count"/> (0..32) bits of <paramref name="value"/>.</summary>
    public void WriteBits(uint value, int count)
    {
        if ((uint)count > 32)
        {
            throw new ArgumentOutOfRangeException(nameof(count));
        }

        if (count == 0)
        {
            return;
        }

        ulong v = count == 32 ? value : value & ((1u << count) - 1);
        _acc = (_acc << count) | v;
        _accBits += count;
        while (_accBits >= 8)
        {
            _accBits -= 8;
            Put((byte)(_acc >> _accBits));
        }

        _acc &= (1UL << _accBits) - 1;
    }

    /// <summary>Writes one bit.</summary>
    public void WriteFlag(bool flag) => WriteBits(flag ? 1u : 0u, 1);

    /// <summary>ue(v): unsigned Exp-Golomb (9.1).</summary>
    public void WriteUe(uint value)
    {
        ulong v = (ulong)value + 1;
        int len = 64 - System.Numerics.BitOperations.LeadingZeroCount(v);
        // len - 1 leading zeros, then the len bits of value + 1.
        if (len <= 16)
        {
            WriteBits((uint)v, (2 * len) - 1);
        }
        else
        {
            WriteBits(0, len - 1);
            if (len > 32)
            {
                WriteBits(1, 1);
            }

            WriteBits((uint)v, Math.Min(len, 32));
        }
    }

    /// <summary>ue(v) of an int that must not be negative.</summary>
    public void WriteUe(int value) => WriteUe(checked((uint)value));

    /// <summary>se(v): signed Exp-Golomb, mapped k &gt; 0 to 2k - 1 and k &lt;= 0 to -2k (Table 9-3).</summary>
    public void WriteSe(int value) => WriteUe(value > 0 ? ((uint)value * 2) - 1 : (uint)(-(long)value) * 2);

    /// <summary>te(v) with range <paramref name="max"/> (9.1.2): one inverted bit when the range is 1, else ue(v).</summary>
    public void WriteTe(int value, int max)
    {
        if (max > 1)
        {
            WriteUe(value);
        }
        else
        {
            WriteFlag(value == 0);
        }
    }

    /// <summary>Number of bits ue(v) takes for <paramref name="value"/>.</summary>
    public static int UeLength(uint value) => (2 * (64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)value + 1))) - 1;

    /// <summary>Number of bits se(v) takes for <paramref name="value"/>.</summary>
    public static int SeLength(int value) => UeLength(value > 0 ? ((uint)value * 2) - 1 : (uint)(-(long)value) * 2);

    /// <summary>rbsp_trailing_bits(): the stop bit, then zero bits to the byte boundary (7.3.2.11).</summary>
    public void WriteTrailingBits()
    {
        WriteBits(1, 1);
        if ((_accBits & 7) != 0)
        {
            WriteBits(0, 8 - (_accBits & 7));
        }
    }

    /// <summary>The payload written so far; only whole bytes (call <see cref="WriteTrailingBits"/> first).</summary>
    public ReadOnlySpan<byte> Payload => _data.AsSpan(0, _bytes);

    /// <summary>
    /// Appends the payload as one Annex B NAL unit to <paramref name="output"/>: a 4-byte start code,
    /// the header byte (nal_ref_idc, nal_unit_type) and the payload with an emulation_prevention_three_byte
    /// inserted wherever two zero bytes would be followed by a byte &lt;= 3 (7.4.1).
    /// </summary>
    public void WriteNalUnit(Stream output, int nalRefIdc, int nalUnitType)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (_accBits != 0)
        {
            throw new InvalidOperationException("the payload does not end on a byte boundary");
        }

        // Worst case: one extra byte per two payload bytes, plus start code and header.
        int cap = 5 + _bytes + (_bytes / 2) + 1;
        byte[] rented = System.Buffers.ArrayPool<byte>.Shared.Rent(cap);
        try
        {
            int n = 0;
            rented[n++] = 0;
            rented[n++] = 0;
            rented[n++] = 0;
            rented[n++] = 1;
            rented[n++] = (byte)((nalRefIdc << 5) | nalUnitType);
            int zeros = 0;
            for (int i = 0; i < _bytes; i++)
            {
                byte b = _data[i];
                if (zeros >= 2 && b <= 3)
                {
                    rented[n++] = 3;
                    zeros = 0;
                }

                rented[n++] = b;
                zeros = b == 0 ? zeros + 1 : 0;
            }

            output.Write(rented, 0, n);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private void Put(byte b)
    {
        if (_bytes == _data.Length)
        {
            Array.Resize(ref _data, _data.Length * 2);
        }

        _data[_bytes++] = b;
    }
}
