namespace JpegLm.Codec.Jpeg;

/// <summary>
/// Tables for the shortest completion of a scan (<see cref="JpegScanState.ShortestCompletion"/>): the
/// fewest bytes that take a state to the end of the stream. Bytes, not bits, because the budget being
/// protected is in tokens and every byte value is a token; so the cost of a bit string depends on where
/// it starts inside a byte and on stuffing: a data byte that comes out FF costs two (FF 00), and so does
/// a padding byte whose data bits were all ones.
/// <para>A position between bits is one of 15 "fill" states: 0 = at a byte boundary, otherwise (p, f)
/// with p = 1..7 bits of the current byte written and f = whether they are all ones. Everything after a
/// block boundary is a min-plus product of 15×15 matrices: per block the cheapest way from each fill
/// state to each fill state (a DAG over the coefficient index k, and whether a ZRL came last), per MCU
/// their product, per interval a power of that, then the padding and marker. Magnitude bits are free
/// choices, and zeros are never worse than ones (they only make an FF byte less likely), so a symbol's
/// cost is its code followed by zeros; with that, every table here is exact, not a bound.</para>
/// Built once per grammar, on first use (only sampling needs it).
/// </summary>
internal sealed class JpegScanCompletion
{
    /// <summary>Unreachable.</summary>
    public const int Inf = int.MaxValue / 4;

    /// <summary>Fill states: at a byte boundary, or p = 1..7 bits written, all ones or not.</summary>
    public const int Fills = 15;

    private const int FillMatrix = Fills * Fills;
    private const int TableLimit = 1 << 22; // ints of precomputed tails; larger intervals use matrix powers

    private readonly JpegScanGrammar _g;
    private readonly Dictionary<JpegScanGrammar.HuffmanTree, TreeTables> _trees = [];
    private readonly int[][] _suffix; // _suffix[j]: blocks j..B-1 of an MCU, 15×15; _suffix[B] = identity
    private readonly int[][] _powers; // MCU matrix to the 2^t
    private readonly int[] _endMid;
    private readonly int[] _endLast;
    private readonly int[]? _tailMid; // [(j * (L + 1) + m) * 15 + fill]
    private readonly int[]? _tailLast;
    private readonly long _fullMid;
    private readonly long _fullLast;
    private readonly int _maxTail;

    public JpegScanCompletion(JpegScanGrammar grammar)
    {
        _g = grammar;
        int blocks = grammar.BlocksPerMcu;
        var blockMatrix = new int[blocks][];
        for (int j = 0; j < blocks; j++)
        {
            TreeTables ac = Tables(grammar.BlockAc[j]);
            TreeTables dc = Tables(grammar.BlockDc[j]);
            blockMatrix[j] = dc.BlockMatrix(ac);
        }

        _suffix = new int[blocks + 1][];
        _suffix[blocks] = Identity();
        for (int j = blocks - 1; j >= 0; j--)
        {
            _suffix[j] = Multiply(blockMatrix[j], _suffix[j + 1]);
        }

        _powers = new int[23][];
        _powers[0] = _suffix[0];
        for (int t = 1; t < _powers.Length; t++)
        {
            _powers[t] = Multiply(_powers[t - 1], _powers[t - 1]);
        }

        _endMid = new int[Fills];
        _endLast = new int[Fills];
        for (int f = 0; f < Fills; f++)
        {
            int pad = f == 0 ? 0 : AllOnes(f) ? 2 : 1; // a padded byte of all ones is FF and needs its stuffed 00
            _endMid[f] = pad + 2;
            _endLast[f] = pad + (grammar.EndsWithEoi ? 2 : 0);
        }

        int length = grammar.IntervalLength;
        if ((long)(blocks + 1) * (length + 1) * Fills <= TableLimit)
        {
            _tailMid = Tails(length, _endMid);
            _tailLast = Tails(grammar.McusIn(grammar.IntervalCount - 1), _endLast);
        }

        _fullMid = FromIntervalStart(0, last: false);
        _fullLast = FromIntervalStart(grammar.IntervalCount - 1, last: true);
        _maxTail = _tailMid == null || _tailLast == null ? Inf : Math.Max(MaxFinite(_tailMid), MaxFinite(_tailLast));
    }

    /// <summary>Whether fill state <paramref name="fill"/> has its bits all ones (false at a byte boundary).</summary>
    public static bool AllOnes(int fill) => fill != 0 && ((fill + 1) & 1) == 1;

