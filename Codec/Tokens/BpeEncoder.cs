namespace JpegLm.Codec.Tokens;

/// <summary>
/// Encodes bytes with a <see cref="BpeVocabulary"/>, exactly as the merges were learned: lower ranks
/// first, all occurrences of a rank (left to right where they overlap). Because a merge's parts are
/// always older tokens, every pair a merge creates has a higher rank than the merge itself, so a bucket
/// queue visited once in rank order replaces the usual heap: O(n + merges) per document. The encoder
/// keeps its scratch buffers between calls (no allocation per token); one instance per thread.
/// </summary>
public sealed class BpeEncoder
{
    private readonly BpeVocabulary _vocabulary;
    private readonly int[] _rank;
    private readonly int[] _left;
    private readonly int[] _right;
    private readonly int[] _head;
    private readonly int _size;
    private readonly bool[] _spans = new bool[65536];
    private const int ShortSegment = 16;
    private int[] _tok = [];
    private int[] _next = [];
    private int[] _prev = [];
    private int[] _entryPos = [];
    private int[] _entryNext = [];
    private int[] _sort = [];

    /// <summary>Creates an encoder for <paramref name="vocabulary"/>.</summary>
    public BpeEncoder(BpeVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        _vocabulary = vocabulary;
        _size = vocabulary.Size;
        _rank = new int[_size * _size];
        Array.Fill(_rank, -1);
        int m = vocabulary.Merges.Count;
        _left = new int[m];
        _right = new int[m];
        _head = new int[m];
        Array.Fill(_head, -1);
        for (int r = 0; r < m; r++)
        {
            ReadOnlySpan<byte> merged = vocabulary.TokenBytes(BpeVocabulary.FirstMerge + r);
            for (int i = 0; i + 1 < merged.Length; i++)
            {
                _spans[(merged[i] << 8) | merged[i + 1]] = true;
            }

            (_left[r], _right[r]) = vocabulary.Merges[r];
            int key = (_left[r] * _size) + _right[r];
            if (_rank[key] < 0)
            {
                _rank[key] = r;
            }
        }
    }

    /// <summary>The vocabulary this encoder applies.</summary>
    public BpeVocabulary Vocabulary => _vocabulary;

    /// <summary>Encodes <paramref name="bytes"/> into <paramref name="tokens"/> (at least as long as the input).</summary>
    /// <returns>The number of tokens written.</returns>
    public int Encode(ReadOnlySpan<byte> bytes, Span<int> tokens)
    {
        int n = bytes.Length;
        if (tokens.Length < n)
        {
            throw new ArgumentException("the token buffer must be at least as long as the input", nameof(tokens));
        }

        // No token contains a byte pair outside _spans, so no merge ever crosses such a boundary and the
        // input splits into independent segments; on JPEG data most segments are single bytes.
        bool[] spans = _spans;
        int o = 0, start = 0;
        for (int i = 0; i < n; i++)
        {
            if (i + 1 < n && spans[(bytes[i] << 8) | bytes[i + 1]])
            {
                continue;
            }

            int length = i + 1 - start;
            if (length == 1)
            {
                tokens[o++] = bytes[i];
            }
            else if (length == 2)
            {
                int r = _rank[(bytes[start] * _size) + bytes[i]];
                if (r >= 0)
                {
                    tokens[o++] = BpeVocabulary.FirstMerge + r;
                }
                else
                {
                    tokens[o++] = bytes[start];
                    tokens[o++] = bytes[i];
                }
            }
            else if (length <= ShortSegment)
            {
                o += EncodeShort(bytes.Slice(start, length), tokens[o..]);
            }
            else
            {
                o += EncodeLinked(bytes.Slice(start, length), tokens[o..]);
            }

            start = i + 1;
        }

        return o;
    }

    /// <summary>
    /// Short segments: repeatedly merge the leftmost occurrence of the lowest-ranked pair, which is the
    /// same as merging all occurrences of each rank left to right.
    /// </summary>
    private int EncodeShort(ReadOnlySpan<byte> bytes, Span<int> tokens)
    {
        Span<int> t = stackalloc int[ShortSegment];
        int n = bytes.Length;
        for (int i = 0; i < n; i++)
        {
            t[i] = bytes[i];
        }

        while (n > 1)
        {
            int best = int.MaxValue, at = -1;
            for (int i = 0; i + 1 < n; i++)
            {
                int r = _rank[(t[i] * _size) + t[i + 1]];
                if (r >= 0 && r < best)
                {
                    best = r;
                    at = i;
                }
            }

            if (at < 0)
            {
                break;
            }

            t[at] = BpeVocabulary.FirstMerge + best;
            for (int i = at + 1; i + 1 < n; i++)
            {
                t[i] = t[i + 1];
            }

            n--;
        }

        t[..n].CopyTo(tokens);
        return n;
    }

