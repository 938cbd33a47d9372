namespace JpegLm.Codec.Jpeg;

/// <summary>
/// The <c>jpeg-scan-v1</c> structure annotation: after each token, where the scan parser stands, as three
/// categorical fields a model can embed (see <c>LlamaConfig.Structure</c>). A byte-level model otherwise has to
/// re-derive the Huffman parse from the bytes to know which coefficient its next bits code; these fields hand it
/// that position, computed by the same incremental <see cref="JpegScanState"/> that constrains sampling, so
/// training and sampling see identical annotations.
/// <list type="number">
/// <item><b>patch</b>: the restart interval being read (0 .. intervals − 1).</item>
/// <item><b>slot</b>: the block of the MCU and the zig-zag coefficient the next symbol codes
/// (<c>block · 64 + k</c>; k = 0 is the DC difference), or one of six states outside a block: padding before a
/// marker, expecting a marker, expecting a marker code, complete, inside the constant header, failed.</item>
/// <item><b>partial</b>: what the token left unfinished: nothing (a symbol boundary), 1..16 magnitude bits still
/// to come, or a node of the Huffman code being read (each distinct table's nodes numbered apart); doubled when
/// the last byte was an FF that needs its stuffed 00.</item>
/// </list>
/// Ids are offset so the three fields index one stacked table: field f's ids start at the sum of the sizes before it.
/// </summary>
public sealed class JpegScanStructure
{
    /// <summary>The scheme's name as written in a model's config.</summary>
    public const string Name = "jpeg-scan-v1";

    private const int OutsideSlots = 6;
    private const int MaxPendingBits = 16;
    private readonly JpegScanGrammar _grammar;
    private readonly Dictionary<JpegScanGrammar.HuffmanTree, int> _treeOffsets = new(ReferenceEqualityComparer.Instance);
    private readonly int _patches;
    private readonly int _slots;
    private readonly int _partial;

    /// <summary>Prepares the fields for streams of <paramref name="grammar"/>.</summary>
    public JpegScanStructure(JpegScanGrammar grammar)
    {
        _grammar = grammar ?? throw new ArgumentNullException(nameof(grammar));
        int nodes = 0;
        foreach (JpegScanGrammar.HuffmanTree tree in grammar.BlockDc.Concat(grammar.BlockAc))
        {
            if (_treeOffsets.TryAdd(tree, nodes))
            {
                nodes += tree.Child.Length / 2;
            }
        }

        _patches = grammar.IntervalCount;
        _slots = (grammar.BlocksPerMcu * 64) + OutsideSlots;
        _partial = 2 * (1 + MaxPendingBits + nodes);
        FieldSizes = [_patches, _slots, _partial];
    }

    /// <summary>Number of values of each field: patches, slots, partial-symbol states.</summary>
    public IReadOnlyList<int> FieldSizes { get; }

    /// <summary>Number of fields (3).</summary>
    public int FieldCount => FieldSizes.Count;

    /// <summary>A parser state at the start of a stream of this grammar.</summary>
    public JpegScanState Start() => new(_grammar);

    /// <summary>Writes the <see cref="FieldCount"/> ids (already offset into the stacked table) of <paramref name="state"/>.</summary>
    public void Fill(in JpegScanState state, Span<int> ids)
    {
        if (ids.Length < 3)
        {
            throw new ArgumentException("three structure ids per token", nameof(ids));
        }

        var (phase, interval, block, k, node, bitsLeft, stuff) = state.Position;
        int outside = _grammar.BlocksPerMcu * 64;
        int slot = phase switch
        {
            JpegScanState.Coding => (block * 64) + Math.Min(k, 63),
            JpegScanState.Padding => outside,
            JpegScanState.ExpectMarker => outside + 1,
            JpegScanState.ExpectMarkerCode => outside + 2,
            JpegScanState.Done => outside + 3,
            JpegScanState.Header => outside + 4,
            _ => outside + 5,
        };
        int partial = 0;
        if (phase == JpegScanState.Coding)
        {
            if (bitsLeft > 0)
            {
                partial = Math.Min(bitsLeft, MaxPendingBits);
            }
            else if (node > 0)
            {
                JpegScanGrammar.HuffmanTree tree = k == 0 ? _grammar.BlockDc[block] : _grammar.BlockAc[block];
                partial = 1 + MaxPendingBits + _treeOffsets[tree] + node;
            }
        }

        if (stuff)
        {
            partial += _partial / 2;
        }

        ids[0] = Math.Clamp(interval, 0, _patches - 1);
        ids[1] = _patches + slot;
        ids[2] = _patches + _slots + partial;
    }

    /// <summary>
    /// Annotates a whole document: for each token id of <paramref name="tokens"/> (using <paramref name="table"/>'s
    /// byte strings; specials leave the state unchanged except BOS, which restarts it), the fields after it, written
    /// field-major into <paramref name="ids"/> at column <c>offset + i</c> of rows of <paramref name="stride"/>.
    /// </summary>
    public void AnnotateDocument(JpegTokenConstraint table, ReadOnlySpan<int> tokens, int bos, Span<int> ids, int stride, int offset)
    {
        ArgumentNullException.ThrowIfNull(table);
        JpegScanState state = Start();
        Span<int> one = stackalloc int[3];
        for (int i = 0; i < tokens.Length; i++)
        {
            int t = tokens[i];
            if (t == bos)
            {
                state = Start();
            }
            else if (t != table.EndOfStreamToken)
            {
                table.Advance(ref state, t);
            }

            Fill(state, one);
            ids[offset + i] = one[0];
            ids[stride + offset + i] = one[1];
            ids[(2 * stride) + offset + i] = one[2];
        }
    }
}
