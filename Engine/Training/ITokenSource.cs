using System.Buffers.Binary;
using Microsoft.Win32.SafeHandles;

namespace JpegLm.Engine.Training;

/// <summary>
/// A stream of token ids: documents already concatenated (each typically ended by an EOS token), read by
/// position. The trainer cuts it into context-length chunks; token shards adapt to it.
/// </summary>
public interface ITokenSource
{
    /// <summary>Number of tokens.</summary>
    long Length { get; }

    /// <summary>Copies tokens <c>[position, position + destination.Length)</c> into <paramref name="destination"/>.</summary>
    void Read(long position, Span<int> destination);
}

/// <summary>Tokens held in memory.</summary>
public sealed class InMemoryTokenSource : ITokenSource
{
    private readonly int[] _tokens;

    /// <summary>Wraps <paramref name="tokens"/> (not copied).</summary>
    public InMemoryTokenSource(int[] tokens) => _tokens = tokens ?? throw new ArgumentNullException(nameof(tokens));

    /// <summary>Concatenates documents, appending <paramref name="separator"/> after each when given.</summary>
    public static InMemoryTokenSource FromDocuments(IEnumerable<int[]> documents, int? separator)
    {
        ArgumentNullException.ThrowIfNull(documents);
        var all = new List<int>();
        foreach (int[] d in documents)
        {
            all.AddRange(d);
            if (separator is int s)
            {
                all.Add(s);
            }
        }

        return new InMemoryTokenSource([.. all]);
    }

    /// <inheritdoc/>
    public long Length => _tokens.Length;

    /// <inheritdoc/>
    public void Read(long position, Span<int> destination) => _tokens.AsSpan(checked((int)position), destination.Length).CopyTo(destination);
}

/// <summary>A flat file of little-endian token ids, 4 bytes (int32) or 2 bytes (uint16) each, read on demand.</summary>
public sealed class TokenFile : ITokenSource, IDisposable
{
    private readonly SafeFileHandle _handle;
    private readonly int _width;
    private byte[] _scratch = [];

    /// <summary>Opens <paramref name="path"/>; <paramref name="bytesPerToken"/> is 4 (int32) or 2 (uint16).</summary>
    public TokenFile(string path, int bytesPerToken = 4)
    {
        if (bytesPerToken is not (2 or 4))
        {
            throw new ArgumentOutOfRangeException(nameof(bytesPerToken), "tokens are 2 or 4 bytes");
        }

        _handle = File.OpenHandle(path);
        _width = bytesPerToken;
        long bytes = RandomAccess.GetLength(_handle);
        if (bytes % bytesPerToken != 0)
        {
            _handle.Dispose();
            throw new InvalidDataException($"{path}: {bytes} bytes is not a whole number of {bytesPerToken}-byte tokens");
        }

        Length = bytes / bytesPerToken;
    }

    /// <inheritdoc/>
    public long Length { get; }

    /// <inheritdoc/>
    public void Read(long position, Span<int> destination)
    {
        if (position < 0 || position + destination.Length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(position), $"tokens [{position}, {position + destination.Length}) outside a file of {Length}");
        }

        int bytes = destination.Length * _width;
        if (_scratch.Length < bytes)
        {
            _scratch = new byte[bytes];
        }

        Span<byte> raw = _scratch.AsSpan(0, bytes);
        int read = 0;
        while (read < bytes)
        {
            int n = RandomAccess.Read(_handle, raw[read..], position * _width + read);
            if (n == 0)
            {
                throw new EndOfStreamException($"token file ended at byte {position * _width + read}");
            }

            read += n;
        }

        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = _width == 4 ? BinaryPrimitives.ReadInt32LittleEndian(raw[(i * 4)..]) : BinaryPrimitives.ReadUInt16LittleEndian(raw[(i * 2)..]);
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _handle.Dispose();
}
