using System.Runtime.CompilerServices;
using JpegLm.Codec.Grammar;

namespace JpegLm.Codec.Avc.Grammar;

/// <summary>
/// The incremental H.264 grammar for constrained sampling, the counterpart of the JPEG scan state: a small
/// copyable struct that takes a token stream of an AVC-LM profile (slice NAL units in Annex B, the parameter
/// sets kept in the profile) one byte at a time and refuses a byte exactly when no continuation of it is a
/// valid stream of the profile's syntax (see <see cref="AvcStreamGrammar"/>). Underneath the bytes it follows
/// the start codes, the NAL header, emulation prevention (inside a unit, 00 00 is followed by 03 or a byte
/// ≥ 04, and 00 00 03 by a byte ≤ 03) and a bit-level parse of the slice: Exp-Golomb codes are pruned as
/// intervals against each element's allowed values, CAVLC codes are walked in tries that know what can still
/// finish, and the stop bit and alignment close the unit. Every state that is not failed can be completed,
/// so "consuming b does not fail" is exactly "b is allowed".
/// </summary>
public partial struct AvcStreamState : IByteGrammarState, IEquatable<AvcStreamState>
{
    private const byte Header = 0, StartCode = 1, NalHeader = 2, Payload = 3, AfterNal = 4, Failed = 5;

    private readonly AvcStreamGrammar _g;
    private readonly byte[]? _header;
    private byte _phase;
    private byte _zeros;   // start code: zero bytes seen; payload: zero bytes just written
    private bool _escaped; // payload: the last byte was an emulation prevention 03
    private int _headerPos;
    private int _picture;  // picture of the slice being written, or of the next one
    private int _mb;       // macroblock (= slice) being written, or the next one

    // The syntax element being read (AvcStreamState.Elements.cs).
    private byte _ek;      // element kind
    private byte _n;       // Bits: width
    private int _lo, _hi;  // allowed values (ue: code numbers; se: values; bits: values)
    private ulong _mask;   // when non-zero: the allowed values (all below 64) of a ue or bits element
    private byte _z;       // leading zeros read
    private byte _k;       // info bits read
    private bool _inInfo;
    private int _acc;
    private byte _trie;    // coeff_token class 0..4, or 10 + TotalCoeff (total_zeros), 30 + TotalCoeff (chroma DC), 40 + zerosLeft class
    private int _node;
    private int _limit;
    private byte _bit;     // RBSP bits of the current byte already read

    // The slice (AvcStreamState.Syntax.cs, AvcStreamState.Residual.cs).
    private byte _sp;       // syntax position
    private bool _intra;    // I slice
    private int _active;    // num_ref_idx_l0_active
    private byte _kind;
    private int _cbp;
    private ulong _modes;   // Intra4x4PredMode of the 16 blocks in raster order, 4 bits each
    private int _blk;       // I_NxN: block being read (luma4x4BlkIdx)
    private int _pred;      // its predicted mode
    private int _pos;       // residual: position in the block order (see NextBlock)
    private int _slot;      // residual: TotalCoeff slot of the block (-1 for DC blocks)
    private int _maxCoeff;
    private int _tc, _t1, _i, _suffixLength, _levelPrefix, _zerosLeft, _run;
    private BlockTotals _totals;
    private ulong _remMask; // rem_intra4x4_pred_mode values allowed for the block being read

    /// <summary>A state at the start of a token stream of <paramref name="grammar"/>; <paramref name="parameterSets"/> are the bytes a stream that keeps headers starts with.</summary>
    public AvcStreamState(AvcStreamGrammar grammar, byte[]? parameterSets = null)
    {
        ArgumentNullException.ThrowIfNull(grammar);
        this = default;
        _g = grammar;
        _header = grammar.KeepsHeaders ? parameterSets ?? throw new ArgumentException("a grammar that keeps headers needs the parameter sets", nameof(parameterSets)) : null;
        _phase = _header is { Length: > 0 } ? Header : StartCode;
    }

    /// <summary>True when the stream may end here: between units, after a whole picture, with enough pictures.</summary>
    public readonly bool IsComplete => _phase == AfterNal && _mb == 0 && _picture >= _g.MinPictures;

