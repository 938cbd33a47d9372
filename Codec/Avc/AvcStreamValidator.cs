using JpegLm.Codec.Bitstream;

namespace JpegLm.Codec.Avc;

/// <summary>Limits an <see cref="AvcStreamValidator"/> enforces on top of the checker's syntax rules.</summary>
public sealed record AvcValidatorOptions
{
    /// <summary>Accept only slice NAL units (types 1 and 5) after the initial bytes, so a generated stream keeps
    /// the profile's parameter sets (and with them its size). Default true.</summary>
    public bool SlicesOnly { get; init; } = true;

    /// <summary>Pictures the stream may hold at most (0: no limit).</summary>
    public int MaxPictures { get; init; }

    /// <summary>Longest NAL unit accepted, in bytes (bounds the work a runaway unit can cause).</summary>
    public int MaxNalBytes { get; init; } = 1 << 16;

    /// <summary>Pictures the stream must hold before it may end (at least 1).</summary>
    public int MinPictures { get; init; } = 1;

    /// <summary>Largest picture accepted, in macroblocks.</summary>
    public int MaxFrameMacroblocks { get; init; } = 512 * 270;
}

/// <summary>
/// Follows an H.264 Annex B stream as it is written, byte by byte, and says whether it is still a valid stream:
/// the incremental form of <see cref="AvcStreamChecker"/>, used for grammar-constrained video sampling.
/// <para>
/// A NAL unit is judged when it is complete — when the start code of the next one (or the end of the stream)
/// is written — by the same parse-only decoder the checker runs, fed the same units the checker's
/// <see cref="AnnexBReader"/> would split off. So a stream this class accepts to its end is one the checker
/// calls valid. An append that completes a broken unit is refused and leaves the state as it was (rebuilt by
/// replaying the accepted bytes, which costs one parse of the stream so far); the bytes of the unfinished unit
/// are not judged until it completes (with one macroblock per slice, as in AVC-LM, that is a few dozen bytes),
/// so a sampler that meets refusals backs up to <see cref="PendingNalStart"/> and draws the unit again.
/// </para>
/// </summary>
public sealed class AvcStreamValidator
{
    private readonly AvcValidatorOptions _options;
    private readonly int _fixedLength;
    private readonly int _sealedAt = -1; // initial bytes end a unit: what follows must start with a start code
    private byte[] _bytes = new byte[4096];
    private byte[] _rbsp = new byte[4096];
    private int _length;
    private AvcDecoder _decoder = null!;
    private int _scan;          // where the search for the next start code or NAL end resumes
    private int _payload = -1;  // first byte after the start code of the unit being written, or -1 between units
    private int _unitStart = -1;
    private bool _ended;
    private readonly List<(int Start, int End)> _units = []; // complete, non-empty NAL units fed so far
    private int _settled; // the stream length at which the last unit was completed (its terminator written)

    /// <summary>
    /// Starts a stream with <paramref name="initial"/> (typically the profile's parameter sets and a prompt),
    /// which may end inside a NAL unit and can never be taken back.
    /// </summary>
    /// <exception cref="AvcFormatException">A complete NAL unit of <paramref name="initial"/> is invalid.</exception>
    public AvcStreamValidator(ReadOnlySpan<byte> initial, AvcValidatorOptions? options = null)
    {
        _options = options ?? new AvcValidatorOptions();
        Append(initial);
        _fixedLength = initial.Length;
        Rebuild(initial.Length, checkSlicesOnly: false);
        if (!Advance(out string? reason))
        {
            throw new AvcFormatException($"the initial bytes are not a valid stream: {reason}", 0);
        }

        // Initial bytes (parameter sets, a prompt cut before a picture) end with a whole unit: the stream may not
        // extend it, so the next bytes must be a start code. The unit itself is judged when that code is written.
        if (_payload >= 0 && _length > _payload)
        {
            _sealedAt = _length;
        }
    }

    /// <summary>Bytes written so far (initial bytes included).</summary>
    public int Length => _length;

    /// <summary>The bytes written so far.</summary>
    public ReadOnlySpan<byte> Bytes => _bytes.AsSpan(0, _length);

    /// <summary>
    /// Where the unfinished NAL unit's start code begins (the point to back up to when it cannot be finished),
    /// or <see cref="Length"/> when the stream is between units.
    /// </summary>
    public int PendingNalStart => _payload < 0 ? _length : _unitStart;

    /// <summary>Bytes of the unfinished NAL unit written so far (0 between units).</summary>
    public int PendingNalLength => _payload < 0 ? 0 : _length - _payload;

    /// <summary>Pictures started so far.</summary>
    public int Pictures => _decoder.PictureCount;

    /// <summary>Why the last refused append or end was refused.</summary>
    public string? LastRefusal { get; private set; }

