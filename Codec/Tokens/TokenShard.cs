using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;

namespace JpegLm.Codec.Tokens;

/// <summary>
/// The fixed 64-byte header of a token shard (little-endian): magic "JLMTOKS\0", version, token width
/// (2 = u16, 4 = u32), vocabulary hash, profile hash, token count, document count, vocabulary size,
/// EOS id, 8 reserved zero bytes. Tokens follow: every document is BOS, its tokens, EOS.
/// </summary>
/// <param name="TokenWidth">Bytes per token: 2 or 4.</param>
/// <param name="VocabularyHash">The <see cref="BpeVocabulary.ContentHash"/> the tokens were made with.</param>
/// <param name="ProfileHash">The <see cref="CodecProfile.ContentHash"/> of the data's profile.</param>
/// <param name="TokenCount">Tokens in the shard.</param>
/// <param name="DocumentCount">Documents in the shard.</param>
/// <param name="VocabularySize">Size of the vocabulary (every token id is below it).</param>
public readonly record struct TokenShardHeader(int TokenWidth, ulong VocabularyHash, ulong ProfileHash, long TokenCount, long DocumentCount, int VocabularySize)
{
    /// <summary>Header size in bytes.</summary>
    public const int Size = 64;

    /// <summary>Format version written by this code.</summary>
    public const int Version = 1;

    private static ReadOnlySpan<byte> Magic => "JLMTOKS\0"u8;

    /// <summary>Writes the header into 64 bytes.</summary>
    public void Write(Span<byte> b)
    {
        b[..Size].Clear();
        Magic.CopyTo(b);
        BinaryPrimitives.WriteInt32LittleEndian(b[8..], Version);
        BinaryPrimitives.WriteInt32LittleEndian(b[12..], TokenWidth);
        BinaryPrimitives.WriteUInt64LittleEndian(b[16..], VocabularyHash);
        BinaryPrimitives.WriteUInt64LittleEndian(b[24..], ProfileHash);
        BinaryPrimitives.WriteInt64LittleEndian(b[32..], TokenCount);
        BinaryPrimitives.WriteInt64LittleEndian(b[40..], DocumentCount);
        BinaryPrimitives.WriteInt32LittleEndian(b[48..], VocabularySize);
        BinaryPrimitives.WriteInt32LittleEndian(b[52..], BpeVocabulary.Eos);
    }

    /// <summary>Reads and checks a header; <paramref name="path"/> is for messages.</summary>
    /// <exception cref="TokenFormatException">Not a shard, an unknown version or an impossible field.</exception>
    public static TokenShardHeader Read(ReadOnlySpan<byte> b, string path)
    {
        if (b.Length < Size)
        {
            throw new TokenFormatException($"truncated header ({b.Length} of {Size} bytes)", path, b.Length);
        }

        if (!b[..8].SequenceEqual(Magic))
        {
            throw new TokenFormatException("not a token shard (bad magic)", path, 0);
        }

        int version = BinaryPrimitives.ReadInt32LittleEndian(b[8..]);
        if (version != Version)
        {
            throw new TokenFormatException($"shard version {version}, this build reads {Version}", path, 8);
        }

        var h = new TokenShardHeader(
            BinaryPrimitives.ReadInt32LittleEndian(b[12..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(b[24..]),
            BinaryPrimitives.ReadInt64LittleEndian(b[32..]),
            BinaryPrimitives.ReadInt64LittleEndian(b[40..]),
            BinaryPrimitives.ReadInt32LittleEndian(b[48..]));
        if (h.TokenWidth is not (2 or 4) || h.TokenCount < 0 || h.DocumentCount < 0 || h.VocabularySize < BpeVocabulary.FirstMerge
            || (h.TokenWidth == 2 && h.VocabularySize > 65536) || BinaryPrimitives.ReadInt32LittleEndian(b[52..]) != BpeVocabulary.Eos)
        {
            throw new TokenFormatException("impossible header fields (width, counts, vocabulary size or EOS id)", path, 12);
        }

        return h;
    }
}

/// <summary>
/// Streams documents into a shard: tokens go to a temporary file (<see cref="IO.AtomicFile.Create"/>) behind a placeholder header; <see cref="Commit"/>
/// writes the final header and renames the file into place, so a reader never sees a half-written shard.
/// Disposing without committing deletes the temporary file.
/// </summary>
public sealed class TokenShardWriter : IDisposable
{
    private readonly IO.PendingFile _file;
    private readonly FileStream _stream;
    private readonly int _width;
    private readonly ulong _vocabularyHash;
    private readonly ulong _profileHash;
    private readonly int _vocabularySize;
    private readonly byte[] _buffer = new byte[1 << 16];
    private int _buffered;
    private long _tokens;
    private long _documents;
    private bool _committed;

    /// <summary>Starts a shard at <paramref name="path"/>.</summary>
    /// <param name="path">Final file name.</param>
    /// <param name="vocabulary">The vocabulary the tokens come from.</param>
    /// <param name="profile">The profile of the data.</param>
    /// <param name="tokenWidth">2 (u16, vocabularies up to 65536) or 4 (u32).</param>
    public TokenShardWriter(string path, BpeVocabulary vocabulary, CodecProfile profile, int tokenWidth = 2)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(profile);
        if (tokenWidth is not (2 or 4) || (tokenWidth == 2 && vocabulary.Size > 65536))
        {
            throw new ArgumentException("token width must be 2 (vocabulary ≤ 65536) or 4", nameof(tokenWidth));
        }

        _width = tokenWidth;
        _vocabularyHash = vocabulary.ContentHash();
        _profileHash = profile.ContentHash();
        _vocabularySize = vocabulary.Size;
        _file = IO.AtomicFile.Create(path);
        _stream = _file.Stream;
        _stream.Write(new byte[TokenShardHeader.Size]);
    }

    /// <summary>Tokens written so far (BOS and EOS included).</summary>
    public long TokenCount => _tokens;

    /// <summary>Documents written so far.</summary>
    public long DocumentCount => _documents;

    /// <summary>Appends one document: BOS, <paramref name="tokens"/>, EOS.</summary>
    public void WriteDocument(ReadOnlySpan<int> tokens)
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        Put(BpeVocabulary.Bos);
        foreach (int t in tokens)
        {
            if ((uint)t >= (uint)_vocabularySize || BpeVocabulary.IsSpecial(t))
            {
                throw new ArgumentException($"token {t} is not a content token of this vocabulary", nameof(tokens));
            }

            Put(t);
        }

        Put(BpeVocabulary.Eos);
        _documents++;
    }

    /// <summary>Writes the header, flushes, and renames the shard into place.</summary>
    public TokenShardHeader Commit()
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        Flush();
        var header = new TokenShardHeader(_width, _vocabularyHash, _profileHash, _tokens, _documents, _vocabularySize);
        var bytes = new byte[TokenShardHeader.Size];
        header.Write(bytes);
        _stream.Position = 0;
        _stream.Write(bytes);
        _file.Commit();
        _committed = true;
        return header;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (!_committed)
        {
            _file.Dispose(); // deletes the temporary file
            _committed = true;
        }
    }

    private void Put(int token)
    {
        if (_buffered + 4 > _buffer.Length)
        {
            Flush();
        }

        if (_width == 2)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(_buffer.AsSpan(_buffered), (ushort)token);
        }
        else
        {
            BinaryPrimitives.WriteInt32LittleEndian(_buffer.AsSpan(_buffered), token);
        }

        _buffered += _width;
        _tokens++;
    }

    private void Flush()
    {
        _stream.Write(_buffer, 0, _buffered);
        _buffered = 0;
    }
}