    /// <summary>True once a byte was refused.</summary>
    public readonly bool IsFailed => _phase == Failed;

    /// <summary>Whole pictures written so far.</summary>
    public readonly int Pictures => _picture;

    /// <summary>The picture and macroblock of the slice being written (or the next one).</summary>
    public readonly (int Picture, int Macroblock) Position => (_picture, _mb);

    /// <summary>Whether <paramref name="b"/> can come next such that some continuation is a valid stream.</summary>
    public readonly bool IsAllowed(byte b)
    {
        AvcStreamState copy = this;
        return copy.Consume(b);
    }

    /// <summary>
    /// True when both states are the same in every field (the grammar and header by reference), so every byte
    /// string is allowed or refused alike from both and their completions agree: what a mask cache is keyed on.
    /// A field added to the state must be added here and to <see cref="GetHashCode"/> (a test checks each field).
    /// </summary>
    public readonly bool Equals(AvcStreamState other)
        => ReferenceEquals(_g, other._g) && ReferenceEquals(_header, other._header)
        && _phase == other._phase && _zeros == other._zeros && _escaped == other._escaped && _headerPos == other._headerPos
        && _picture == other._picture && _mb == other._mb
        && _ek == other._ek && _n == other._n && _lo == other._lo && _hi == other._hi && _mask == other._mask && _z == other._z
        && _k == other._k && _inInfo == other._inInfo && _acc == other._acc && _trie == other._trie && _node == other._node
        && _limit == other._limit && _bit == other._bit
        && _sp == other._sp && _intra == other._intra && _active == other._active && _kind == other._kind && _cbp == other._cbp
        && _modes == other._modes && _blk == other._blk && _pred == other._pred && _pos == other._pos && _slot == other._slot
        && _maxCoeff == other._maxCoeff && _tc == other._tc && _t1 == other._t1 && _i == other._i && _suffixLength == other._suffixLength
        && _levelPrefix == other._levelPrefix && _zerosLeft == other._zerosLeft && _run == other._run && _remMask == other._remMask
        && ((ReadOnlySpan<byte>)_totals).SequenceEqual(other._totals);

    /// <inheritdoc/>
    public override readonly bool Equals(object? obj) => obj is AvcStreamState other && Equals(other);

    /// <summary>Field-wise equality, as <see cref="Equals(AvcStreamState)"/>.</summary>
    public static bool operator ==(AvcStreamState left, AvcStreamState right) => left.Equals(right);

    /// <summary>Field-wise inequality, as <see cref="Equals(AvcStreamState)"/>.</summary>
    public static bool operator !=(AvcStreamState left, AvcStreamState right) => !left.Equals(right);

    /// <inheritdoc/>
    public override readonly int GetHashCode()
    {
        var h = default(HashCode);
        h.Add(_phase | (_zeros << 8) | (_escaped ? 1 << 16 : 0) | (_inInfo ? 1 << 17 : 0) | (_intra ? 1 << 18 : 0));
        h.Add(_headerPos);
        h.Add((_picture << 16) ^ _mb);
        h.Add(_ek | (_n << 8) | (_z << 16) | (_k << 24));
        h.Add(_lo);
        h.Add(_hi);
        h.Add(_mask);
        h.Add(_acc);
        h.Add(_trie | (_bit << 8) | (_sp << 16) | (_kind << 24));
        h.Add(_node);
        h.Add(_limit);
        h.Add(_active);
        h.Add(_cbp);
        h.Add(_modes);
        h.Add((_blk << 16) ^ _pred);
        h.Add((_pos << 16) ^ _slot);
        h.Add(_maxCoeff);
        h.Add((_tc << 24) ^ (_t1 << 16) ^ (_i << 8) ^ _suffixLength);
        h.Add((_levelPrefix << 16) ^ (_zerosLeft << 8) ^ _run);
        h.Add(_remMask);
        h.AddBytes(_totals);
        return h.ToHashCode();
    }

