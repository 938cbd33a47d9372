using JpegLm.Codec.Bitstream;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// The immutable part of the scan grammar, shared by every <see cref="JpegScanState"/>: one binary
/// tree per Huffman table with, for each prefix, whether a valid symbol can still follow; the blocks of
/// one MCU; the MCU and restart-interval counts; and how the stream is framed (a fixed header that must
/// come first, and whether the stream ends with EOI or just after the last interval's padding).
/// </summary>
public sealed class JpegScanGrammar
{
    /// <summary>Child value of a bit that no code continues with.</summary>
    internal const int Dead = CodeTrie.Dead;

    /// <summary>
    /// The most MCUs a checked scan may have (2^22, e.g. 32768x32768 at 4:2:0): per-patch results are
    /// allocated up front, so a forged frame header must not make a tiny file cost gigabytes.
    /// </summary>
    public const int MaxMcuCount = 1 << 22;

    /// <summary>"Need" of a prefix below which no symbol is valid anywhere.</summary>
    internal const int Never = 1000;

    private JpegScanCompletion? _completion;

    private JpegScanGrammar(HuffmanTree[] dc, HuffmanTree[] ac, int mcuCount, int restartInterval, byte[] header, bool endsWithEoi)
    {
        BlockDc = dc;
        BlockAc = ac;
        McuCount = mcuCount;
        IntervalLength = restartInterval > 0 ? restartInterval : mcuCount;
        IntervalCount = (mcuCount + IntervalLength - 1) / IntervalLength;
        Header = header;
        EndsWithEoi = endsWithEoi;
    }

    /// <summary>The DC tree of each block of an MCU, in coding order.</summary>
    internal HuffmanTree[] BlockDc { get; }

    /// <summary>The AC tree of each block of an MCU, in coding order.</summary>
    internal HuffmanTree[] BlockAc { get; }

    /// <summary>Blocks per MCU.</summary>
    public int BlocksPerMcu => BlockDc.Length;

    /// <summary>MCUs in the scan.</summary>
    public int McuCount { get; }

    /// <summary>MCUs per restart interval (the whole scan when the stream has no DRI).</summary>
    public int IntervalLength { get; }

    /// <summary>Restart intervals in the scan: the patches the checker reports on.</summary>
    public int IntervalCount { get; }

    /// <summary>Bytes that must precede the entropy-coded data (empty when checking from the scan's start).</summary>
    public byte[] Header { get; }

    /// <summary>True when the stream ends with FF D9; false for token streams, which end after the last interval.</summary>
    public bool EndsWithEoi { get; }

    /// <summary>The shortest-completion tables, built on first use (only sampling asks for them).</summary>
    internal JpegScanCompletion Completion => LazyInitializer.EnsureInitialized(ref _completion, () => new JpegScanCompletion(this));

    /// <summary>MCUs in interval <paramref name="interval"/> (the last one may be short).</summary>
    public int McusIn(int interval) => Math.Min(IntervalLength, McuCount - (interval * IntervalLength));

    /// <summary>
    /// Builds the grammar of a baseline sequential scan.
    /// </summary>
    /// <param name="width">Frame width.</param>
    /// <param name="height">Frame height.</param>
    /// <param name="scanComponents">The scan's components in order (one: non-interleaved).</param>
    /// <param name="restartInterval">MCUs per interval; 0 when there is no DRI.</param>
    /// <param name="tables">Huffman tables; later entries replace earlier ones with the same class and id.</param>
    /// <param name="header">Bytes the stream must start with (a token stream with kept headers), or empty.</param>
    /// <param name="endsWithEoi">Whether FF D9 closes the stream.</param>
    /// <exception cref="JpegFormatException">A referenced table is missing or unusable.</exception>
    public static JpegScanGrammar Create(int width, int height, IReadOnlyList<JpegComponentSpec> scanComponents,
        int restartInterval, IEnumerable<JpegHuffmanTableSpec> tables, byte[]? header = null, bool endsWithEoi = true)
    {
        ArgumentNullException.ThrowIfNull(scanComponents);
        ArgumentNullException.ThrowIfNull(tables);
        if (scanComponents.Count is 0 or > 4 || width < 1 || height < 1)
        {
            throw new JpegFormatException("a scan needs 1..4 components and a non-empty frame", 0);
        }

        var trees = new HuffmanTree?[2, 4];
        foreach (JpegHuffmanTableSpec t in tables)
        {
            trees[t.TableClass, t.Id] = HuffmanTree.Build(t);
        }

        int hMax = scanComponents.Max(c => c.H), vMax = scanComponents.Max(c => c.V);
        var dc = new List<HuffmanTree>();
        var ac = new List<HuffmanTree>();
        int mcus;
        if (scanComponents.Count == 1)
        {
            // A non-interleaved scan codes one block per MCU over the component's own grid (A.2.2).
            mcus = ((width + 7) / 8) * ((height + 7) / 8);
        }
        else
        {
            mcus = ((width + (8 * hMax) - 1) / (8 * hMax)) * ((height + (8 * vMax) - 1) / (8 * vMax));
        }

        if ((long)mcus > MaxMcuCount)
        {
            throw new JpegFormatException($"{mcus} MCUs: larger than the checker's limit of {MaxMcuCount}", 0);
        }

        foreach (JpegComponentSpec c in scanComponents)
        {
            HuffmanTree d = trees[0, c.DcTable] ?? throw new JpegFormatException($"DC Huffman table {c.DcTable} is not defined", 0);
            HuffmanTree a = trees[1, c.AcTable] ?? throw new JpegFormatException($"AC Huffman table {c.AcTable} is not defined", 0);
            int blocks = scanComponents.Count == 1 ? 1 : c.H * c.V;
            for (int i = 0; i < blocks; i++)
            {
                dc.Add(d);
                ac.Add(a);
            }
        }

        return new JpegScanGrammar([.. dc], [.. ac], mcus, restartInterval, header ?? [], endsWithEoi);
    }