/// <summary>
/// A memory-mapped, read-only token shard. Opening validates the header, the file length and (when
/// given) the expected vocabulary and profile hashes, with a clear error for each mismatch.
/// </summary>
public sealed unsafe class TokenShardReader : IDisposable
{
    private readonly MemoryMappedFile? _file;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _tokens;
    private bool _disposed;

    private TokenShardReader(string path, MemoryMappedFile? file, MemoryMappedViewAccessor? view, byte* tokens, TokenShardHeader header)
    {
        Path = path;
        _file = file;
        _view = view;
        _tokens = tokens;
        Header = header;
    }

    /// <summary>The shard's file.</summary>
    public string Path { get; }

    /// <summary>The validated header.</summary>
    public TokenShardHeader Header { get; }

    /// <summary>Tokens in the shard.</summary>
    public long TokenCount => Header.TokenCount;

    /// <summary>Opens and validates a shard.</summary>
    /// <param name="path">The shard file.</param>
    /// <param name="expectedVocabularyHash">When given, the shard must have been written with this vocabulary.</param>
    /// <param name="expectedProfileHash">When given, the shard's data must be of this profile.</param>
    /// <exception cref="TokenFormatException">Bad header, truncated or overlong file, or a hash mismatch.</exception>
    public static TokenShardReader Open(string path, ulong? expectedVocabularyHash = null, ulong? expectedProfileHash = null)
    {
        long length = new FileInfo(path).Length;
        var headerBytes = new byte[Math.Min(length, TokenShardHeader.Size)];
        using (var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read))
        {
            s.ReadExactly(headerBytes);
        }

