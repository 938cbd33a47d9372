namespace JpegLm.Codec.Imaging;

/// <summary>A PNG, PNM or Y4M file is malformed or unsupported; carries the byte offset.</summary>
public sealed class ImageFormatException : FormatException
{
    /// <summary>Creates the exception; the message is prefixed with the position.</summary>
    public ImageFormatException(string reason, long byteOffset)
        : base($"at byte {byteOffset}: {reason}")
    {
        Reason = reason;
        ByteOffset = byteOffset;
    }

    /// <summary>Creates the exception without a position.</summary>
    public ImageFormatException()
        : this("malformed image file", 0)
    {
    }

    /// <summary>Creates the exception without a position.</summary>
    public ImageFormatException(string message)
        : this(message, 0)
    {
    }

    /// <summary>Creates the exception wrapping an inner one.</summary>
    public ImageFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = message;
    }

    /// <summary>What is wrong, without the position.</summary>
    public string Reason { get; } = "";

    /// <summary>Offset of the offending byte.</summary>
    public long ByteOffset { get; }
}
