using System.Runtime.CompilerServices;
using JpegLm.Codec.Bitstream;
using JpegLm.Codec.Imaging;

namespace JpegLm.Codec.Avc;

/// <summary>Limits and behaviour of <see cref="AvcDecoder"/>.</summary>
public sealed partial class AvcDecoderOptions
{
    /// <summary>Largest picture accepted, in macroblocks (default: 8192x4320).</summary>
    public int MaxFrameMacroblocks { get; init; } = 512 * 270;

    /// <summary>Largest NAL unit accepted, in bytes.</summary>
    public int MaxNalUnitBytes { get; init; } = 64 << 20;

    /// <summary>
    /// When true a broken slice is concealed (its macroblocks copied from the previous frame) and
    /// reported in <see cref="AvcDecoder.Errors"/>; when false it throws <see cref="AvcFormatException"/>.
    /// </summary>
    public bool Tolerant { get; init; }

    /// <summary>When true only the syntax is checked: no samples are reconstructed and no frames come out.</summary>
    public bool ParseOnly { get; init; }

    /// <summary>
    /// When true every yielded frame is the same <see cref="Yuv420Frame"/> instance, overwritten by
    /// the next one: no allocation per frame for callers that write each frame out at once.
    /// </summary>
    public bool ReuseOutputFrame { get; init; }
}

/// <summary>
/// H.264 baseline / constrained baseline decoder: reads an Annex B byte stream and yields cropped
/// 4:2:0 frames in output (picture order count) order, one at a time, holding at most the DPB.
/// </summary>
public sealed partial class AvcDecoder
{
    private readonly AvcDecoderOptions _options;
    private readonly SequenceParameterSet?[] _sps = new SequenceParameterSet?[32];
    private readonly PictureParameterSet?[] _pps = new PictureParameterSet?[256];
    private readonly RbspReader _reader = new();
    private readonly Macroblock _mb = new();
    private readonly DecodedPictureBuffer _dpb = new();
    private readonly PictureOrderCount _poc = new();
    private readonly List<SliceFilterParams> _sliceParams = [];
    private readonly List<AvcSliceError> _errors = [];
    private readonly Func<int, PictureParameterSet?> _ppsById;
    private readonly Func<int, SequenceParameterSet?> _spsById;
    private PictureState? _state;
    private Yuv420Frame? _outputFrame;
    private MacroblockLayerReader? _layer;
    private MacroblockReconstructor? _recon;
    private SequenceParameterSet? _activeSps;
    private DecodedPicture? _current;
    private DecodedPicture? _previous;
    private SliceHeader? _currentHeader;
    private SliceHeader? _lastHeader;
    private int _prevRefFrameNum;
    private int _sliceInPicture;
    private int _sliceCount = -1;
    private int _frameCount = -1;
    private int _errorsAtPictureStart;
    private long _nalOffset;

    /// <summary>Creates a decoder with default options.</summary>
    public AvcDecoder()
        : this(new AvcDecoderOptions())
    {
    }

    /// <summary>Creates a decoder.</summary>
    public AvcDecoder(AvcDecoderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _ppsById = id => _pps[id]; // made once: every slice header looks its parameter sets up
        _spsById = id => _sps[id];
    }

    /// <summary>Slices that failed (tolerant or parse-only mode).</summary>
    public IReadOnlyList<AvcSliceError> Errors => _errors;

    /// <summary>Number of slice NAL units seen.</summary>
    public int SliceCount => _sliceCount + 1;

    /// <summary>Number of pictures decoded.</summary>
    public int PictureCount => _frameCount + 1;

    /// <summary>Decodes a whole file into frames in output order.</summary>
    public static List<Yuv420Frame> DecodeFile(string path, AvcDecoderOptions? options = null)
    {
        using FileStream fs = File.OpenRead(path);
        return [.. new AvcDecoder(options ?? new AvcDecoderOptions()).Decode(fs)];
    }