    /// <summary>
    /// Appends <paramref name="bytes"/> if the stream stays valid: every NAL unit they complete must pass the
    /// checker, and the unfinished one must stay under <see cref="AvcValidatorOptions.MaxNalBytes"/>. Returns false
    /// (state unchanged, reason in <see cref="LastRefusal"/>) otherwise.
    /// </summary>
    public bool TryAppend(ReadOnlySpan<byte> bytes)
    {
        ThrowIfEnded();
        int before = _length;
        Append(bytes);
        string? reason = null;
        if (!FollowsSeal())
        {
            reason = "the initial bytes end a NAL unit: a start code must follow";
        }
        else if (Advance(out reason))
        {
            return true;
        }

        LastRefusal = reason;
        Truncate(before);
        return false;
    }

    /// <summary>
    /// Ends the stream here if that leaves it valid: the unfinished NAL unit passes as the last one, every
    /// picture has all its macroblocks and there is at least one. On success no more bytes may be appended;
    /// on failure the state is unchanged.
    /// </summary>
    public bool TryEnd()
    {
        ThrowIfEnded();
        string? reason = null;
        bool ok = true;
        if (_payload >= 0)
        {
            if (_bytes.AsSpan(_payload, _length - _payload).ContainsAnyExcept((byte)0))
            {
                ok = Judge(_payload, _length, out reason);
            }
            else
            {
                // A start code with no unit after it is a cut stream to the checker's reader: refused here too.
                ok = false;
                reason = AnnexBStartCodes.EndsAfterStartCode;
            }
        }

        if (ok)
        {
            int errors = _decoder.Errors.Count;
            _decoder.PushEnd();
            if (_decoder.Errors.Count > errors)
            {
                ok = false;
                reason = _decoder.Errors[^1].Reason;
            }
            else if (_decoder.PictureCount < Math.Max(1, _options.MinPictures))
            {
                ok = false;
                reason = $"the stream has {_decoder.PictureCount} pictures, fewer than {Math.Max(1, _options.MinPictures)}";
            }
        }

        if (!ok)
        {
            LastRefusal = reason;
            Rebuild(_length, checkSlicesOnly: true);
            return false;
        }

        _ended = true;
        return true;
    }

    /// <summary>
    /// Whether the unfinished NAL unit can still become a valid one. A slice's bytes so far are parsed against
    /// the current state (and undone) with the reader told the unit may go on: it is viable if the parse fails
    /// only by running out of bits — every other error was decided by bits already written — or if it parses
    /// completely as a unit that ends here. A slice that starts a new picture is pushed on a scratch decoder that
    /// replays the complete units (one parse of the stream so far). Other unit types are judged when complete.
    /// </summary>
    public bool PendingMayComplete()
    {
        if (_payload < 0)
        {
            return true;
        }

        int end = _length;
        while (end > _payload && _bytes[end - 1] == 0)
        {
            end--;
        }

        if (end == _payload)
        {
            return true;
        }

        int type = _bytes[_payload] & 31;
        if ((_bytes[_payload] & 0x80) != 0 || (_options.SlicesOnly && _payload >= _fixedLength && type is not (1 or 5)))
        {
            return false;
        }

        if (type is not (1 or 5))
        {
            return true; // only slices are judged early
        }

        SliceProbe probe = _decoder.ProbeSlice(Unescape(_payload, end), _payload);
        if (probe != SliceProbe.NeedsReplay)
        {
            return probe == SliceProbe.Viable;
        }

        // The unit starts a picture: push it on scratch decoders that replay the complete units, first as a unit
        // that may go on (only running out of bits is allowed to fail), then as one that ends here. It is copied
        // because the replay reuses the unescaping buffer.
        byte[] unit = Unescape(_payload, end).ToArray();
        return PushesOnReplay(unit, mayContinue: true) || PushesOnReplay(unit, mayContinue: false);
    }

    private bool PushesOnReplay(byte[] unit, bool mayContinue)
    {
        AvcDecoder scratch = NewDecoder();
        try
        {
            foreach ((int s, int e) in _units)
            {
                scratch.PushNal(Unescape(s, e), s);
            }

            int errors = scratch.Errors.Count;
            scratch.PushNal(unit, _payload, mayContinue);
            if (_options.MaxPictures > 0 && scratch.PictureCount > _options.MaxPictures)
            {
                return false;
            }

            for (int i = errors; i < scratch.Errors.Count; i++)
            {
                if (!mayContinue || scratch.Errors[i].Reason != RbspReader.PastEndReason)
                {
                    return false;
                }
            }

            return true;
        }
        catch (AvcFormatException)
        {
            return false;
        }
    }

    /// <summary>Takes the stream back to its first <paramref name="length"/> bytes (not into the initial bytes).</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, _fixedLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _length);
        if (!_ended && length >= _settled)
        {
            // Only bytes of the unfinished unit (or of its start code) go: the decoder has seen none of them.
            _length = length;
            if (_payload > length)
            {
                _payload = -1;
            }

            _scan = _payload >= 0 ? _payload : Math.Min(_scan, Math.Max(0, _settled - 3));
            return;
        }