        TokenShardHeader h = TokenShardHeader.Read(headerBytes, path);
        if (h.TokenCount > (length - TokenShardHeader.Size) / h.TokenWidth || TokenShardHeader.Size + (h.TokenCount * h.TokenWidth) != length)
        {
            throw new TokenFormatException($"file is {length} bytes but the header promises {h.TokenCount} tokens of {h.TokenWidth} bytes (truncated or overlong)", path, length);
        }

        if (expectedVocabularyHash is ulong v && v != h.VocabularyHash)
        {
            throw new TokenFormatException($"made with vocabulary {h.VocabularyHash:x16}, expected {v:x16}", path, 16);
        }

        if (expectedProfileHash is ulong p && p != h.ProfileHash)
        {
            throw new TokenFormatException($"made under profile {h.ProfileHash:x16}, expected {p:x16}", path, 24);
        }

        if (h.TokenCount == 0)
        {
            return new TokenShardReader(path, null, null, null, h);
        }

        MemoryMappedFile file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        MemoryMappedViewAccessor view = file.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        byte* start = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref start);
        return new TokenShardReader(path, file, view, start + view.PointerOffset + TokenShardHeader.Size, h);
    }

    /// <summary>The token at <paramref name="index"/>.</summary>
    public int this[long index]
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, TokenCount);
            return Header.TokenWidth == 2 ? ((ushort*)_tokens)[index] : (int)((uint*)_tokens)[index];
        }
    }

    /// <summary>The flat u16 token span (token width 2; at most 2^31 − 1 tokens).</summary>
    public ReadOnlySpan<ushort> Tokens16 => Header.TokenWidth == 2 ? new ReadOnlySpan<ushort>(Pointer(), checked((int)TokenCount)) : throw new InvalidOperationException("shard has 32-bit tokens");

    /// <summary>The flat u32 token span (token width 4; at most 2^31 − 1 tokens).</summary>
    public ReadOnlySpan<uint> Tokens32 => Header.TokenWidth == 4 ? new ReadOnlySpan<uint>(Pointer(), checked((int)TokenCount)) : throw new InvalidOperationException("shard has 16-bit tokens");

    /// <summary>Copies tokens [start, start + destination.Length) as ints (for data loaders).</summary>
    public void CopyTokens(long start, Span<int> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start + destination.Length, TokenCount);
        byte* p = (byte*)Pointer();
        for (int i = 0; i < destination.Length; i++)
        {
            destination[i] = Header.TokenWidth == 2 ? ((ushort*)p)[start + i] : (int)((uint*)p)[start + i];
        }
    }

    /// <summary>The documents in order: (first token, token count), each from its BOS through its EOS.</summary>
    public IEnumerable<(long Start, long Length)> Documents()
    {
        long start = 0;
        for (long i = 0; i < TokenCount; i++)
        {
            if (this[i] == BpeVocabulary.Eos)
            {
                yield return (start, i + 1 - start);
                start = i + 1;
            }
        }

        if (start < TokenCount)
        {
            throw new TokenFormatException("the last document has no EOS", Path, TokenShardHeader.Size + (start * Header.TokenWidth));
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _view?.SafeMemoryMappedViewHandle.ReleasePointer();
        _view?.Dispose();
        _file?.Dispose();
    }

    private void* Pointer()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _tokens;
    }
}