    /// <summary>Decodes <paramref name="stream"/>, yielding frames in output order as soon as they are known.</summary>
    public IEnumerable<Yuv420Frame> Decode(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var nals = new AnnexBReader(stream, _options.MaxNalUnitBytes);
        while (nals.TryRead(out ReadOnlySpan<byte> nal))
        {
            _nalOffset = nals.NalOffset;
            ProcessNal(nal);
            while (_dpb.Output.Count > 0)
            {
                yield return TakeOutput();
            }
        }

        FinishPicture();
        _dpb.Flush();
        while (_dpb.Output.Count > 0)
        {
            yield return TakeOutput();
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private Yuv420Frame TakeOutput()
    {
        DecodedPicture pic = _dpb.Output.Dequeue();
        SequenceParameterSet sps = _activeSps!;
        Yuv420Frame frame = _options.ReuseOutputFrame && _outputFrame != null && _outputFrame.Width == sps.CroppedWidth && _outputFrame.Height == sps.CroppedHeight
            ? _outputFrame
            : new Yuv420Frame(sps.CroppedWidth, sps.CroppedHeight);
        _outputFrame = frame;
        (int left, _, int top, _) = sps.Crop;
        for (int y = 0; y < frame.Height; y++)
        {
            pic.Y.AsSpan(((y + top) * pic.Width) + left, frame.Width).CopyTo(frame.Y.AsSpan(y * frame.Width));
        }

        int cw = pic.Width / 2;
        for (int y = 0; y < frame.ChromaHeight; y++)
        {
            int src = ((y + (top / 2)) * cw) + (left / 2);
            pic.U.AsSpan(src, frame.ChromaWidth).CopyTo(frame.U.AsSpan(y * frame.ChromaWidth));
            pic.V.AsSpan(src, frame.ChromaWidth).CopyTo(frame.V.AsSpan(y * frame.ChromaWidth));
        }

        if (!ReferenceEquals(pic, _previous) && !ReferenceEquals(pic, _current))
        {
            _dpb.Recycle(pic);
        }

        return frame;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ProcessNal(ReadOnlySpan<byte> nal)
    {
        int header = nal[0];
        if ((header & 0x80) != 0)
        {
            var e = new AvcFormatException("forbidden_zero_bit is set", _nalOffset);
            if (_options.Tolerant || _options.ParseOnly)
            {
                // A damaged unit header: one broken patch, not an unreadable stream.
                _sliceCount++;
                Fail(e.WithPosition(_nalOffset, _frameCount, _sliceCount, -1), -1);
                return;
            }

            throw e;
        }

        int type = header & 31;
        int refIdc = (header >> 5) & 3;
        switch (type)
        {
            case (int)NalUnitType.Sps:
                _reader.Reset(nal[1..]);
                Wrap(() =>
                {
                    SequenceParameterSet sps = SequenceParameterSet.Parse(_reader, _options.MaxFrameMacroblocks);
                    _sps[sps.Id] = sps;
                });
                break;
            case (int)NalUnitType.Pps:
                _reader.Reset(nal[1..]);
                Wrap(() =>
                {
                    PictureParameterSet pps = PictureParameterSet.Parse(_reader);
                    _pps[pps.Id] = pps;
                });
                break;
            case (int)NalUnitType.Slice:
            case (int)NalUnitType.IdrSlice:
                _sliceCount++;
                _reader.Reset(nal[1..]);
                DecodeSlice(type, refIdc);
                break;
            case (int)NalUnitType.SliceDataPartitionA:
            case (int)NalUnitType.SliceDataPartitionB:
            case (int)NalUnitType.SliceDataPartitionC:
                throw new AvcFormatException("slice data partitioning (extended profile) is not supported", _nalOffset);
            case (int)NalUnitType.EndOfSequence:
            case (int)NalUnitType.EndOfStream:
                FinishPicture();
                break;
            default:
                break; // SEI, AUD, filler and reserved types carry nothing the decoder needs.
        }
    }

    private void Wrap(Action a)
    {
        try
        {
            a();
        }
        catch (AvcFormatException e)
        {
            throw e.WithPosition(_nalOffset, _frameCount, -1, -1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void DecodeSlice(int nalType, int refIdc)
    {
        SliceHeader h;
        PictureParameterSet pps;
        SequenceParameterSet sps;
        try
        {
            h = SliceHeader.Parse(_reader, nalType, refIdc, _ppsById, _spsById, out pps, out sps);
        }
        catch (AvcFormatException e)
        {
            Fail(e.WithPosition(_nalOffset, _frameCount + 1, _sliceCount, -1), -1);
            return;
        }

        if (h.RedundantPicCnt > 0)
        {
            return; // redundant slices only matter when primary ones are lost.
        }

        if (_current == null || _state == null || IsNewPicture(h))
        {
            FinishPicture();
            StartPicture(h, pps, sps);
        }

        _lastHeader = h;
        int sliceId = _sliceInPicture++;
        _sliceParams.Add(new SliceFilterParams(h.DisableDeblockingFilterIdc, h.FilterOffsetA, h.FilterOffsetB, pps.ChromaQpIndexOffset));
        int addr = h.FirstMbInSlice;
        try
        {
            SliceDecoding(h, pps, sps, sliceId, ref addr);
        }
        catch (AvcFormatException e)
        {
            // Undo the slice so concealment covers it.
            for (int i = 0; i < _state!.MbCount; i++)
            {
                if (_state.SliceId[i] == sliceId)
                {
                    _state.SliceId[i] = -1;
                }
            }

            Fail(e.WithPosition(_nalOffset + (_reader.BitPosition >> 3), _frameCount, _sliceCount, addr), h.FirstMbInSlice);
        }
    }

    private void Fail(AvcFormatException e, int firstMb, int? slice = null)
    {
        if (!_options.Tolerant && !_options.ParseOnly)
        {
            throw e;
        }

        _errors.Add(new AvcSliceError(slice ?? _sliceCount, _nalOffset, e.Reason, e.Frame, firstMb));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool IsNewPicture(SliceHeader h)
    {
        SliceHeader? p = _lastHeader;
        if (p == null)
        {
            return true;
        }

        return h.FrameNum != p.FrameNum || h.PpsId != p.PpsId || (h.NalRefIdc == 0) != (p.NalRefIdc == 0)
            || h.PicOrderCntLsb != p.PicOrderCntLsb || h.DeltaPicOrderCntBottom != p.DeltaPicOrderCntBottom
            || h.DeltaPicOrderCnt0 != p.DeltaPicOrderCnt0 || h.DeltaPicOrderCnt1 != p.DeltaPicOrderCnt1
            || h.IsIdr != p.IsIdr || (h.IsIdr && h.IdrPicId != p.IdrPicId)
            || h.FirstMbInSlice >= _state!.MbCount || _state.SliceId[h.FirstMbInSlice] >= 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void StartPicture(SliceHeader h, PictureParameterSet pps, SequenceParameterSet sps)
    {
        _frameCount++;
        if (_activeSps == null || _state == null || sps.WidthInMbs != _state.WidthInMbs || sps.HeightInMbs != _state.HeightInMbs || _activeSps.CroppedWidth != sps.CroppedWidth || _activeSps.CroppedHeight != sps.CroppedHeight)
        {
            _dpb.Flush();
            _dpb.Clear();
            _previous = null;
            _state = new PictureState(sps.WidthInMbs, sps.HeightInMbs);
            _layer = new MacroblockLayerReader(_state);
            _recon = new MacroblockReconstructor(_state);
        }

        _activeSps = sps;
        _dpb.MaxRefFrames = sps.MaxNumRefFrames;
        _dpb.ReorderDepth = sps.MaxNumReorderFrames >= 0 ? sps.MaxNumReorderFrames : sps.DpbFrames;
        _state.Reset();
        _errorsAtPictureStart = _errors.Count;
        _sliceParams.Clear();
        _sliceInPicture = 0;
        _currentHeader = h;
        _lastHeader = null;

        if (!h.IsIdr && h.FrameNum != _prevRefFrameNum && h.FrameNum != (_prevRefFrameNum + 1) % sps.MaxFrameNum)
        {
            _dpb.FillFrameNumGap(_prevRefFrameNum, h.FrameNum, sps.MaxFrameNum, _previous, sps.WidthInMbs * 16, sps.HeightInMbs * 16);
        }

        _current = _dpb.Allocate(sps.WidthInMbs * 16, sps.HeightInMbs * 16);
        _current.FrameNum = h.FrameNum;
        _current.Poc = _poc.Compute(h, sps);
        ComputeSliceGroupMap(pps, sps, h);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ComputeSliceGroupMap(PictureParameterSet pps, SequenceParameterSet sps, SliceHeader h)
    {
        byte[] map = _state!.SliceGroupMap;
        if (pps.NumSliceGroups <= 1)
        {
            Array.Clear(map);
            return;
        }

        SliceGroupMap.Build(pps, sps.WidthInMbs, sps.HeightInMbs, h.SliceGroupChangeCycle, map);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void SliceDecoding(SliceHeader h, PictureParameterSet pps, SequenceParameterSet sps, int sliceId, ref int addr)
    {
        PictureState state = _state!;
        MacroblockLayerReader layer = _layer!;
        MacroblockReconstructor recon = _recon!;
        if (h.PpsId != _currentHeader!.PpsId && pps.NumSliceGroups > 1)
        {
            ComputeSliceGroupMap(pps, sps, h);
        }

        layer.SliceId = sliceId;
        layer.IntraSlice = h.IsIntra;
        layer.NumRefIdxActive = h.NumRefIdxL0Active;
        layer.ConstrainedIntraPred = pps.ConstrainedIntraPred;
        layer.QpPred = pps.PicInitQp + h.SliceQpDelta;
        bool reconstruct = !_options.ParseOnly;
        layer.CheckIntraModes = !reconstruct;
        recon.Picture = _current!;
        recon.SliceId = sliceId;
        recon.ChromaQpOffset = pps.ChromaQpIndexOffset;
        recon.ConstrainedIntraPred = pps.ConstrainedIntraPred;
        recon.Header = h;
        if (!h.IsIntra)
        {
            // Entries past the available references are null; they only matter if a macroblock uses them
            // (reconstruction fails on it, parse-only checks it in CheckReferences).
            recon.RefList = _dpb.BuildList(h, sps.MaxFrameNum);
        }

        RbspReader r = _reader;
        bool more = true;
        int mbCount = state.MbCount;
        while (more)
        {
            if (!h.IsIntra)
            {
                int run = r.ReadUe("mb_skip_run", mbCount);
                for (int i = 0; i < run; i++)
                {
                    CheckAddress(addr, mbCount, state);
                    layer.SetSkip(_mb, addr);
                    if (reconstruct)
                    {
                        recon.Reconstruct(_mb);
                    }
                    else if (recon.RefList.Length == 0 || recon.RefList[0] == null)
                    {
                        throw new AvcFormatException("P_Skip without a reference picture", -1);
                    }

                    addr = state.NextMbAddress(addr);
                }

                if (run > 0)
                {
                    more = r.MoreRbspData();
                    if (!more)
                    {
                        break;
                    }
                }
            }

            CheckAddress(addr, mbCount, state);
            layer.Read(r, _mb, addr);
            if (reconstruct)
            {
                recon.Reconstruct(_mb);
            }
            else if (!_mb.IsIntra)
            {
                CheckReferences(_mb, recon.RefList);
            }

            layer.QpPred = _mb.QpY;
            more = r.MoreRbspData();
            addr = state.NextMbAddress(addr);
        }

        if (!r.TrailingBitsAreValid())
        {
            throw new AvcFormatException("slice data does not end with rbsp_trailing_bits", -1);
        }
    }

    private static void CheckReferences(Macroblock mb, DecodedPicture?[] list)
    {
        int parts = mb.Kind == MacroblockKind.P16x16 ? 1 : mb.Kind == MacroblockKind.P8x8 ? 4 : 2;
        for (int i = 0; i < parts; i++)
        {
            if (mb.RefIdx[i] >= list.Length || list[mb.RefIdx[i]] == null)
            {
                throw new AvcFormatException($"ref_idx_l0 {mb.RefIdx[i]} names no reference picture", -1);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CheckAddress(int addr, int mbCount, PictureState state)
    {
        if (addr >= mbCount)
        {
            throw new AvcFormatException("slice runs past the last macroblock", -1);
        }

        if (state.SliceId[addr] >= 0)
        {
            throw new AvcFormatException($"macroblock {addr} decoded twice", -1);
        }
    }
}
