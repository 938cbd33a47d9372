namespace JpegLm.Codec.Avc;

/// <summary>
/// An H.264 stream that cannot be decoded: broken syntax, an unsupported feature or a size out of
/// bounds. Carries the position where it was found: frame (output-independent decoding index),
/// slice (0-based slice index in stream order), macroblock address and byte offset in the stream,
/// each -1 where unknown.
/// </summary>
public sealed class AvcFormatException : FormatException
{
    /// <summary>Creates an exception with no position.</summary>
    public AvcFormatException()
        : this("invalid H.264 stream")
    {
    }

    /// <summary>Creates an exception with a message and no position.</summary>
    public AvcFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception wrapping another.</summary>
    public AvcFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates an exception with a reason and its position.</summary>
    public AvcFormatException(string reason, long byteOffset, int frame = -1, int slice = -1, int macroblock = -1, Exception? inner = null)
        : base(Describe(reason, byteOffset, frame, slice, macroblock), inner)
    {
        Reason = reason;
        ByteOffset = byteOffset;
        Frame = frame;
        Slice = slice;
        Macroblock = macroblock;
    }

    /// <summary>The bare reason without the position.</summary>
    public string Reason { get; } = "invalid H.264 stream";

    /// <summary>Byte offset in the stream (of the NAL unit, or finer), -1 if unknown.</summary>
    public long ByteOffset { get; } = -1;

    /// <summary>0-based picture index in decoding order, -1 if unknown.</summary>
    public int Frame { get; } = -1;

    /// <summary>0-based slice index in stream order, -1 if unknown.</summary>
    public int Slice { get; } = -1;

    /// <summary>Macroblock address within the picture, -1 if unknown.</summary>
    public int Macroblock { get; } = -1;

    /// <summary>Returns a copy with the missing position fields filled in.</summary>
    public AvcFormatException WithPosition(long byteOffset, int frame, int slice, int macroblock)
        => new(Reason, ByteOffset >= 0 ? ByteOffset : byteOffset, Frame >= 0 ? Frame : frame,
            Slice >= 0 ? Slice : slice, Macroblock >= 0 ? Macroblock : macroblock, this);

    private static string Describe(string reason, long byteOffset, int frame, int slice, int macroblock)
    {
        var where = new List<string>(4);
        if (frame >= 0)
        {
            where.Add($"frame {frame}");
        }

        if (slice >= 0)
        {
            where.Add($"slice {slice}");
        }

        if (macroblock >= 0)
        {
            where.Add($"macroblock {macroblock}");
        }

        if (byteOffset >= 0)
        {
            where.Add($"byte offset {byteOffset}");
        }

        return where.Count == 0 ? reason : $"{reason} ({string.Join(", ", where)})";
    }
}