    /// <summary>Writes one bit: the new fill state, and how many bytes that completes (0, 1, or 2 for FF 00).</summary>
    public static int AppendBit(int fill, int bit, out int bytes)
    {
        int p = (fill + 1) >> 1;
        bool ones = fill == 0 || AllOnes(fill);
        ones &= bit == 1;
        p++;
        if (p == 8)
        {
            bytes = ones ? 2 : 1;
            return 0;
        }

        bytes = 0;
        return (2 * p) - 1 + (ones ? 1 : 0);
    }

    /// <summary>Writes <paramref name="length"/> bits (most significant first): the new fill state, adding the bytes completed.</summary>
    public static int AppendBits(int fill, int bits, int length, ref int bytes)
    {
        for (int i = length - 1; i >= 0; i--)
        {
            fill = AppendBit(fill, (bits >> i) & 1, out int b);
            bytes += b;
        }

        return fill;
    }

    /// <summary>
    /// A bound on <see cref="JpegScanState.ShortestCompletion"/> of every state in interval
    /// <paramref name="interval"/> or later (the header excluded), so that a sampler with more tokens left
    /// than this need not compute it per candidate. Finishing the block a state is in takes at most 69 bits:
    /// the rest of a code (≤ 16) and its magnitude (≤ 11), then, after a ZRL, a coefficient (≤ 16 + 10), then
    /// EOB (≤ 16), i.e. at most 8 whole bytes, each at most 2 with stuffing; the block boundary is then
    /// no worse than the largest tail; stuffing and a marker still due add at most 3.
    /// </summary>
    public long UpperBound(int interval) => _maxTail >= Inf ? long.MaxValue : 16 + 3 + _maxTail + Later(interval);

    /// <summary>Bytes of whole intervals after <paramref name="interval"/>, their markers included.</summary>
    public long Later(int interval)
    {
        int n = _g.IntervalCount;
        return interval >= n - 1 ? 0 : ((n - 2 - interval) * _fullMid) + _fullLast;
    }

    /// <summary>Bytes from a byte boundary at the start of <paramref name="interval"/> to the end of the stream.</summary>
    public long ToEnd(int interval) => FromIntervalStart(interval, interval == _g.IntervalCount - 1) + Later(interval);

    // Bytes of one interval from a byte boundary at its start, its padding and marker included.
    private int FromIntervalStart(int interval, bool last)
    {
        Span<int> tail = stackalloc int[Fills];
        Tail(0, _g.McusIn(interval) - 1, last, tail);
        return tail[0];
    }

    /// <summary>
    /// Cost from each fill state at the boundary before block <paramref name="nextBlock"/> (B = the MCU's
    /// end) when <paramref name="mcusAfter"/> whole MCUs follow in the interval, to the interval's end with
    /// its padding and marker.
    /// </summary>
    public void Tail(int nextBlock, int mcusAfter, bool last, Span<int> into)
    {
        int[]? table = last ? _tailLast : _tailMid;
        int length = last ? _g.McusIn(_g.IntervalCount - 1) : _g.IntervalLength;
        if (table != null)
        {
            table.AsSpan(((nextBlock * (length + 1)) + mcusAfter) * Fills, Fills).CopyTo(into);
            return;
        }

        // Only grammars with huge intervals get here: M^m · end by binary powers, then the MCU's remaining blocks.
        Span<int> v = stackalloc int[Fills];
        Span<int> w = stackalloc int[Fills];
        (last ? _endLast : _endMid).CopyTo(v);
        for (int t = 0; mcusAfter >> t != 0; t++)
        {
            if (((mcusAfter >> t) & 1) != 0)
            {
                Apply(_powers[t], v, w);
                w.CopyTo(v);
            }
        }

        Apply(_suffix[nextBlock], v, into);
    }

    /// <summary>The per-symbol and per-node tables of a Huffman tree.</summary>
    public TreeTables Tables(JpegScanGrammar.HuffmanTree tree)
    {
        if (!_trees.TryGetValue(tree, out TreeTables? t))
        {
            t = new TreeTables(tree);
            _trees[tree] = t;
        }

        return t;
    }

    /// <summary>out = m · v in min-plus (m is 15×15, row = from).</summary>
    public static void Apply(int[] m, ReadOnlySpan<int> v, Span<int> into)
    {
        for (int a = 0; a < Fills; a++)
        {
            int best = Inf;
            for (int b = 0; b < Fills; b++)
            {
                best = Math.Min(best, m[(a * Fills) + b] + v[b]);
            }

            into[a] = Math.Min(best, Inf);
        }
    }

