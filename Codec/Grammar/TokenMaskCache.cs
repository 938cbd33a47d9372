using System.Numerics;

namespace JpegLm.Codec.Grammar;

/// <summary>
/// The allowed tokens of grammar states already seen, keyed on the state itself (its <see cref="IEquatable{T}"/>
/// equality, which compares every field), for <see cref="GrammarTokenConstraint{TState}"/>. Samples of one batch,
/// and one sample from patch to patch, meet the same few states at token boundaries again and again, so each
/// state's trie walk is done once. An entry keeps every token the grammar lets through (as a bit set, and as a
/// list with each token's <see cref="IByteGrammarState.CompletionBound"/> after it), so the budget rule is applied
/// at lookup: a budget that clears every candidate's bound copies the bit set; a tighter one checks the bounds
/// and computes a candidate's <see cref="IByteGrammarState.CompletionLength"/> only when its bound does not clear,
/// once, kept for later lookups. Bounded: when an entry would pass <see cref="MaxEntries"/> entries or
/// <see cref="MaxCandidates"/> candidates in all, the cache is emptied and fills again with the states in use.
/// Not thread-safe on its own; the constraint locks around it.
/// </summary>
/// <typeparam name="TState">The grammar state.</typeparam>
internal sealed class TokenMaskCache<TState>
    where TState : struct, IByteGrammarState, IEquatable<TState>
{
    /// <summary>Most states kept.</summary>
    public const int MaxEntries = 1 << 14;

    /// <summary>Most candidate tokens kept over all entries (20 bytes each: id, bound, completion).</summary>
    public const int MaxCandidates = 1 << 20;

    private const long Unknown = long.MinValue;


    private readonly Dictionary<TState, Entry> _entries = [];
    private int _candidates;

    /// <summary>Lookups answered from the cache.</summary>
    public long Hits { get; private set; }

    /// <summary>Lookups that had to walk the trie.</summary>
    public long Misses { get; private set; }

    /// <summary>The entry of <paramref name="state"/>, or null (counted as a miss) when it has none yet.</summary>
    public Entry? Find(in TState state)
    {
        if (_entries.TryGetValue(state, out Entry? entry))
        {
            Hits++;
            return entry;
        }

        Misses++;
        return null;
    }

    /// <summary>Keeps <paramref name="entry"/> for <paramref name="state"/>, first emptying the cache if it would outgrow its bounds.</summary>
    public void Add(in TState state, Entry entry)
    {
        if (_entries.Count >= MaxEntries || _candidates + entry.Count > MaxCandidates)
        {
            _entries.Clear();
            _candidates = 0;
        }

        _entries.Add(state, entry);
        _candidates += entry.Count;
    }

    /// <summary>The grammatical next tokens of one state (EOS is the constraint's business, not kept here).</summary>
    internal sealed class Entry
    {
        private readonly ulong[] _bits;
        private readonly int[] _ids;
        private readonly long[] _bounds;
        private readonly long[] _lengths;
        private readonly long _maxBound;

        /// <summary>Takes the candidates in the order found, with the completion bound after each.</summary>
        public Entry(int vocabularySize, List<int> ids, List<long> bounds)
        {
            _bits = new ulong[(vocabularySize + 63) / 64];
            _ids = [.. ids];
            _bounds = [.. bounds];
            _lengths = new long[_ids.Length];
            Array.Fill(_lengths, Unknown);
            foreach (int id in _ids)
            {
                _bits[id >> 6] |= 1UL << id;
            }

            _maxBound = _bounds.Length == 0 ? 0 : _bounds.Max();
        }

        /// <summary>Number of candidates.</summary>
        public int Count => _ids.Length;

        /// <summary>
        /// Sets <paramref name="allowed"/>[id] for each candidate after which the stream can be finished within
        /// <paramref name="budget"/> bytes (<see cref="long.MaxValue"/>: all), the same rule as the trie walk:
        /// its bound clears the budget, or its completion length does. A length not yet known is computed from
        /// <paramref name="state"/> (the entry's key) advanced by <paramref name="tokens"/>. The span must be
        /// cleared; returns how many were set.
        /// </summary>
        public int Fill(Span<bool> allowed, long budget, in TState state, GrammarTokenConstraint<TState> tokens)
        {
            if (budget >= _maxBound)
            {
                // Every candidate fits: one pass over the set bits.
                for (int w = 0; w < _bits.Length; w++)
                {
                    for (ulong word = _bits[w]; word != 0; word &= word - 1)
                    {
                        allowed[(w << 6) | BitOperations.TrailingZeroCount(word)] = true;
                    }
                }

                return _ids.Length;
            }

            int count = 0;
            for (int i = 0; i < _ids.Length; i++)
            {
                if (_bounds[i] > budget)
                {
                    if (_lengths[i] == Unknown)
                    {
                        TState next = state;
                        _lengths[i] = tokens.Advance(ref next, _ids[i]) ? next.CompletionLength() : -1;
                    }

                    if (_lengths[i] < 0 || _lengths[i] > budget)
                    {
                        continue;
                    }
                }

                allowed[_ids[i]] = true;
                count++;
            }

            return count;
        }
    }
}
