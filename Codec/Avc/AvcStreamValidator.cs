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
    private byte[] _bytes = new byte[4096];
    private byte[] _rbsp = new byte[4096];
    private int _length;
    private AvcDecoder _decoder = null!;
    private int _scan;          // where the search for the next start code or NAL end resumes
    private int _payload = -1;  // first byte after the start code of the unit being written, or -1 between units
    private int _unitStart = -1;
    private bool _ended;

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
        if (Advance(out string? reason))
        {
            return true;
        }

        LastRefusal = reason;
        Rebuild(before, checkSlicesOnly: true);
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
            ok = Judge(_payload, _length, out reason);
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
            else if (_decoder.PictureCount == 0)
            {
                ok = false;
                reason = "the stream has no picture";
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

    /// <summary>Takes the stream back to its first <paramref name="length"/> bytes (not into the initial bytes).</summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, _fixedLength);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, _length);
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
        _decoder = new AvcDecoder(new AvcDecoderOptions { ParseOnly = true, Tolerant = true, MaxFrameMacroblocks = _options.MaxFrameMacroblocks });
        _scan = 0;
        _payload = -1;
        _unitStart = -1;
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
                int sc = IndexOfStartCode(_scan);
                if (sc < 0)
                {
                    _scan = Math.Max(_scan, _length - 2);
                    return true;
                }

                _unitStart = sc > 0 && _bytes[sc - 1] == 0 && sc - 1 >= _scan ? sc - 1 : sc;
                _payload = sc + 3;
                _scan = _payload;
            }

            int end = IndexOfNalEnd(_scan);
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
                return false;
            }

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

        if (_rbsp.Length < end - start)
        {
            _rbsp = new byte[Math.Max(end - start, _rbsp.Length * 2)];
        }

        int n = AnnexBReader.RemoveEmulationPrevention(_bytes.AsSpan(start, end - start), _rbsp);
        int errors = _decoder.Errors.Count;
        try
        {
            _decoder.PushNal(_rbsp.AsSpan(0, n), start);
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

        return true;
    }

    private int IndexOfStartCode(int from)
    {
        for (int i = Math.Max(0, from); i + 2 < _length; i++)
        {
            if (_bytes[i] == 0 && _bytes[i + 1] == 0 && _bytes[i + 2] == 1)
            {
                return i;
            }
        }

        return -1;
    }

    private int IndexOfNalEnd(int from)
    {
        for (int i = from; i + 2 < _length; i++)
        {
            if (_bytes[i] == 0 && _bytes[i + 1] == 0 && _bytes[i + 2] <= 1)
            {
                return i;
            }
        }

        return -1;
    }
}