    private static int MaxFinite(int[] values)
    {
        int max = 0;
        foreach (int v in values)
        {
            if (v < Inf)
            {
                max = Math.Max(max, v);
            }
        }

        return max;
    }

    private int[] Tails(int length, int[] end)
    {
        int blocks = _g.BlocksPerMcu;
        var table = new int[(blocks + 1) * (length + 1) * Fills];
        var r = (int[])end.Clone();
        var next = new int[Fills];
        for (int m = 0; m <= length; m++)
        {
            for (int j = 0; j <= blocks; j++)
            {
                Apply(_suffix[j], r, table.AsSpan(((j * (length + 1)) + m) * Fills, Fills));
            }

            Apply(_suffix[0], r, next);
            (r, next) = (next, r);
        }

        return table;
    }

    private static int[] Identity()
    {
        var m = new int[FillMatrix];
        Array.Fill(m, Inf);
        for (int a = 0; a < Fills; a++)
        {
            m[(a * Fills) + a] = 0;
        }

        return m;
    }

    // x · y in min-plus: [a, c] = min over b of x[a, b] + y[b, c].
    private static int[] Multiply(int[] x, int[] y)
    {
        var m = new int[FillMatrix];
        for (int a = 0; a < Fills; a++)
        {
            for (int c = 0; c < Fills; c++)
            {
                int best = Inf;
                for (int b = 0; b < Fills; b++)
                {
                    best = Math.Min(best, x[(a * Fills) + b] + y[(b * Fills) + c]);
                }

                m[(a * Fills) + c] = best;
            }
        }

        return m;
    }

    /// <summary>
    /// One Huffman tree's tables: each symbol's cost (code then zero magnitude bits) from each fill state,
    /// the leaves below each prefix with the code bits still to come, and for AC trees the matrices
    /// A[k, z] from each fill state at the symbol boundary before coefficient k (z: a ZRL came last) to each
    /// fill state at the block's end.
    /// </summary>
    internal sealed class TreeTables
    {
        private readonly JpegScanGrammar.HuffmanTree _tree;
        private readonly List<int> _leafSymbol = [];
        private readonly List<int> _leafBits = [];
        private readonly List<int> _leafLength = [];
        private readonly int[] _leavesFrom; // per node: range into the leaf lists
        private readonly int[] _leavesTo;
        private readonly int[]? _blockEnd; // AC only: [(k * 2 + z) * 225 + from * 15 + to]

        public TreeTables(JpegScanGrammar.HuffmanTree tree)
        {
            _tree = tree;
            int nodes = tree.Need.Length;
            _leavesFrom = new int[nodes];
            _leavesTo = new int[nodes];
            for (int n = 0; n < nodes; n++)
            {
                _leavesFrom[n] = _leafSymbol.Count;
                CollectLeaves(n, 0, 0);
                _leavesTo[n] = _leafSymbol.Count;
            }

            if (tree.IsAc)
            {
                _blockEnd = new int[64 * 2 * FillMatrix];
                Array.Fill(_blockEnd, Inf);
                for (int k = 63; k >= 1; k--)
                {
                    for (int z = 0; z < 2; z++)
                    {
                        FillBlockEnd(k, z == 1);
                    }
                }
            }
        }

        /// <summary>Bytes from fill state <paramref name="from"/> before coefficient k to fill state <paramref name="to"/> at the block's end.</summary>
        public int BlockEnd(int k, bool afterZrl, int from, int to) => _blockEnd![(((k * 2) + (afterZrl ? 1 : 0)) * FillMatrix) + (from * Fills) + to];

        /// <summary>min over to of BlockEnd(k, z, from, to) + tail[to].</summary>
        public int BlockEndThen(int k, bool afterZrl, int from, ReadOnlySpan<int> tail)
        {
            int at = (((k * 2) + (afterZrl ? 1 : 0)) * FillMatrix) + (from * Fills);
            int best = Inf;
            for (int to = 0; to < Fills; to++)
            {
                best = Math.Min(best, _blockEnd![at + to] + tail[to]);
            }

            return Math.Min(best, Inf);
        }

