using JpegLm.Codec.Tokens;

namespace JpegLm.Engine.Training;

/// <summary>
/// A token shard (<c>train.tok</c>, <c>val.tok</c> written by <c>jpeglm prepare</c>) as an <see cref="ITokenSource"/>:
/// its documents are already concatenated with their BOS/EOS tokens, so the trainer's chunking is the
/// paper's "concatenate and cut to the context length". The shard stays memory-mapped.
/// </summary>
public sealed class ShardTokenSource : ITokenSource, IDisposable
{
    private readonly TokenShardReader _reader;

    /// <summary>Opens a shard, checking its vocabulary and profile hashes when given.</summary>
    /// <exception cref="TokenFormatException">The shard is truncated, not a shard, or made for another vocabulary/profile.</exception>
    public ShardTokenSource(string path, ulong? vocabularyHash = null, ulong? profileHash = null)
    {
        _reader = TokenShardReader.Open(path, vocabularyHash, profileHash);
    }

    /// <summary>The shard's header.</summary>
    public TokenShardHeader Header => _reader.Header;

    /// <inheritdoc/>
    public long Length => _reader.TokenCount;

    /// <inheritdoc/>
    public void Read(long position, Span<int> destination) => _reader.CopyTokens(position, destination);

    /// <inheritdoc/>
    public void Dispose() => _reader.Dispose();
}