    /// <summary>Builds the grammar of a whole file's scan from its parsed headers.</summary>
    /// <param name="headers">The file's markers.</param>
    /// <param name="defaultTables">Tables to use where the file defines none (image-only streams), before the file's own.</param>
    public static JpegScanGrammar Create(JpegStreamHeaders headers, IEnumerable<JpegHuffmanTableSpec> defaultTables)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (headers.ScanDataOffset < 0)
        {
            throw new JpegFormatException("the stream has no scan", 0);
        }

        return Create(headers.Width, headers.Height, headers.ScanComponents, headers.RestartInterval,
            defaultTables.Concat(headers.HuffmanTables));
    }

    /// <summary>The Annex K tables (K.3–K.6), which decoders assume when a stream carries none.</summary>
    public static IReadOnlyList<JpegHuffmanTableSpec> AnnexKTables { get; } =
    [
        new(0, 0, JpegTables.LuminanceDcBits.ToArray(), JpegTables.LuminanceDcValues.ToArray()),
        new(1, 0, JpegTables.LuminanceAcBits.ToArray(), JpegTables.LuminanceAcValues.ToArray()),
        new(0, 1, JpegTables.ChrominanceDcBits.ToArray(), JpegTables.ChrominanceDcValues.ToArray()),
        new(1, 1, JpegTables.ChrominanceAcBits.ToArray(), JpegTables.ChrominanceAcValues.ToArray()),
    ];

    /// <summary>
    /// A Huffman table as a binary tree over code bits, with each node's "need": the smallest number of
    /// coefficient positions a valid symbol below it consumes beyond the current one, or <see cref="Never"/>.
    /// EOB and any valid DC category need 0; an AC coefficient needs its run R; a ZRL needs 16 plus the
    /// table's smallest coefficient run, because T.81 codes the zeros before a block's end with EOB, so a
    /// ZRL must be followed, inside the block, by the non-zero coefficient it leads up to (F.1.2.2.1, the
    /// encoder of figure F.2). Right after a ZRL the block may not end, so EOB is never valid there: each
    /// node has a second need for that position. At coefficient k a prefix can still become valid iff
    /// k + need ≤ 63, which makes the incremental state exact: a prefix is accepted iff some continuation
    /// completes a valid symbol.
    /// </summary>
    internal sealed class HuffmanTree
    {
        private HuffmanTree(int[] child, int[] need, int[] needAfterZrl, int[] needLoose, bool[] hasLeaf, bool isAc, int minCoefficientRun)
        {
            Child = child;
            Need = need;
            NeedAfterZrl = needAfterZrl;
            NeedLoose = needLoose;
            HasLeaf = hasLeaf;
            IsAc = isAc;
            MinCoefficientRun = minCoefficientRun;
        }

        /// <summary>Child[2·node + bit]: ≥ 0 an inner node; −(symbol + 1) a leaf; <see cref="Dead"/> no code.</summary>
        public int[] Child { get; }

        /// <summary>Need of each inner node at a position that may end the block (see the class summary).</summary>
        public int[] Need { get; }

        /// <summary>Need of each inner node right after a ZRL, where EOB is not valid.</summary>
        public int[] NeedAfterZrl { get; }

        /// <summary>Need of each inner node with the ZRL rule left out (ZRL needs 15, EOB 0 everywhere): only to name errors.</summary>
        public int[] NeedLoose { get; }

        /// <summary>Whether any code (valid symbol or not) lies below each inner node.</summary>
        public bool[] HasLeaf { get; }

        /// <summary>True for an AC table.</summary>
        public bool IsAc { get; }

        /// <summary>The smallest run of an AC coefficient symbol (size 1..10) in the table, or <see cref="Never"/>.</summary>
        public int MinCoefficientRun { get; }

        /// <summary>
        /// Positions consumed beyond the current one by a symbol, or <see cref="Never"/> if it is never valid
        /// there: <paramref name="afterZrl"/> says whether the previous symbol of the block was a ZRL.
        /// </summary>
        public int SymbolNeed(int symbol, bool afterZrl) => SymbolNeed(symbol, IsAc, MinCoefficientRun, afterZrl);

        /// <summary>Why a symbol that is not valid at coefficient <paramref name="k"/> is refused.</summary>
        public JpegScanError SymbolError(int symbol, int k, bool afterZrl)
        {
            if (!IsAc)
            {
                return JpegScanError.DcCategoryTooLarge;
            }

            int loose = SymbolNeed(symbol, true, 0, false, loose: true);
            return loose == Never ? JpegScanError.InvalidAcSymbol
                : k + loose > 63 ? JpegScanError.RunPastEndOfBlock
                : JpegScanError.ZeroRunWithoutCoefficient;
        }

        /// <summary>Why a code prefix below which nothing is valid at coefficient <paramref name="k"/> is refused.</summary>
        public JpegScanError PrefixError(int node, int k)
            => !HasLeaf[node] ? JpegScanError.InvalidHuffmanCode
                : NeedLoose[node] == Never ? (IsAc ? JpegScanError.InvalidAcSymbol : JpegScanError.DcCategoryTooLarge)
                : k + NeedLoose[node] > 63 ? JpegScanError.RunPastEndOfBlock
                : JpegScanError.ZeroRunWithoutCoefficient;

        private static int SymbolNeed(int symbol, bool isAc, int minCoefficientRun, bool afterZrl, bool loose = false)
        {
            if (!isAc)
            {
                return symbol <= 11 ? 0 : Never; // DC categories 0..11 (F.1.2.1, 8-bit precision)
            }

            int run = symbol >> 4, size = symbol & 15;
            if (size == 0)
            {
                return run switch
                {
                    0 => afterZrl && !loose ? Never : 0, // EOB: not where a ZRL promised a coefficient
                    15 => loose ? 15 : minCoefficientRun == Never ? Never : 16 + minCoefficientRun, // ZRL
                    _ => Never, // undefined (F.1.2.2)
                };
            }

            return size <= 10 ? run : Never;
        }

        public static HuffmanTree Build(JpegHuffmanTableSpec spec)
        {
            List<int> child = CodeTrie.Empty();
            var symbols = new List<int>();
            int code = 0, v = 0;
            for (int length = 1; length <= 16; length++)
            {
                for (int i = 0; i < spec.Bits[length - 1]; i++)
                {
                    // Canonical code assignment (C.2); the all-ones code of a length is reserved (K.2) so
                    // that the 1-bit padding of B.1.1.5 can never complete a code.
                    if (code >= (1 << length) - 1)
                    {
                        throw new JpegFormatException($"Huffman table {(spec.TableClass == 0 ? "DC" : "AC")}{spec.Id} overflows or uses an all-ones code", 0);
                    }

                    symbols.Add(spec.Values[v]);
                    CodeTrie.Insert(child, code, length, spec.Values[v++]);
                    code++;
                }

                code <<= 1;
            }

            bool isAc = spec.TableClass == 1;
            int minRun = Never;
            foreach (int s in symbols)
            {
                if (isAc && (s & 15) is >= 1 and <= 10)
                {
                    minRun = Math.Min(minRun, s >> 4);
                }
            }

            int nodes = child.Count / 2;
            var need = new int[nodes];
            var needAfterZrl = new int[nodes];
            var needLoose = new int[nodes];
            var hasLeaf = new bool[nodes];
            for (int n = nodes - 1; n >= 0; n--)
            {
                // Children always have larger indices than their parent, so one reverse pass suffices.
                need[n] = needAfterZrl[n] = needLoose[n] = Never;
                for (int bit = 0; bit < 2; bit++)
                {
                    int c = child[(2 * n) + bit];
                    if (c >= 0)
                    {
                        need[n] = Math.Min(need[n], need[c]);
                        needAfterZrl[n] = Math.Min(needAfterZrl[n], needAfterZrl[c]);
                        needLoose[n] = Math.Min(needLoose[n], needLoose[c]);
                        hasLeaf[n] |= hasLeaf[c];
                    }
                    else if (c != Dead)
                    {
                        need[n] = Math.Min(need[n], SymbolNeed(-c - 1, isAc, minRun, false));
                        needAfterZrl[n] = Math.Min(needAfterZrl[n], SymbolNeed(-c - 1, isAc, minRun, true));
                        needLoose[n] = Math.Min(needLoose[n], SymbolNeed(-c - 1, isAc, minRun, false, loose: true));
                        hasLeaf[n] = true;
                    }
                }
            }

            if (need[0] != 0)
            {
                throw new JpegFormatException($"Huffman table {(isAc ? "AC" : "DC")}{spec.Id} cannot end a block (no EOB / no valid DC category)", 0);
            }

            return new HuffmanTree([.. child], need, needAfterZrl, needLoose, hasLeaf, isAc, minRun);
        }
    }
}
