using System.Buffers.Binary;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// The growable byte buffer an encoder writes a stream into; kept and reused across images so that
/// encoding allocates nothing once the buffer has reached its working size.
/// </summary>
internal sealed class JpegOutputBuffer
{
    private byte[] _data;

    /// <summary>A buffer of <paramref name="capacity"/> bytes to start with (an encoder's default: 16 KiB; a header: less).</summary>
    public JpegOutputBuffer(int capacity = 16384) => _data = new byte[Math.Max(capacity, 16)];

    /// <summary>The backing array (valid up to <see cref="Length"/>); replaced when the buffer grows.</summary>
    public byte[] Data => _data;

    /// <summary>Bytes written so far.</summary>
    public int Length { get; set; }

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> Written => _data.AsSpan(0, Length);

    /// <summary>Makes room for <paramref name="count"/> more bytes.</summary>
    public void EnsureFree(int count)
    {
        if (Length + count > _data.Length)
        {
            long wanted = Math.Max((long)_data.Length * 2, (long)Length + count);
            Array.Resize(ref _data, (int)Math.Min(wanted, Array.MaxLength));
        }
    }

    public void WriteByte(byte value)
    {
        EnsureFree(1);
        _data[Length++] = value;
    }

    /// <summary>Writes a big-endian 16-bit value (all JPEG marker fields are big-endian).</summary>
    public void WriteUInt16(int value)
    {
        EnsureFree(2);
        BinaryPrimitives.WriteUInt16BigEndian(_data.AsSpan(Length), checked((ushort)value));
        Length += 2;
    }

    /// <summary>Writes a marker: 0xFF followed by its code.</summary>
    public void WriteMarker(byte code)
    {
        WriteByte(0xFF);
        WriteByte(code);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        EnsureFree(bytes.Length);
        bytes.CopyTo(_data.AsSpan(Length));
        Length += bytes.Length;
    }
}