        /// <summary>DC tree: the whole block's matrix, its DC symbol then the AC tree <paramref name="ac"/> from k = 1.</summary>
        public int[] BlockMatrix(TreeTables ac)
        {
            var m = new int[FillMatrix];
            Array.Fill(m, Inf);
            for (int from = 0; from < Fills; from++)
            {
                for (int i = _leavesFrom[0]; i < _leavesTo[0]; i++)
                {
                    int symbol = _leafSymbol[i];
                    if (_tree.SymbolNeed(symbol, false) != 0)
                    {
                        continue;
                    }

                    int bytes = 0;
                    int fill = AppendBits(from, _leafBits[i], _leafLength[i], ref bytes);
                    fill = AppendBits(fill, 0, symbol, ref bytes);
                    for (int to = 0; to < Fills; to++)
                    {
                        m[(from * Fills) + to] = Math.Min(m[(from * Fills) + to], bytes + ac.BlockEnd(1, false, fill, to));
                    }
                }
            }

            return m;
        }

        /// <summary>
        /// Bytes from a byte boundary inside a code (at <paramref name="node"/>, coefficient <paramref name="k"/>)
        /// to the end of the stream, given the cost <paramref name="tail"/> from each fill state at the block's end.
        /// </summary>
        public int FromNode(int node, int k, bool afterZrl, TreeTables ac, ReadOnlySpan<int> tail)
        {
            int best = Inf;
            for (int i = _leavesFrom[node]; i < _leavesTo[node]; i++)
            {
                int symbol = _leafSymbol[i];
                int need = _tree.SymbolNeed(symbol, afterZrl);
                if (need + k > 63)
                {
                    continue;
                }

                int bytes = 0;
                int fill = AppendBits(0, _leafBits[i], _leafLength[i], ref bytes);
                best = Math.Min(best, bytes + AfterSymbol(symbol, k, fill, ac, tail));
            }

            return Math.Min(best, Inf);
        }

        /// <summary>Bytes from just after the code of <paramref name="symbol"/> (at fill state <paramref name="fill"/>) to the end.</summary>
        private int AfterSymbol(int symbol, int k, int fill, TreeTables ac, ReadOnlySpan<int> tail)
        {
            int bytes = 0;
            if (!_tree.IsAc)
            {
                fill = AppendBits(fill, 0, symbol, ref bytes);
                return bytes + ac.BlockEndThen(1, false, fill, tail);
            }

            if (symbol == 0)
            {
                return tail[fill];
            }

            if (symbol == 0xF0)
            {
                return BlockEndThen(k + 16, true, fill, tail);
            }

            fill = AppendBits(fill, 0, symbol & 15, ref bytes);
            int next = k + (symbol >> 4) + 1;
            return bytes + (next >= 64 ? tail[fill] : BlockEndThen(next, false, fill, tail));
        }

        private void FillBlockEnd(int k, bool afterZrl)
        {
            int at = ((k * 2) + (afterZrl ? 1 : 0)) * FillMatrix;
            for (int i = _leavesFrom[0]; i < _leavesTo[0]; i++)
            {
                int symbol = _leafSymbol[i];
                int need = _tree.SymbolNeed(symbol, afterZrl);
                if (need + k > 63)
                {
                    continue;
                }

                int size = symbol & 15, next = symbol == 0xF0 ? k + 16 : k + (symbol >> 4) + 1;
                bool endsBlock = symbol == 0 || next >= 64;
                for (int from = 0; from < Fills; from++)
                {
                    int bytes = 0;
                    int fill = AppendBits(from, _leafBits[i], _leafLength[i], ref bytes);
                    fill = AppendBits(fill, 0, size, ref bytes);
                    int row = at + (from * Fills);
                    if (endsBlock)
                    {
                        _blockEnd![row + fill] = Math.Min(_blockEnd[row + fill], bytes);
                        continue;
                    }

                    int src = (((next * 2) + (symbol == 0xF0 ? 1 : 0)) * FillMatrix) + (fill * Fills);
                    for (int to = 0; to < Fills; to++)
                    {
                        _blockEnd![row + to] = Math.Min(_blockEnd[row + to], bytes + _blockEnd[src + to]);
                    }
                }
            }
        }

        // Leaves below `node` with the code bits from there on.
        private void CollectLeaves(int node, int bits, int length)
        {
            for (int bit = 0; bit < 2; bit++)
            {
                int c = _tree.Child[(2 * node) + bit];
                if (c >= 0)
                {
                    CollectLeaves(c, (bits << 1) | bit, length + 1);
                }
                else if (c != JpegScanGrammar.Dead)
                {
                    _leafSymbol.Add(-c - 1);
                    _leafBits.Add((bits << 1) | bit);
                    _leafLength.Add(length + 1);
                }
            }
        }
    }
}
