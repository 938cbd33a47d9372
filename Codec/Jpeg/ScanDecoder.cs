using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// Decodes one scan: walks its MCUs (T.81 A.2), handles restart intervals (RSTn markers, predictor and
/// EOB-run resets, F.2.1.3.1 / G.1.2.2) and, in tolerant mode, turns a damaged interval into a reported
/// grey stretch and resynchronizes at the next restart marker. Sequential blocks are inverse-transformed
/// straight into the component planes; progressive scans update the coefficient buffers.
/// </summary>
internal sealed class ScanDecoder
{
    private readonly JpegDecodingSession _session;
    private readonly JpegFrame _frame;
    private readonly ScanHeader _scan;
    private readonly int _scanIndex;
    private readonly bool _interleaved;
    private readonly int _mcuCount;
    private readonly int _mcusWide;
    private readonly short[] _block = new short[64]; // sequential: zig-zag order as decoded
    private readonly short[] _natural = new short[64]; // the same in natural order, for the IDCT

    // With AVX-512 a block that needs the full IDCT waits (natural order, in _pendingBlock) for a second
    // one of the same MCU and table, so that both share one two-block transform; DecodeMcu flushes it.
    private readonly short[] _pendingBlock = new short[64];
    private FrameComponent? _pending;
    private int _pendingOffset;
    private int _eobRun;

    public ScanDecoder(JpegDecodingSession session, ScanHeader scan, int scanIndex)
    {
        _session = session;
        _frame = session.Frame!;
        _scan = scan;
        _scanIndex = scanIndex;
        _interleaved = scan.Components.Length > 1;
        if (_interleaved)
        {
            _mcusWide = _frame.McusWide;
            _mcuCount = _frame.McusWide * _frame.McusHigh;
        }
        else
        {
            FrameComponent c = scan.Components[0];
            _mcusWide = c.ScanBlocksWide;
            _mcuCount = c.ScanBlocksWide * c.ScanBlocksHigh;
        }
    }

    /// <summary>Decodes the entropy-coded data starting at <paramref name="start"/>; returns where marker parsing resumes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Decode(ReadOnlySpan<byte> data, int start)
    {
        int restart = _session.RestartInterval;
        bool tolerant = _session.Tolerant;
        var reader = new EntropyBitReader(data, start);
        ResetPredictors();
        int mcu = 0;
        int nextRestart = 0;
        while (mcu < _mcuCount)
        {
            int intervalStart = mcu;
            int intervalPosition = reader.Position;
            int intervalEnd = restart > 0 ? (int)Math.Min((long)mcu + restart, _mcuCount) : _mcuCount;
            bool failed = false;
            if (!tolerant)
            {
                for (; mcu < intervalEnd; mcu++)
                {
                    DecodeMcu(ref reader, mcu);
                }
            }
            else
            {
                try
                {
                    for (; mcu < intervalEnd; mcu++)
                    {
                        DecodeMcu(ref reader, mcu);
                    }
                }
                catch (JpegFormatException e)
                {
                    Damage(restart > 0 ? intervalStart : mcu, intervalEnd, e.ByteOffset, e.Reason);
                    mcu = intervalEnd;
                    failed = true;
                }
            }

            if (mcu >= _mcuCount)
            {
                break;
            }

            // A restart boundary: the next marker must be RSTn with n counting 0..7 (B.2.1).
            int markerAt = JpegMarkers.FindNext(data, reader.Position);
            byte marker = markerAt >= 0 ? data[markerAt + 1] : (byte)0;
            while (tolerant && markerAt >= 0 && marker is not (>= JpegMarkers.Rst0 and <= JpegMarkers.Rst7) && marker != JpegMarkers.Eoi)
            {
                // More MCUs are due, so no segment can start here: a damaged byte pair that looks like a
                // marker (e.g. an RSTn whose second byte became C0). Skip it and resynchronize at the next RST.
                markerAt = JpegMarkers.FindNext(data, markerAt + 2);
                marker = markerAt >= 0 ? data[markerAt + 1] : (byte)0;
            }

            bool isRst = marker is >= JpegMarkers.Rst0 and <= JpegMarkers.Rst7;
            if (tolerant && !failed && HasExtraneousData(data, ref reader, markerAt))
            {
                // The interval decoded but left data unread: its bits were not what the encoder wrote.
                Damage(intervalStart, intervalEnd, reader.Position, "restart interval has extra bytes before its RST marker (corrupt)");
                failed = true;
            }

            if (isRst && marker - JpegMarkers.Rst0 == nextRestart)
            {
                Restart(ref reader, markerAt + 2);
                nextRestart = (nextRestart + 1) & 7;
                continue;
            }

            string found = markerAt >= 0 ? JpegMarkers.Name(marker) : "the end of the data";
            if (!tolerant)
            {
                throw new JpegFormatException($"expected RST{nextRestart} after restart interval, found {found}", markerAt >= 0 ? markerAt : data.Length, mcu);
            }

            if (!isRst)
            {
                Damage(mcu, _mcuCount, markerAt >= 0 ? markerAt : data.Length, $"scan data ends early: {found} where RST{nextRestart} was expected (missing tail)");
                return markerAt >= 0 ? markerAt : data.Length;
            }

            // Resynchronize by the marker's number: RSTm ends the first interval j >= the current one
            // with j = m mod 8, so intervals in between were lost.
            int lost = (marker - JpegMarkers.Rst0 - nextRestart) & 7;
            if (!failed)
            {
                // The data decoded cleanly, so it is interval j itself: grey the lost ones and decode it again in its place.
                int j = (int)Math.Min((long)intervalStart + ((long)lost * restart), _mcuCount);
                Damage(intervalStart, j, markerAt, $"found {JpegMarkers.Name(marker)} where RST{nextRestart} was expected: {lost} interval(s) lost");
                mcu = j;
                nextRestart = (marker - JpegMarkers.Rst0) & 7;
                Restart(ref reader, intervalPosition);
                continue;
            }

            int resumeAt = (int)Math.Min((long)mcu + ((long)lost * restart), _mcuCount);
            Damage(mcu, resumeAt, markerAt, $"found {JpegMarkers.Name(marker)} where RST{nextRestart} was expected: {lost} interval(s) lost");
            mcu = resumeAt;
            nextRestart = (marker - JpegMarkers.Rst0 + 1) & 7;
            Restart(ref reader, markerAt + 2);
        }

        return reader.Position;
    }

