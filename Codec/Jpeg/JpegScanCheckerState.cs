namespace JpegLm.Codec.Jpeg;

/// <summary>Why a scan byte is not acceptable.</summary>
public enum JpegScanError : byte
{
    /// <summary>No error.</summary>
    None,

    /// <summary>The bits form no code of the Huffman table (including the reserved all-ones code).</summary>
    InvalidHuffmanCode,

    /// <summary>A DC difference category above 11.</summary>
    DcCategoryTooLarge,

    /// <summary>An AC coefficient size above 10, or a size-0 symbol other than EOB/ZRL.</summary>
    InvalidAcSymbol,

    /// <summary>A zero run that passes coefficient 63.</summary>
    RunPastEndOfBlock,

    /// <summary>An FF data byte not followed by a stuffed 00.</summary>
    BadByteStuffing,

    /// <summary>The padding before a marker is not all 1-bits, or is 8 bits or more.</summary>
    BadPadding,

    /// <summary>A restart marker with the wrong number.</summary>
    WrongRestartNumber,

    /// <summary>A marker arrived before the interval's last MCU.</summary>
    TooFewMcus,

    /// <summary>Data continues where the interval should end with a marker.</summary>
    TooManyMcus,

    /// <summary>The stream ends early, or without EOI.</summary>
    MissingEndOfImage,

    /// <summary>Bytes after the end of the stream.</summary>
    TrailingBytes,

    /// <summary>A byte differs from the profile's fixed header.</summary>
    HeaderMismatch,

    /// <summary>The batch checker skipped the interval while resynchronising after damage.</summary>
    LostInResync,

    /// <summary>
    /// A ZRL with no room left for the non-zero coefficient it must lead up to, or an EOB right after a
    /// ZRL (T.81 codes a block's trailing zeros with EOB alone).
    /// </summary>
    ZeroRunWithoutCoefficient,
}

/// <summary>
/// The incremental scan grammar for constrained sampling: a small copyable state that consumes one byte
/// at a time and knows, for each possible next byte, whether some continuation still yields a valid
/// stream. The state is a handful of ints plus a reference to the shared immutable
/// <see cref="JpegScanGrammar"/>; copying it allocates nothing. Every state that is not failed can be
/// completed (the Huffman prefixes are pruned to those below which a symbol valid at the current
/// coefficient exists, and every table can end a block), so "consuming b does not fail" is exactly
/// "b is allowed".
/// </summary>
public struct JpegScanState : Grammar.IByteGrammarState, IEquatable<JpegScanState>
{
    internal const byte Header = 0, Coding = 1, Padding = 2, ExpectMarker = 3, ExpectMarkerCode = 4, Done = 5, Failed = 6;

    private readonly JpegScanGrammar _g;
    private int _interval;
    private int _mcu;
    private int _block;
    private int _k;
    private int _node;
    private int _bitsLeft;
    private int _headerPos;
    private byte _phase;
    private bool _stuff;
    private bool _afterZrl;
    private JpegScanError _error;

