namespace JpegLm.Codec.Jpeg;

/// <summary>
/// A JPEG stream is malformed or unsupported. Carries where: the byte offset in the stream and, inside
/// entropy-coded data, the MCU index (in scan order) being decoded.
/// </summary>
public sealed class JpegFormatException : FormatException
{
    /// <summary>Creates the exception; the message is prefixed with the position.</summary>
    /// <param name="reason">What is wrong, in the standard's words.</param>
    /// <param name="byteOffset">Offset of the offending byte from the start of the stream.</param>
    /// <param name="mcu">The MCU being decoded, if inside a scan.</param>
    public JpegFormatException(string reason, long byteOffset, int? mcu = null)
        : base(mcu is int m ? $"at byte {byteOffset} (MCU {m}): {reason}" : $"at byte {byteOffset}: {reason}")
    {
        Reason = reason;
        ByteOffset = byteOffset;
        Mcu = mcu;
    }

    /// <summary>Creates the exception without a position (prefer the positioned constructor).</summary>
    public JpegFormatException()
        : this("malformed JPEG stream", 0)
    {
    }

    /// <summary>Creates the exception without a position (prefer the positioned constructor).</summary>
    public JpegFormatException(string message)
        : this(message, 0)
    {
    }

    /// <summary>Creates the exception wrapping an inner one.</summary>
    public JpegFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = message;
    }

    /// <summary>What is wrong, without the position.</summary>
    public string Reason { get; } = "";

    /// <summary>Offset of the offending byte from the start of the stream.</summary>
    public long ByteOffset { get; }

    /// <summary>Index of the MCU being decoded (scan order), when the error is inside entropy-coded data.</summary>
    public int? Mcu { get; }
}