    /// <summary>True when whole bytes other than fill bytes remain between the decoded bits and the marker.</summary>
    private static bool HasExtraneousData(ReadOnlySpan<byte> data, ref EntropyBitReader reader, int markerAt)
    {
        if (reader.BufferedDataBits >= 8)
        {
            return true;
        }

        int end = markerAt >= 0 ? markerAt : data.Length;
        return reader.Position < end && data[reader.Position..end].ContainsAnyExcept((byte)0xFF);
    }

    private void Restart(ref EntropyBitReader reader, int position)
    {
        reader.ResetAt(position);
        ResetPredictors();
    }

    private void ResetPredictors()
    {
        foreach (FrameComponent c in _scan.Components)
        {
            c.DcPredictor = 0;
        }

        _eobRun = 0;
    }

    private void Damage(int fromMcu, int toMcu, long byteOffset, string reason)
    {
        if (toMcu <= fromMcu)
        {
            return;
        }

        _session.Report(new JpegCorruptInterval(_scanIndex, fromMcu, toMcu - fromMcu, byteOffset, reason));
        for (int m = fromMcu; m < toMcu; m++)
        {
            int my = m / _mcusWide, mx = m % _mcusWide;
            if (_interleaved)
            {
                foreach (FrameComponent c in _scan.Components)
                {
                    for (int v = 0; v < c.V; v++)
                    {
                        for (int h = 0; h < c.H; h++)
                        {
                            c.MarkGrey((my * c.V) + v, (mx * c.H) + h);
                        }
                    }
                }
            }
            else
            {
                _scan.Components[0].MarkGrey(my, mx);
            }
        }
    }