    /// <summary>Consumes one byte; returns false (and fails the state) if no valid stream continues with it.</summary>
    public bool Consume(byte b)
    {
        switch (_phase)
        {
            case Header:
                if (b != _header![_headerPos])
                {
                    return Fail();
                }

                if (++_headerPos == _header.Length)
                {
                    _phase = StartCode;
                }

                return true;
            case AfterNal:
                if (b != 0 || !SliceMayFollow)
                {
                    return Fail();
                }

                _phase = StartCode;
                _zeros = 1;
                return true;
            case StartCode:
                // 00 00 01 or 00 00 00 01 (one zero_byte, as every unit of the profile's encoder has).
                if (b == 0 && _zeros < 3 && SliceMayFollow)
                {
                    _zeros++;
                    return true;
                }

                if (b == 1 && _zeros >= 2)
                {
                    _phase = NalHeader;
                    _zeros = 0;
                    return true;
                }

                return Fail();
            case NalHeader:
                // forbidden_zero_bit 0, a reference picture (nal_ref_idc 1..3), IDR only for the first picture.
                if ((b & 0x80) != 0 || (b & 0x60) == 0 || (b & 31) != (_picture == 0 ? 5 : 1))
                {
                    return Fail();
                }

                BeginSlice();
                _phase = Payload;
                _zeros = 0;
                _escaped = false;
                return true;
            case Payload:
                return PayloadByte(b);
            default:
                return false;
        }
    }

    /// <summary>
    /// The length in bytes of a completion of this state (0 when complete, −1 when failed): the rest of the
    /// slice written by its canonical completion (each syntax element finished by its shortest allowed code,
    /// the CAVLC tries by their shortest valid codes), escaped, then the canonical slices of the picture's other
    /// macroblocks and of the pictures still needed. Not always the minimum, but the canonical completion
    /// continues itself: its first byte is allowed and leaves a state whose completion is one byte shorter,
    /// which is what keeps a sampler that refuses over-budget tokens from ever running dry.
    /// </summary>
    public readonly long ShortestCompletion()
    {
        long rest = _g.FromSlice(_picture, _mb + 1) + _g.FromPicture(_picture + 1);
        long slice = _g.FromSlice(_picture, _mb) - _g.FromSlice(_picture, _mb + 1); // start code, header, canonical RBSP
        switch (_phase)
        {
            case Failed:
                return -1;
            case Header:
                return _header!.Length - _headerPos + _g.FromSlice(0, 0) + _g.FromPicture(1);
            case AfterNal:
                return _mb == 0 ? _g.FromPicture(_picture) : _g.FromSlice(_picture, _mb) + _g.FromPicture(_picture + 1);
            case StartCode:
                // The canonical start code is 00 00 01: what is left of it, then the header byte and the slice.
                return (_zeros >= 2 ? 1 : 3 - _zeros) + (slice - 3) + rest;
            case NalHeader:
                return slice - 3 + rest;
            default:
                long here = CanonicalRestOfNal();
                return here < 0 ? -1 : here + rest;
        }
    }

    /// <inheritdoc/>
    readonly long IByteGrammarState.CompletionLength() => ShortestCompletion();

    /// <inheritdoc/>
    readonly long IByteGrammarState.CompletionBound() => CompletionBound();

    /// <inheritdoc/>
    readonly long IByteGrammarState.OwnCompletionBound() => OwnCompletionBound();

    /// <summary>
    /// A bound on <see cref="ShortestCompletion"/> here and at every later state: the rest of this picture's slices
    /// and the pictures still needed (canonical), one more whole picture (a complete stream may start another),
    /// and a slack for the slice in flight (<see cref="AvcStreamGrammar.SliceSlack"/>).
    /// </summary>
    internal readonly long CompletionBound() => _phase == Failed ? 0 : OwnCompletionBound() + _g.LargestPicture;

    /// <summary>
    /// A bound on <see cref="ShortestCompletion"/> of this state alone: <see cref="CompletionBound"/> without the
    /// extra picture only later states can start — the rest of this picture's slices and the pictures still needed
    /// (canonical), and the slack a slice in flight may add (<see cref="AvcStreamGrammar.SliceSlack"/>).
    /// </summary>
    internal readonly long OwnCompletionBound()
        => _phase == Failed ? 0 : (_phase == Header ? _header!.Length - _headerPos : 0) + _g.SliceSlack + _g.FromSlice(_picture, _mb) + _g.FromPicture(_picture + 1);