        _ended = false;
        Rebuild(length, checkSlicesOnly: true);
    }

    private void ThrowIfEnded()
    {
        if (_ended)
        {
            throw new InvalidOperationException("the stream has ended (TryEnd succeeded); truncate it to write more");
        }
    }

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (_length + bytes.Length > _bytes.Length)
        {
            Array.Resize(ref _bytes, Math.Max(_length + bytes.Length, _bytes.Length * 2));
        }

        bytes.CopyTo(_bytes.AsSpan(_length));
        _length += bytes.Length;
    }

    // Replays the first `length` bytes into a fresh parse-only decoder. They were accepted before, so this
    // cannot fail (a prefix of an accepted stream completes a subset of its units).
    private void Rebuild(int length, bool checkSlicesOnly)
    {
        _length = length;
        _decoder = NewDecoder();
        _scan = 0;
        _payload = -1;
        _unitStart = -1;
        _units.Clear();
        _settled = 0;
        if (checkSlicesOnly && !Advance(out string? reason))
        {
            throw new InvalidOperationException($"replaying accepted bytes failed: {reason}");
        }
    }

    // Splits off and judges every NAL unit completed in [_scan, _length), exactly as AnnexBReader splits:
    // a unit starts after 00 00 01 and ends before the next 00 00 00 or 00 00 01, trailing zero bytes trimmed.
    private bool Advance(out string? reason)
    {
        reason = null;
        while (true)
        {
            if (_payload < 0)
            {
                int sc = AnnexBStartCodes.IndexOfStartCode(_bytes.AsSpan(0, _length), _scan);
                if (!OnlyZerosBetweenUnits(_scan, sc < 0 ? _length : sc))
                {
                    reason = "bytes other than zeros between NAL units";
                    return false;
                }

                if (sc < 0)
                {
                    _scan = Math.Max(_scan, _length - 2);
                    return true;
                }

                _unitStart = AnnexBStartCodes.IncludingZeroByte(_bytes, sc, notBefore: _scan);
                _payload = sc + 3;
                _scan = _payload;
            }

            int end = AnnexBStartCodes.IndexOfNalEnd(_bytes.AsSpan(0, _length), _scan);
            if (end < 0)
            {
                _scan = Math.Max(_payload, _length - 2);
                if (_length - _payload > _options.MaxNalBytes)
                {
                    reason = $"NAL unit longer than {_options.MaxNalBytes} bytes";
                    return false;
                }

                return true;
            }

            if (!Judge(_payload, end, out reason))
            {
                _settled = int.MaxValue; // the decoder has seen the broken unit: only a replay undoes that
                return false;
            }

            _settled = end + 3;
            _payload = -1;
            _scan = end;
        }
    }

    // Feeds the unit [start, end) (trailing zeros trimmed; empty units are skipped, as the reader does).
    private bool Judge(int start, int end, out string? reason)
    {
        reason = null;
        while (end > start && _bytes[end - 1] == 0)
        {
            end--;
        }

        if (end == start)
        {
            return true;
        }

        if (end - start > _options.MaxNalBytes)
        {
            reason = $"NAL unit longer than {_options.MaxNalBytes} bytes";
            return false;
        }

        int type = _bytes[start] & 31;
        if (_options.SlicesOnly && start >= _fixedLength && type is not (1 or 5))
        {
            reason = $"NAL unit type {type} where only slices may follow";
            return false;
        }

        int errors = _decoder.Errors.Count;
        try
        {
            _decoder.PushNal(Unescape(start, end), start);
        }
        catch (AvcFormatException e)
        {
            reason = e.Reason;
            return false;
        }

        if (_decoder.Errors.Count > errors)
        {
            reason = _decoder.Errors[^1].Reason;
            return false;
        }

        if (_options.MaxPictures > 0 && _decoder.PictureCount > _options.MaxPictures)
        {
            reason = $"more than {_options.MaxPictures} pictures";
            return false;
        }

        _units.Add((start, end));
        return true;
    }

    // Between units a written stream holds only trailing zero bytes and the next start code (the reader would
    // skip other bytes there, but a generated file should not carry them).
    private bool OnlyZerosBetweenUnits(int from, int to)
    {
        for (int i = Math.Max(from, _fixedLength); i < to; i++)
        {
            if (_bytes[i] != 0)
            {
                return false;
            }
        }

        return true;
    }

    // Whether the bytes after a sealed initial unit begin like 00 00 00 or 00 00 01.
    private bool FollowsSeal()
    {
        if (_sealedAt < 0)
        {
            return true;
        }

        for (int i = _sealedAt; i < Math.Min(_length, _sealedAt + 3); i++)
        {
            if (_bytes[i] > (i == _sealedAt + 2 ? 1 : 0))
            {
                return false;
            }
        }

        return true;
    }

    private AvcDecoder NewDecoder() => new(new AvcDecoderOptions { ParseOnly = true, Tolerant = true, MaxFrameMacroblocks = _options.MaxFrameMacroblocks });

    // The unit [start, end) without its emulation prevention bytes (valid until the next call).
    private ReadOnlySpan<byte> Unescape(int start, int end)
    {
        if (_rbsp.Length < end - start)
        {
            _rbsp = new byte[Math.Max(end - start, _rbsp.Length * 2)];
        }

        int n = AnnexBReader.RemoveEmulationPrevention(_bytes.AsSpan(start, end - start), _rbsp);
        return _rbsp.AsSpan(0, n);
    }
}
