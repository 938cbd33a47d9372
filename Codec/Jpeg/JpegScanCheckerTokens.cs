namespace JpegLm.Codec.Jpeg;

/// <summary>
/// Lifts the byte-level <see cref="JpegScanState"/> to a token vocabulary for constrained sampling:
/// which tokens can come next such that every one of their bytes is allowed. The vocabulary's byte
/// strings are put in a byte trie, and one depth-first walk with copies of the state visits each
/// trie node at most once and stops at the first refused byte, so a mask costs far less than
/// vocabulary × token length byte steps. Tokens with no bytes (BOS, EOS, PAD) are never allowed,
/// except <see cref="EndOfStreamToken"/> once the stream is complete.
/// </summary>
public sealed class JpegTokenConstraint
{
    private readonly byte[][] _tokenBytes;
    private readonly List<int> _firstChild = [-1];
    private readonly List<int> _nextSibling = [-1];
    private readonly List<byte> _label = [0];
    private readonly List<int> _tokenAt = [-1];
    private readonly List<int> _nextTokenAtSameNode = [];

    /// <summary>Builds the trie.</summary>
    /// <param name="tokenBytes">For each token id, the bytes it stands for (empty for specials).</param>
    /// <param name="endOfStreamToken">The id that ends a stream, allowed only when the state is complete.</param>
    public JpegTokenConstraint(IReadOnlyList<byte[]> tokenBytes, int endOfStreamToken)
    {
        ArgumentNullException.ThrowIfNull(tokenBytes);
        _tokenBytes = [.. tokenBytes];
        EndOfStreamToken = endOfStreamToken;
        for (int id = 0; id < _tokenBytes.Length; id++)
        {
            _nextTokenAtSameNode.Add(-1);
            if (_tokenBytes[id].Length == 0)
            {
                continue;
            }

            int node = 0;
            foreach (byte b in _tokenBytes[id])
            {
                node = Child(node, b);
            }

            // Two merges can spell the same bytes; chain the ids that end at one node.
            _nextTokenAtSameNode[id] = _tokenAt[node];
            _tokenAt[node] = id;
        }
    }

    /// <summary>Number of token ids.</summary>
    public int VocabularySize => _tokenBytes.Length;

    /// <summary>The id that ends a stream.</summary>
    public int EndOfStreamToken { get; }

    /// <summary>Sets <paramref name="allowed"/>[id] for every token that can come next (clears the rest).</summary>
    /// <returns>The number of allowed tokens (0 only for a failed state).</returns>
    public int FillAllowed(in JpegScanState state, Span<bool> allowed)
    {
        if (allowed.Length < _tokenBytes.Length)
        {
            throw new ArgumentException("mask shorter than the vocabulary", nameof(allowed));
        }

        allowed.Clear();
        int count = 0;
        if (state.IsFailed)
        {
            return 0;
        }

        if (state.IsComplete && (uint)EndOfStreamToken < (uint)allowed.Length)
        {
            allowed[EndOfStreamToken] = true;
            count++;
        }

        return count + Walk(0, state, allowed);
    }

    /// <summary>Feeds the bytes of <paramref name="token"/> to <paramref name="state"/>; false if one is refused.</summary>
    public bool Advance(ref JpegScanState state, int token)
    {
        if (token == EndOfStreamToken)
        {
            return state.IsComplete;
        }

        byte[] bytes = _tokenBytes[token];
        if (bytes.Length == 0)
        {
            return false;
        }

        foreach (byte b in bytes)
        {
            if (!state.Consume(b))
            {
                return false;
            }
        }

        return true;
    }

    private int Walk(int node, JpegScanState state, Span<bool> allowed)
    {
        int count = 0;
        for (int c = _firstChild[node]; c >= 0; c = _nextSibling[c])
        {
            JpegScanState next = state;
            if (!next.Consume(_label[c]))
            {
                continue;
            }

            for (int id = _tokenAt[c]; id >= 0; id = _nextTokenAtSameNode[id])
            {
                allowed[id] = true;
                count++;
            }

            count += Walk(c, next, allowed);
        }

        return count;
    }

    private int Child(int node, byte b)
    {
        for (int c = _firstChild[node]; c >= 0; c = _nextSibling[c])
        {
            if (_label[c] == b)
            {
                return c;
            }
        }

        int n = _label.Count;
        _label.Add(b);
        _firstChild.Add(-1);
        _tokenAt.Add(-1);
        _nextSibling.Add(_firstChild[node]);
        _firstChild[node] = n;
        return n;
    }
}