    private int EncodeLinked(ReadOnlySpan<byte> bytes, Span<int> tokens)
    {
        int n = bytes.Length;

        Ensure(n);
        int[] tok = _tok, next = _next, prev = _prev, rank = _rank, head = _head, entryPos = _entryPos, entryNext = _entryNext;
        int size = _size, entries = 0, lowest = int.MaxValue;
        for (int i = 0; i < n; i++)
        {
            tok[i] = bytes[i];
            next[i] = i + 1;
            prev[i] = i - 1;
        }

        next[n - 1] = -1;
        for (int i = n - 2; i >= 0; i--)
        {
            // Pushed right to left so that each bucket lists its positions left to right.
            int r = rank[(bytes[i] * size) + bytes[i + 1]];
            if (r >= 0)
            {
                entryPos[entries] = i;
                entryNext[entries] = head[r];
                head[r] = entries++;
                lowest = Math.Min(lowest, r);
            }
        }

        int count = n;
        int merges = _left.Length;
        for (int r = lowest; r < merges; r++)
        {
            int e = head[r];
            if (e < 0)
            {
                continue;
            }

            head[r] = -1;
            int a = _left[r], b = _right[r], id = BpeVocabulary.FirstMerge + r;
            int m = 0;
            if (a == b)
            {
                // Overlapping runs must merge left to right; later pushes may be out of order.
                for (int f = e; f >= 0; f = entryNext[f])
                {
                    if (m == _sort.Length)
                    {
                        Array.Resize(ref _sort, Math.Max(64, m * 2));
                    }

                    _sort[m++] = entryPos[f];
                }

                Array.Sort(_sort, 0, m);
            }

            for (int k = 0; ; k++)
            {
                int p;
                if (a == b)
                {
                    if (k == m)
                    {
                        break;
                    }

                    p = _sort[k];
                }
                else
                {
                    if (e < 0)
                    {
                        break;
                    }

                    p = entryPos[e];
                    e = entryNext[e];
                }

                int q = next[p];
                if (tok[p] != a || q < 0 || tok[q] != b)
                {
                    continue;
                }

                int y = next[q];
                tok[p] = id;
                tok[q] = -1;
                next[p] = y;
                count--;
                if (y >= 0)
                {
                    prev[y] = p;
                    int r3 = rank[(id * size) + tok[y]];
                    if (r3 >= 0)
                    {
                        Push(r3, p, ref entries);
                    }
                }

                int x = prev[p];
                if (x >= 0)
                {
                    int r2 = rank[(tok[x] * size) + id];
                    if (r2 >= 0)
                    {
                        Push(r2, x, ref entries);
                    }
                }
            }
        }

        int o = 0;
        for (int p = 0; p >= 0; p = next[p])
        {
            tokens[o++] = tok[p];
        }

        return o == count ? o : throw new InvalidOperationException("BPE encoder lost track of its tokens");
    }

    /// <summary>Encodes to a new array (convenience; the span overload allocates nothing).</summary>
    public int[] Encode(ReadOnlySpan<byte> bytes)
    {
        var tokens = new int[bytes.Length];
        int n = Encode(bytes, tokens);
        return tokens.AsSpan(0, n).ToArray();
    }

    private void Push(int rank, int position, ref int entries)
    {
        // Capacity 3n suffices: n − 1 initial pairs plus at most two new pairs per merge (≤ n merges).
        _entryPos[entries] = position;
        _entryNext[entries] = _head[rank];
        _head[rank] = entries++;
    }

    private void Ensure(int n)
    {
        if (_tok.Length < n)
        {
            int c = Math.Max(n, _tok.Length * 2);
            _tok = new int[c];
            _next = new int[c];
            _prev = new int[c];
            _entryPos = new int[3 * c];
            _entryNext = new int[3 * c];
        }
    }
}
