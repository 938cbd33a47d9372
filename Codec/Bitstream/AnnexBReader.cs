using System.Runtime.CompilerServices;
using JpegLm.Codec.Avc;

namespace JpegLm.Codec.Bitstream;

/// <summary>
/// Splits an H.264 Annex B byte stream into NAL units, reading the stream in chunks so memory stays
/// bounded by the largest NAL unit (capped by <see cref="MaxNalUnitBytes"/>). Each NAL unit is
/// returned with its emulation-prevention bytes removed (clause 7.4.1.1).
/// </summary>
public sealed class AnnexBReader
{
    private readonly Stream _stream;
    private byte[] _buffer = new byte[1 << 16];
    private int _begin;
    private int _end;
    private long _bufferOffset;
    private bool _eof;
    private bool _needStartCode = true;
    private bool _sawStartCode;
    private byte[] _rbsp = new byte[1 << 16];

    /// <summary>Reads NAL units from <paramref name="stream"/>.</summary>
    public AnnexBReader(Stream stream, int maxNalUnitBytes = 64 << 20)
    {
        ArgumentNullException.ThrowIfNull(stream);
        _stream = stream;
        MaxNalUnitBytes = maxNalUnitBytes;
    }

    /// <summary>The largest NAL unit accepted; a longer one is an <see cref="AvcFormatException"/>.</summary>
    public int MaxNalUnitBytes { get; }

    /// <summary>Byte offset in the stream of the last NAL unit's header byte.</summary>
    public long NalOffset { get; private set; }

    /// <summary>
    /// Reads the next NAL unit: its payload (header byte included, emulation prevention removed)
    /// stays valid until the next call. Returns false at the end of the stream.
    /// </summary>
    /// <exception cref="AvcFormatException">
    /// A unit is longer than <see cref="MaxNalUnitBytes"/>, the stream has bytes but no start code, or it ends
    /// right after a start code (cut before the unit the code announces).
    /// </exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryRead(out ReadOnlySpan<byte> nalUnit)
    {
        nalUnit = default;
        while (true)
        {
            if (_needStartCode)
            {
                // Skip zero_bytes (and any garbage) up to and including the next start code prefix.
                while (true)
                {
                    int sc = AnnexBStartCodes.IndexOfStartCode(_buffer.AsSpan(0, _end), _begin);
                    if (sc >= 0)
                    {
                        _begin = sc + 3;
                        break;
                    }

                    _begin = Math.Max(_begin, _end - 2);
                    if (!Fill())
                    {
                        long length = _bufferOffset + _end;
                        if (!_sawStartCode && length > 0)
                        {
                            // Bytes but no unit: not a byte stream, or one cut before its first NAL unit began.
                            throw new AvcFormatException($"no start code (00 00 01) in the stream's {length} bytes: no NAL unit to decode", length);
                        }

                        return false;
                    }
                }

                _needStartCode = false;
                _sawStartCode = true;
            }

            int next = AnnexBStartCodes.IndexOfNalEnd(_buffer.AsSpan(0, _end), _begin);
            if (next < 0 && !_eof)
            {
                if (_end - _begin > MaxNalUnitBytes)
                {
                    throw new AvcFormatException($"NAL unit longer than {MaxNalUnitBytes} bytes", _bufferOffset + _begin);
                }

                Fill();
                continue;
            }

            int start = _begin;
            int stop = next < 0 ? _end : next;
            int trimmed = stop;
            while (trimmed > start && _buffer[trimmed - 1] == 0)
            {
                trimmed--;
            }

            NalOffset = _bufferOffset + start;
            _begin = stop;
            _needStartCode = true;
            if (trimmed == start)
            {
                if (next < 0)
                {
                    throw new AvcFormatException(AnnexBStartCodes.EndsAfterStartCode, NalOffset);
                }

                continue; // an empty unit between two start codes carries nothing
            }

            if (trimmed - start > MaxNalUnitBytes)
            {
                throw new AvcFormatException($"NAL unit longer than {MaxNalUnitBytes} bytes", NalOffset);
            }

            nalUnit = RemoveEmulationPrevention(_buffer.AsSpan(start, trimmed - start));
            return true;
        }
    }

    /// <summary>Copies <paramref name="nal"/> without its emulation_prevention_three_byte bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int RemoveEmulationPrevention(ReadOnlySpan<byte> nal, Span<byte> rbsp)
    {
        // Copy runs between 00 00 03 patterns (vectorized search); the 03 after two zeros is dropped.
        ReadOnlySpan<byte> pattern = [0, 0, 3];
        int n = 0;
        while (true)
        {
            int at = nal.IndexOf(pattern);
            if (at < 0)
            {
                nal.CopyTo(rbsp[n..]);
                return n + nal.Length;
            }

            nal[..(at + 2)].CopyTo(rbsp[n..]);
            n += at + 2;
            nal = nal[(at + 3)..];
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ReadOnlySpan<byte> RemoveEmulationPrevention(ReadOnlySpan<byte> nal)
    {
        if (_rbsp.Length < nal.Length)
        {
            _rbsp = new byte[Math.Max(nal.Length, _rbsp.Length * 2)];
        }

        int n = RemoveEmulationPrevention(nal, _rbsp);
        return _rbsp.AsSpan(0, n);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Fill()
    {
        if (_eof)
        {
            return false;
        }

        if (_begin > 0)
        {
            Buffer.BlockCopy(_buffer, _begin, _buffer, 0, _end - _begin);
            _end -= _begin;
            _bufferOffset += _begin;
            _begin = 0;
        }

        if (_end == _buffer.Length)
        {
            Array.Resize(ref _buffer, _buffer.Length * 2);
        }

        int n = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (n <= 0)
        {
            _eof = true;
            return false;
        }

        _end += n;
        return true;
    }
}