    /// <summary>Inverse-transforms the block waiting for a partner on its own.</summary>
    private void FlushPending()
    {
        if (_pending is FrameComponent c)
        {
            InverseDct.Transform(_pendingBlock, c.Quant!, c.Plane.AsSpan(_pendingOffset), c.Stride);
            _pending = null;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DecodeMcu(ref EntropyBitReader reader, int mcu)
    {
        _pending = null; // a block left by an MCU that failed belongs to a damaged interval
        int my = mcu / _mcusWide, mx = mcu - (my * _mcusWide);
        if (_interleaved)
        {
            foreach (FrameComponent c in _scan.Components)
            {
                for (int v = 0; v < c.V; v++)
                {
                    for (int h = 0; h < c.H; h++)
                    {
                        DecodeBlock(ref reader, c, (my * c.V) + v, (mx * c.H) + h, mcu);
                    }
                }
            }
        }
        else
        {
            DecodeBlock(ref reader, _scan.Components[0], my, mx, mcu);
        }

        FlushPending();
        if (reader.Overran)
        {
            throw new JpegFormatException("entropy-coded data ended inside this MCU (truncated or corrupt scan)", reader.Position, mcu);
        }
    }

    /// <summary>Clears a 64-coefficient block (a fixed-size store rather than a call to a general clear).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ZeroBlock(Span<short> block)
    {
        if (block.Length != 64)
        {
            throw new ArgumentException("a block has 64 coefficients", nameof(block));
        }

        ref byte start = ref MemoryMarshal.AsBytes(block)[0];
        Unsafe.InitBlockUnaligned(ref start, 0, 128);
    }

    /// <summary>Whether any AC coefficient of the block is nonzero (flat blocks take the DC-only IDCT).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool HasAc(Span<short> block)
    {
        ref short first = ref MemoryMarshal.GetReference(block);
        Vector256<short> acMask = Vector256.Create((short)0, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
        Vector256<short> any = (Vector256.LoadUnsafe(ref first) & acMask)
            | Vector256.LoadUnsafe(ref first, 16)
            | Vector256.LoadUnsafe(ref first, 32)
            | Vector256.LoadUnsafe(ref first, 48);
        return any != Vector256<short>.Zero;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DecodeBlock(ref EntropyBitReader reader, FrameComponent c, int blockRow, int blockColumn, int mcu)
    {
        if (!_frame.Progressive)
        {
            Span<short> block = _block;
            ZeroBlock(block);
            Span<byte> output = c.Plane.AsSpan((blockRow * 8 * c.Stride) + (blockColumn * 8));
            BlockEntropyDecoder.SequentialResult result = BlockEntropyDecoder.DecodeSequential(ref reader, c, block);
            if (result != BlockEntropyDecoder.SequentialResult.Ok)
            {
                throw BlockEntropyDecoder.SequentialError(ref reader, result, mcu);
            }

            if (!HasAc(block))
            {
                InverseDct.TransformDcOnly(block[0] * c.Quant![0], output, c.Stride);
            }
            else if (!InverseDctPair.IsSupported)
            {
                JpegTables.FromZigZag(block, _natural);
                InverseDct.Transform(_natural, c.Quant!, output, c.Stride);
            }
            else if (_pending != null && (ReferenceEquals(_pending.Quant, c.Quant) || _pending.Quant.AsSpan().SequenceEqual(c.Quant)))
            {
                // A second block of the MCU with the same table: both go through one two-block IDCT.
                JpegTables.FromZigZag(block, _natural);
                InverseDctPair.Transform(_pendingBlock, _natural, c.Quant, _pending.Plane.AsSpan(_pendingOffset), _pending.Stride, output, c.Stride);
                _pending = null;
            }
            else
            {
                FlushPending();
                JpegTables.FromZigZag(block, _pendingBlock);
                _pending = c;
                _pendingOffset = (blockRow * 8 * c.Stride) + (blockColumn * 8);
            }

            return;
        }

        Span<short> coefficients = c.Coefficients.AsSpan(((blockRow * c.BlocksWide) + blockColumn) * 64, 64);
        ScanHeader s = _scan;
        if (s.Ss == 0)
        {
            if (s.Ah == 0)
            {
                BlockEntropyDecoder.DecodeDcFirst(ref reader, c, coefficients, s.Al, mcu);
            }
            else
            {
                BlockEntropyDecoder.DecodeDcRefine(ref reader, coefficients, s.Al);
            }
        }
        else if (s.Ah == 0)
        {
            BlockEntropyDecoder.DecodeAcFirst(ref reader, c.AcTable!, coefficients, s.Ss, s.Se, s.Al, ref _eobRun, mcu);
        }
        else
        {
            BlockEntropyDecoder.DecodeAcRefine(ref reader, c.AcTable!, coefficients, s.Ss, s.Se, s.Al, ref _eobRun, mcu);
        }
    }
}