    /// <summary>A state at the start of the stream the grammar describes.</summary>
    public JpegScanState(JpegScanGrammar grammar)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        _g = grammar;
        _phase = grammar.Header.Length > 0 ? Header : Coding;
    }

    /// <summary>Where the parser stands, for <see cref="JpegScanStructure"/> (phase, interval, block, coefficient, Huffman node, pending bits, stuffing).</summary>
    internal readonly (byte Phase, int Interval, int Block, int K, int Node, int BitsLeft, bool Stuff) Position
        => (_phase, _interval, _block, _k, _node, _bitsLeft, _stuff);

    /// <summary>The restart interval (patch) being read, in scan order.</summary>
    public readonly int Interval => _interval;

    /// <summary>True once the stream is complete: after EOI, or after the last interval's padding for token streams.</summary>
    public readonly bool IsComplete => _phase == Done
        || (!_g.EndsWithEoi && _phase == ExpectMarker && !_stuff && _interval == _g.IntervalCount - 1);

    /// <summary>True once a byte was refused; <see cref="Error"/> says why.</summary>
    public readonly bool IsFailed => _phase == Failed;

    /// <summary>Why the last refused byte was refused.</summary>
    public readonly JpegScanError Error => _error;

    /// <summary>Every field but the grammar: what tests that enumerate distinct states and <see cref="Equals(JpegScanState)"/> compare.</summary>
    internal readonly (int Interval, int Mcu, int Block, int K, int Node, int BitsLeft, int HeaderPos, int Flags) Key
        => (_interval, _mcu, _block, _k, _node, _bitsLeft, _headerPos, _phase | (_stuff ? 16 : 0) | (_afterZrl ? 32 : 0) | ((int)_error << 8));

    /// <summary>
    /// True when both states have the same grammar (by reference) and the same <see cref="Key"/>, so every byte
    /// string is allowed or refused alike from both and their completions agree: what a mask cache is keyed on.
    /// </summary>
    public readonly bool Equals(JpegScanState other) => ReferenceEquals(_g, other._g) && Key == other.Key;

    /// <inheritdoc/>
    public override readonly bool Equals(object? obj) => obj is JpegScanState other && Equals(other);

    /// <summary>Field-wise equality, as <see cref="Equals(JpegScanState)"/>.</summary>
    public static bool operator ==(JpegScanState left, JpegScanState right) => left.Equals(right);

    /// <summary>Field-wise inequality, as <see cref="Equals(JpegScanState)"/>.</summary>
    public static bool operator !=(JpegScanState left, JpegScanState right) => !left.Equals(right);

    /// <inheritdoc/>
    public override readonly int GetHashCode() => Key.GetHashCode();

    /// <summary>Whether <paramref name="b"/> can come next such that some continuation is a valid stream.</summary>
    public readonly bool IsAllowed(byte b)
    {
        JpegScanState copy = this;
        return copy.Consume(b);
    }

    /// <summary>
    /// Sets bit b of <paramref name="mask"/> (four 64-bit words) for every allowed next byte. Walks the
    /// 256 bytes as a bit trie, so one call costs about 510 bit steps rather than 256 × 8.
    /// </summary>
    public readonly void FillAllowedMask(Span<ulong> mask)
    {
        if (mask.Length < 4)
        {
            throw new ArgumentException("the mask needs 4 words", nameof(mask));
        }

        mask[..4].Clear();
        if (_phase is Failed or Done)
        {
            return;
        }

        if (_stuff || _phase is not (Coding or Padding))
        {
            for (int b = 0; b < 256; b++)
            {
                if (IsAllowed((byte)b))
                {
                    mask[b >> 6] |= 1UL << (b & 63);
                }
            }

            return;
        }

        FillBits(this, 0, 0, mask);
    }

    /// <summary>
    /// The fewest bytes that take this state to a complete stream (0 when complete, −1 when failed): the
    /// rest of the current symbol and block, the interval's other MCUs, its padding and marker, and every
    /// later interval, each at its cheapest, with stuffed 00 bytes counted. Exact (see
    /// <see cref="JpegScanCompletion"/>), so from any state some allowed byte lowers it by exactly one.
    /// The first call on a grammar builds its tables (about a millisecond per Huffman table).
    /// </summary>
    public readonly long ShortestCompletion()
    {
        if (_phase == Failed)
        {
            return -1;
        }

        if (_phase == Done)
        {
            return 0;
        }

        JpegScanCompletion c = _g.Completion;
        bool last = _interval == _g.IntervalCount - 1;
        long stuff = _stuff ? 1 : 0;
        switch (_phase)
        {
            case Header:
                return _g.Header.Length - _headerPos + c.ToEnd(0);
            case ExpectMarker or Padding:
                // Queried only between bytes, where padding is already over.
                return stuff + (last ? (_g.EndsWithEoi ? 2 : 0) : 2 + c.Later(_interval));
            case ExpectMarkerCode:
                return 1 + c.Later(_interval);
        }

        Span<int> tail = stackalloc int[JpegScanCompletion.Fills];
        c.Tail(_block + 1, _g.McusIn(_interval) - _mcu - 1, last, tail);
        JpegScanCompletion.TreeTables ac = c.Tables(_g.BlockAc[_block]);
        int block;
        if (_bitsLeft > 0)
        {
            int bytes = 0;
            int fill = JpegScanCompletion.AppendBits(0, 0, _bitsLeft, ref bytes);
            block = bytes + (_k >= 64 ? tail[fill] : ac.BlockEndThen(_k, false, fill, tail));
        }
        else if (_k == 0)
        {
            block = c.Tables(_g.BlockDc[_block]).FromNode(_node, 0, false, ac, tail);
        }
        else if (_node == 0)
        {
            block = ac.BlockEndThen(_k, _afterZrl, 0, tail);
        }
        else
        {
            block = ac.FromNode(_node, _k, _afterZrl, ac, tail);
        }

        return block >= JpegScanCompletion.Inf ? -1 : stuff + block + c.Later(_interval);
    }

    /// <summary>
    /// A bound on <see cref="ShortestCompletion"/> for this state and every state after it (see
    /// <see cref="JpegScanCompletion.UpperBound"/>): cheap, so budget checks can be skipped while far from it.
    /// </summary>
    internal readonly long ShortestCompletionBound()
        => _phase switch
        {
            Failed or Done => 0,
            Header => _g.Header.Length - _headerPos + _g.Completion.UpperBound(0),
            _ => _g.Completion.UpperBound(_interval),
        };

    /// <inheritdoc/>
    readonly long Grammar.IByteGrammarState.CompletionLength() => ShortestCompletion();

    /// <inheritdoc/>
    readonly long Grammar.IByteGrammarState.CompletionBound() => ShortestCompletionBound();

    /// <inheritdoc/>
    /// <remarks>The interval's bound serves: the exact completion is a table lookup away when it does not clear.</remarks>
    readonly long Grammar.IByteGrammarState.OwnCompletionBound() => ShortestCompletionBound();

    /// <summary>Consumes one byte; returns false (and fails the state) if no valid stream continues with it.</summary>
    public bool Consume(byte b)
    {
        switch (_phase)
        {
            case Header:
                if (b != _g.Header[_headerPos])
                {
                    return Fail(JpegScanError.HeaderMismatch);
                }

                if (++_headerPos == _g.Header.Length)
                {
                    _phase = Coding;
                }

                return true;
            case Coding or Padding when _stuff:
                if (b == 0)
                {
                    _stuff = false;
                    return true;
                }

                // An FF that is not stuffed is a marker: too early inside an interval, malformed otherwise.
                return Fail(_phase == Coding && b is (>= 0xD0 and <= 0xD7) or 0xD9 ? JpegScanError.TooFewMcus : JpegScanError.BadByteStuffing);
            case Coding or Padding:
                for (int i = 7; i >= 0; i--)
                {
                    if (!StepBit((b >> i) & 1))
                    {
                        return false;
                    }
                }

                EndByte(b);
                return true;
            case ExpectMarker when _stuff:
                if (b == 0)
                {
                    _stuff = false;
                    return true;
                }

                return Fail(JpegScanError.BadByteStuffing);
            case ExpectMarker:
                if (b != 0xFF)
                {
                    return Fail(!_g.EndsWithEoi && _interval == _g.IntervalCount - 1 ? JpegScanError.TrailingBytes : JpegScanError.TooManyMcus);
                }

                if (!_g.EndsWithEoi && _interval == _g.IntervalCount - 1)
                {
                    return Fail(JpegScanError.TrailingBytes);
                }

                _phase = ExpectMarkerCode;
                return true;
            case ExpectMarkerCode:
                return MarkerCode(b);
            case Done:
                return Fail(JpegScanError.TrailingBytes);
            default:
                return false;
        }
    }

    /// <summary>Restarts the state at the start of <paramref name="interval"/> (used by the batch checker to resynchronise).</summary>
    internal void RestartAt(int interval)
    {
        _interval = interval;
        _mcu = _block = _k = _node = _bitsLeft = 0;
        _stuff = _afterZrl = false;
        _error = JpegScanError.None;
        _phase = Coding;
    }

    private bool MarkerCode(byte b)
    {
        bool last = _interval == _g.IntervalCount - 1;
        int expected = last ? 0xD9 : 0xD0 + (_interval & 7);
        if (b == expected)
        {
            if (last)
            {
                _phase = Done;
            }
            else
            {
                RestartAt(_interval + 1);
            }

            return true;
        }

        return Fail(b switch
        {
            0x00 => JpegScanError.BadPadding, // FF 00 where the marker belongs: 8 or more padding bits
            >= 0xD0 and <= 0xD7 => last ? JpegScanError.TooManyMcus : JpegScanError.WrongRestartNumber,
            0xD9 => JpegScanError.TooFewMcus,
            _ => JpegScanError.BadByteStuffing,
        });
    }

    private void EndByte(byte b)
    {
        if (_phase == Padding)
        {
            _phase = ExpectMarker;
        }

        _stuff = b == 0xFF;
    }

    private bool StepBit(int bit)
    {
        if (_phase == Padding)
        {
            return bit == 1 || Fail(JpegScanError.BadPadding);
        }

        if (_bitsLeft > 0)
        {
            if (--_bitsLeft == 0 && _k >= 64)
            {
                EndBlock();
            }

            return true;
        }

        JpegScanGrammar.HuffmanTree tree = _k == 0 ? _g.BlockDc[_block] : _g.BlockAc[_block];
        int c = tree.Child[(2 * _node) + bit];
        if (c >= 0)
        {
            int need = _afterZrl ? tree.NeedAfterZrl[c] : tree.Need[c];
            if (need + _k > 63)
            {
                return Fail(tree.PrefixError(c, _k));
            }

            _node = c;
            return true;
        }

        if (c == JpegScanGrammar.Dead)
        {
            return Fail(JpegScanError.InvalidHuffmanCode);
        }

        int symbol = -c - 1;
        int symbolNeed = tree.SymbolNeed(symbol, _afterZrl);
        if (symbolNeed + _k > 63)
        {
            return Fail(tree.SymbolError(symbol, _k, _afterZrl));
        }

        _node = 0;
        if (!tree.IsAc)
        {
            _k = 1;
            _bitsLeft = symbol;
            return true;
        }

        if (symbol == 0)
        {
            EndBlock();
        }
        else if (symbol == 0xF0)
        {
            _k += 16;
            _afterZrl = true;
        }
        else
        {
            _k += (symbol >> 4) + 1;
            _afterZrl = false;
            _bitsLeft = symbol & 15;
            if (_k >= 64 && _bitsLeft == 0)
            {
                EndBlock();
            }
        }

        return true;
    }

    private void EndBlock()
    {
        _k = 0;
        _afterZrl = false;
        if (++_block < _g.BlocksPerMcu)
        {
            return;
        }

        _block = 0;
        if (++_mcu == _g.McusIn(_interval))
        {
            _phase = Padding;
        }
    }

    private bool Fail(JpegScanError error)
    {
        _error = error;
        _phase = Failed;
        return false;
    }

    private static void FillBits(JpegScanState s, int depth, int prefix, Span<ulong> mask)
    {
        if (depth == 8)
        {
            // The byte's bits are all acceptable; only stuffing/marker rules remain, and they allow any
            // byte value here (an FF just demands a 00 next).
            mask[prefix >> 6] |= 1UL << (prefix & 63);
            return;
        }

        for (int bit = 0; bit < 2; bit++)
        {
            JpegScanState t = s;
            if (t.StepBit(bit))
            {
                FillBits(t, depth + 1, (prefix << 1) | bit, mask);
            }
        }
    }
}
