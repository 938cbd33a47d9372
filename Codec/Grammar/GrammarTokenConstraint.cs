namespace JpegLm.Codec.Grammar;

/// <summary>
/// Lifts a byte-level <see cref="IByteGrammarState"/> to a token vocabulary for constrained sampling: which
/// tokens can come next such that every one of their bytes is allowed and, under a token budget, the stream can
/// still be finished in time. The vocabulary's byte strings are put in a byte trie, and one depth-first walk with
/// copies of the state visits each trie node at most once and stops at the first refused byte, so a mask costs
/// far less than vocabulary × token length byte steps. Tokens with no bytes (BOS, EOS, PAD) are never allowed,
/// except <see cref="EndOfStreamToken"/> once the stream is complete. A table built with a mask cache (the default)
/// keeps the walk's result by state (<see cref="TokenMaskCache{TState}"/>): JPEG scan states at token boundaries
/// repeat across a batch and across patches, so most masks are a dictionary lookup and a copy of set bits.
/// </summary>
/// <typeparam name="TState">The grammar state; its equality must compare every field, since masks are cached by it.</typeparam>
public class GrammarTokenConstraint<TState>
    where TState : struct, IByteGrammarState, IEquatable<TState>
{
    private readonly byte[][] _tokenBytes;
    private readonly List<int> _firstChild = [-1];
    private readonly List<int> _nextSibling = [-1];
    private readonly List<byte> _label = [0];
    private readonly List<int> _tokenAt = [-1];
    private readonly List<int> _nextTokenAtSameNode = [];
    private readonly TokenMaskCache<TState>? _cache;

    // The candidates of one walk on a cache miss (reused: filled under the cache's lock).
    private readonly List<int> _walkIds = [];
    private readonly List<long> _walkBounds = [];

    /// <summary>Builds the trie.</summary>
    /// <param name="tokenBytes">For each token id, the bytes it stands for (empty for specials).</param>
    /// <param name="endOfStreamToken">The id that ends a stream, allowed only when the state is complete.</param>
    /// <param name="cacheMasks">Cache masks by state (the default); false walks the trie for every mask, which tests compare against.</param>
    public GrammarTokenConstraint(IReadOnlyList<byte[]> tokenBytes, int endOfStreamToken, bool cacheMasks = true)
    {
        ArgumentNullException.ThrowIfNull(tokenBytes);
        _tokenBytes = [.. tokenBytes];
        EndOfStreamToken = endOfStreamToken;
        _cache = cacheMasks ? new TokenMaskCache<TState>() : null;
        var single = new bool[256];
        for (int id = 0; id < _tokenBytes.Length; id++)
        {
            _nextTokenAtSameNode.Add(-1);
            if (_tokenBytes[id].Length == 0)
            {
                continue;
            }

            single[_tokenBytes[id][0]] |= _tokenBytes[id].Length == 1;
            int node = 0;
            foreach (byte b in _tokenBytes[id])
            {
                node = Child(node, b);
            }

            // Two merges can spell the same bytes; chain the ids that end at one node.
            _nextTokenAtSameNode[id] = _tokenAt[node];
            _tokenAt[node] = id;
        }

        CoversEveryByte = Array.TrueForAll(single, x => x);
    }

    /// <summary>Number of token ids.</summary>
    public int VocabularySize => _tokenBytes.Length;

    /// <summary>The id that ends a stream.</summary>
    public int EndOfStreamToken { get; }

    /// <summary>True when every byte value is a one-byte token, which the budget guarantee of <see cref="FillAllowed(in TState, Span{bool}, int)"/> needs.</summary>
    public bool CoversEveryByte { get; }

    /// <summary>Masks answered from the cache and masks that walked the trie, since this table was built (0, 0 without a cache).</summary>
    public (long Hits, long Misses) CacheCounts
    {
        get
        {
            if (_cache == null)
            {
                return (0, 0);
            }

            lock (_cache)
            {
                return (_cache.Hits, _cache.Misses);
            }
        }
    }

    /// <summary>Tokens that finish the stream from <paramref name="state"/> at most: its completion in single bytes, plus EOS (−1 when failed).</summary>
    public long TokensToFinish(in TState state)
    {
        _ = this;
        long bytes = state.CompletionLength();
        return bytes < 0 ? -1 : bytes + 1;
    }

    /// <summary>Sets <paramref name="allowed"/>[id] for every token that can come next (clears the rest).</summary>
    /// <returns>The number of allowed tokens (0 only for a failed state).</returns>
    public int FillAllowed(in TState state, Span<bool> allowed) => FillAllowed(state, allowed, int.MaxValue);

    /// <summary>
    /// Sets <paramref name="allowed"/>[id] for every token that can come next such that the stream can still
    /// be finished, EOS included, within <paramref name="tokensLeft"/> tokens (this one counted): a token
    /// is refused when the <see cref="IByteGrammarState.CompletionLength"/> after it, in single-byte tokens,
    /// plus EOS does not fit in what is left. Because that completion continues itself and every byte is a
    /// token (<see cref="CoversEveryByte"/>), a state that fits its budget always leaves an allowed token
    /// that fits the next one: a sample whose start fits its cap always finishes within it.
    /// </summary>
    /// <returns>The number of allowed tokens (0 for a failed state or one that cannot finish in time).</returns>
    public int FillAllowed(in TState state, Span<bool> allowed, int tokensLeft)
    {
        if (allowed.Length < _tokenBytes.Length)
        {
            throw new ArgumentException("mask shorter than the vocabulary", nameof(allowed));
        }

        allowed.Clear();
        int count = 0;
        if (state.IsFailed || tokensLeft <= 0)
        {
            return 0;
        }

        if (state.IsComplete && (uint)EndOfStreamToken < (uint)allowed.Length)
        {
            allowed[EndOfStreamToken] = true;
            count++;
        }

        // After a token, tokensLeft − 1 remain: its completion in bytes plus EOS must fit. Far from the
        // cap (the usual case) no candidate can miss it, and the per-candidate computation is skipped.
        long budget = tokensLeft == int.MaxValue || tokensLeft - 2 >= state.CompletionBound() ? long.MaxValue : tokensLeft - 2L;
        if (budget < 0)
        {
            return count;
        }

        if (_cache == null)
        {
            return count + Walk(0, state, allowed, budget);
        }

        // One table serves every sample of a session; the lock keeps the cache whole should two threads share it.
        lock (_cache)
        {
            TokenMaskCache<TState>.Entry? entry = _cache.Find(state);
            if (entry == null)
            {
                _walkIds.Clear();
                _walkBounds.Clear();
                Collect(0, state);
                entry = new TokenMaskCache<TState>.Entry(_tokenBytes.Length, _walkIds, _walkBounds);
                _cache.Add(state, entry);
            }

            return count + entry.Fill(allowed, budget, state, this);
        }
    }

    /// <summary>Feeds the bytes of <paramref name="token"/> to <paramref name="state"/>; false if one is refused.</summary>
    public bool Advance(ref TState state, int token)
    {
        if (token == EndOfStreamToken)
        {
            return state.IsComplete;
        }

        if ((uint)token >= (uint)_tokenBytes.Length)
        {
            return false;
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

    private int Walk(int node, TState state, Span<bool> allowed, long budget)
    {
        int count = 0;
        for (int c = _firstChild[node]; c >= 0; c = _nextSibling[c])
        {
            TState next = state;
            if (!next.Consume(_label[c]))
            {
                continue;
            }

            // The cheap bound first: only a candidate it cannot clear costs a completion computation.
            if (_tokenAt[c] >= 0 && (budget == long.MaxValue || next.OwnCompletionBound() <= budget || next.CompletionLength() is >= 0 and var rest && rest <= budget))
            {
                for (int id = _tokenAt[c]; id >= 0; id = _nextTokenAtSameNode[id])
                {
                    allowed[id] = true;
                    count++;
                }
            }

            // Longer tokens through this node may still fit: a deeper state can be cheaper to finish.
            count += Walk(c, next, allowed, budget);
        }

        return count;
    }

    // The walk of a cache miss: every token the grammar lets through, with the completion bound after it; the
    // budget is applied by the entry (the same rule as Walk, which stays for tables without a cache).
    private void Collect(int node, TState state)
    {
        for (int c = _firstChild[node]; c >= 0; c = _nextSibling[c])
        {
            TState next = state;
            if (!next.Consume(_label[c]))
            {
                continue;
            }

            if (_tokenAt[c] >= 0)
            {
                long bound = next.OwnCompletionBound();
                for (int id = _tokenAt[c]; id >= 0; id = _nextTokenAtSameNode[id])
                {
                    _walkIds.Add(id);
                    _walkBounds.Add(bound);
                }
            }

            Collect(c, next);
        }
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