    /// <summary>Bytes of the canonical slice (start code, header byte, escaped RBSP) for macroblock <paramref name="mb"/> of <paramref name="picture"/>.</summary>
    internal static long CanonicalSliceBytes(AvcStreamGrammar grammar, int picture, int mb)
    {
        var s = new AvcStreamState(grammar, []) { _phase = Payload, _picture = picture, _mb = mb };
        s.BeginSlice();
        long rbsp = s.CanonicalRestOfNal();
        if (rbsp < 0)
        {
            throw new InvalidOperationException($"no canonical slice for picture {picture}, macroblock {mb}");
        }

        return 4 + rbsp;
    }

    private readonly bool SliceMayFollow => _mb > 0 || _picture < _g.MaxPictures;

    private bool PayloadByte(byte b)
    {
        if (_escaped)
        {
            // 00 00 03 is followed by 00..03: the byte the escape protected.
            _escaped = false;
            return b <= 3 ? RbspByte(b) : Fail();
        }

        if (_zeros >= 2)
        {
            if (b == 3)
            {
                // An escape is right only if the slice can go on with a byte 00..03.
                for (int r = 0; r <= 3; r++)
                {
                    AvcStreamState probe = this;
                    if (probe.RbspByte((byte)r))
                    {
                        _escaped = true;
                        _zeros = 0;
                        return true;
                    }
                }

                return Fail();
            }

            if (b < 3)
            {
                return Fail(); // 00 00 00/01/02 cannot occur inside a unit (and the slice is not finished)
            }
        }

        return RbspByte(b);
    }

    private bool RbspByte(byte b)
    {
        if (!RbspBits(b))
        {
            return Fail();
        }

        _zeros = b == 0 ? (byte)(_zeros + 1) : (byte)0;
        if (SliceDone)
        {
            _phase = AfterNal;
            _zeros = 0;
            if (++_mb == _g.MacroblocksPerPicture)
            {
                _mb = 0;
                _picture++;
            }
        }

        return true;
    }

    // Escaped bytes of the canonical completion of the NAL unit being written, from this byte boundary.
    private readonly long CanonicalRestOfNal()
    {
        AvcStreamState s = this;
        long bytes = 0;
        int zeros = _zeros;
        if (_escaped)
        {
            // After 00 00 03 the byte must be 00..03: the canonical byte if it is one, else the smallest that fits
            // (a state reached by writing 03 where the canonical byte is larger is off the canonical path anyway).
            AvcStreamState t = s;
            int r = t.CanonicalByte();
            if (r is < 0 or > 3)
            {
                for (r = 0; r <= 3; r++)
                {
                    t = s;
                    if (t.RbspBits((byte)r))
                    {
                        break;
                    }
                }
            }

            if (r > 3)
            {
                return -1;
            }

            s = t;
            bytes = 1;
            zeros = r == 0 ? 1 : 0;
        }

        while (!s.SliceDone)
        {
            int r = s.CanonicalByte();
            if (r < 0)
            {
                return -1;
            }

            if (zeros >= 2 && r <= 3)
            {
                bytes++; // the emulation prevention byte, after which the zero count starts again
                zeros = 0;
            }

            bytes++;
            zeros = r == 0 ? zeros + 1 : 0;
        }

        return bytes;
    }

    // Steps eight canonical bits; the byte they make, or -1.
    private int CanonicalByte()
    {
        int acc = 0;
        for (int i = 0; i < 8; i++)
        {
            int bit = CanonicalBit();
            if (bit < 0 || !StepBit(bit))
            {
                return -1;
            }

            acc = (acc << 1) | bit;
        }

        return acc;
    }

    private bool RbspBits(byte b)
    {
        for (int i = 7; i >= 0; i--)
        {
            if (!StepBit((b >> i) & 1))
            {
                return false;
            }
        }

        return true;
    }

    private bool Fail()
    {
        _phase = Failed;
        return false;
    }

    /// <summary>The TotalCoeff of each 4x4 block of the macroblock (16 luma in raster order, then 8 chroma AC).</summary>
    [InlineArray(24)]
    private struct BlockTotals
    {
        private byte _element0;
    }
}
