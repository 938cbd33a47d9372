namespace JpegLm.Codec.Tokens;

/// <summary>
/// A token shard, vocabulary or data file is malformed, truncated, or made for another vocabulary or
/// profile. Carries the file and the byte offset where the problem was found.
/// </summary>
public sealed class TokenFormatException : FormatException
{
    /// <summary>Creates the exception; the message names the file and offset.</summary>
    public TokenFormatException(string reason, string path, long byteOffset)
        : base($"{path}: at byte {byteOffset}: {reason}")
    {
        Reason = reason;
        Path = path;
        ByteOffset = byteOffset;
    }

    /// <summary>Creates the exception without a position (prefer the positioned constructor).</summary>
    public TokenFormatException()
        : this("malformed token data", "", 0)
    {
    }

    /// <summary>Creates the exception without a position (prefer the positioned constructor).</summary>
    public TokenFormatException(string message)
        : this(message, "", 0)
    {
    }

    /// <summary>Creates the exception wrapping an inner one.</summary>
    public TokenFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = message;
        Path = "";
    }

    /// <summary>What is wrong, without the position.</summary>
    public string Reason { get; } = "";

    /// <summary>The file.</summary>
    public string Path { get; } = "";

    /// <summary>Offset of the problem in the file.</summary>
    public long ByteOffset { get; }
}
