using JpegLm.Codec.Bitstream;
using JpegLm.Codec.Imaging;

namespace JpegLm.Codec.Avc.Encoder;

/// <summary>
/// H.264 constrained-baseline encoder (CAVLC, constant QP, I and P pictures, POC type 2) writing an
/// Annex B byte stream. One picture at a time: pad the source to whole macroblocks, code each
/// macroblock in address order (a new slice NAL unit every <see cref="AvcEncoderOptions.SliceMaxMbs"/>
/// macroblocks), deblock with the decoder's filter, and keep the result as a reference in a sliding
/// window of <see cref="AvcEncoderOptions.Refs"/> frames.
/// </summary>
public sealed class AvcEncoder
{
    private readonly AvcEncoderOptions _options;
    private readonly int _widthMbs;
    private readonly int _heightMbs;
    private readonly PictureState _state;
    private readonly MacroblockWriter _writer;
    private readonly MacroblockEncoder _mbEncoder;
    private readonly RbspWriter _rbsp = new();
    private readonly List<ReferenceFrame> _references = [];
    private readonly Stack<ReferenceFrame> _spare = new();
    private readonly List<SliceFilterParams> _sliceParams = [];
    private readonly byte[] _srcY;
    private readonly byte[] _srcU;
    private readonly byte[] _srcV;
    private int _frameIndex;
    private int _frameNum;
    private int _idrCount;
    private int _pictureId;

    /// <summary>Creates an encoder for frames of <paramref name="width"/> x <paramref name="height"/>.</summary>
    public AvcEncoder(int width, int height, AvcEncoderOptions? options = null)
    {
        _options = options ?? new AvcEncoderOptions();
        _options.Validate();
        if (width < 1 || height < 1 || width > 8192 || height > 8192)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"frame size {width}x{height} out of range");
        }

        // Cropping works in units of two samples (4:2:0), so an odd size is coded one sample larger.
        Width = (width + 1) & ~1;
        Height = (height + 1) & ~1;
        _widthMbs = (Width + 15) / 16;
        _heightMbs = (Height + 15) / 16;
        _state = new PictureState(_widthMbs, _heightMbs);
        _writer = new MacroblockWriter(_state);
        _mbEncoder = new MacroblockEncoder(_state, _writer, _options);
        _srcY = new byte[_widthMbs * 16 * _heightMbs * 16];
        _srcU = new byte[_srcY.Length / 4];
        _srcV = new byte[_srcY.Length / 4];
        _mbEncoder.SourceY = _srcY;
        _mbEncoder.SourceU = _srcU;
        _mbEncoder.SourceV = _srcV;
    }

    /// <summary>Coded (cropped) width: the input width rounded up to even.</summary>
    public int Width { get; }

    /// <summary>Coded (cropped) height: the input height rounded up to even.</summary>
    public int Height { get; }

    /// <summary>Number of slice NAL units written so far.</summary>
    public int SliceCount { get; private set; }

    /// <summary>
    /// Encodes one frame and appends its NAL units to <paramref name="output"/>; returns the
    /// reconstruction (cropped to <see cref="Width"/> x <see cref="Height"/>) every decoder must produce.
    /// </summary>
    public Yuv420Frame Encode(Yuv420Frame frame, Stream output)
    {
        ArgumentNullException.ThrowIfNull(frame);
        ArgumentNullException.ThrowIfNull(output);
        if ((frame.Width + 1) / 2 * 2 != Width || (frame.Height + 1) / 2 * 2 != Height)
        {
            throw new ArgumentException($"frame {_frameIndex} is {frame.Width}x{frame.Height}, the stream is {Width}x{Height}", nameof(frame));
        }

        bool idr = _frameIndex % _options.Keyint == 0;
        if (idr)
        {
            _references.ForEach(_spare.Push);
            _references.Clear();
            _frameNum = 0;
            HeaderWriter.WriteSps(_rbsp, Width, Height, _options);
            _rbsp.WriteNalUnit(output, 3, (int)NalUnitType.Sps);
            HeaderWriter.WritePps(_rbsp, _options);
            _rbsp.WriteNalUnit(output, 3, (int)NalUnitType.Pps);
        }

        LoadSource(frame);
        ReferenceFrame current = _spare.Count > 0 ? _spare.Pop() : new ReferenceFrame(new DecodedPicture(_widthMbs * 16, _heightMbs * 16));
        current.Picture.Id = ++_pictureId;
        EncodePicture(current.Picture, idr, output);
        current.Refresh();

        _references.Insert(0, current);
        while (_references.Count > _options.Refs)
        {
            _spare.Push(_references[^1]);
            _references.RemoveAt(_references.Count - 1);
        }

        _frameNum = (_frameNum + 1) % (1 << HeaderWriter.Log2MaxFrameNum);
        _frameIndex++;
        if (idr)
        {
            _idrCount++;
        }

        return Crop(current.Picture);
    }

    /// <summary>Encodes every remaining frame of a Y4M stream to an Annex B stream; returns the reconstructions.</summary>
    public static List<Yuv420Frame> EncodeY4m(Y4mReader reader, Stream output, AvcEncoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        Y4mHeader header = reader.Header;
        options ??= new AvcEncoderOptions();
        options = options with { FpsNumerator = header.FpsNumerator, FpsDenominator = header.FpsDenominator };
        var encoder = new AvcEncoder(header.Width, header.Height, options);
        var recon = new List<Yuv420Frame>();
        while (reader.ReadFrame() is { } frame)
        {
            recon.Add(encoder.Encode(frame, output));
        }

        return recon;
    }

    private void EncodePicture(DecodedPicture pic, bool idr, Stream output)
    {
        bool intra = idr;
        int qp = intra ? _options.Qp - _options.IntraQpOffset : _options.Qp;
        int mbCount = _widthMbs * _heightMbs;
        int sliceMbs = _options.SliceMaxMbs == 0 ? mbCount : _options.SliceMaxMbs;
        int active = intra ? 0 : Math.Min(_options.Refs, _references.Count);
        _state.Reset();
        _sliceParams.Clear();
        _mbEncoder.Picture = pic;
        _mbEncoder.BeginPicture();
        _mbEncoder.Qp = qp;
        _mbEncoder.SetReferences(_references, active);
        _writer.NumRefIdxActive = active;
        var filter = new SliceFilterParams(_options.DisableDeblocking ? 1 : 0, 0, 0, 0);

        int sliceId = -1, skipRun = 0;
        for (int addr = 0; addr < mbCount; addr++)
        {
            if (addr % sliceMbs == 0)
            {
                if (sliceId >= 0)
                {
                    FinishSlice(output, intra, idr, skipRun);
                }

                sliceId++;
                skipRun = 0;
                _sliceParams.Add(filter);
                _writer.SliceId = sliceId;
                _mbEncoder.SliceId = sliceId;
                var fields = new SliceHeaderFields(addr, intra, idr, _frameNum, _idrCount & 0xFFFF, active, qp, _options.DisableDeblocking);
                HeaderWriter.WriteSliceHeader(_rbsp, fields, _options);
            }

            if (intra)
            {
                _mbEncoder.DecideIntra(addr);
            }
            else
            {
                _mbEncoder.DecideInter(addr);
            }

            Macroblock mb = _mbEncoder.Mb;
            if (mb.Kind == MacroblockKind.PSkip)
            {
                _writer.Commit(mb);
                skipRun++;
            }
            else
            {
                if (!intra)
                {
                    _rbsp.WriteUe(skipRun);
                    skipRun = 0;
                }

                _writer.Write(_rbsp, mb, intra, qp);
            }

            _mbEncoder.Reconstruct();
        }

        FinishSlice(output, intra, idr, skipRun);
        DeblockingFilter.Filter(pic, _state, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_sliceParams));
    }

    private void FinishSlice(Stream output, bool intra, bool idr, int skipRun)
    {
        if (!intra && skipRun > 0)
        {
            _rbsp.WriteUe(skipRun);
        }

        _rbsp.WriteTrailingBits();
        _rbsp.WriteNalUnit(output, idr ? 3 : 2, idr ? (int)NalUnitType.IdrSlice : (int)NalUnitType.Slice);
        SliceCount++;
    }

    // Copies the frame into the macroblock-aligned source planes, repeating the last row and column.
    private void LoadSource(Yuv420Frame frame)
    {
        Pad(frame.Y, frame.Width, frame.Height, _srcY, _widthMbs * 16, _heightMbs * 16);
        Pad(frame.U, frame.ChromaWidth, frame.ChromaHeight, _srcU, _widthMbs * 8, _heightMbs * 8);
        Pad(frame.V, frame.ChromaWidth, frame.ChromaHeight, _srcV, _widthMbs * 8, _heightMbs * 8);
    }

    private static void Pad(byte[] src, int w, int h, byte[] dst, int dw, int dh)
    {
        for (int y = 0; y < dh; y++)
        {
            int sy = Math.Min(y, h - 1);
            src.AsSpan(sy * w, w).CopyTo(dst.AsSpan(y * dw));
            dst.AsSpan((y * dw) + w, dw - w).Fill(src[(sy * w) + w - 1]);
        }
    }

    private Yuv420Frame Crop(DecodedPicture pic)
    {
        var frame = new Yuv420Frame(Width, Height);
        for (int y = 0; y < Height; y++)
        {
            pic.Y.AsSpan(y * pic.Width, Width).CopyTo(frame.Y.AsSpan(y * Width));
        }

        int cw = pic.Width / 2;
        for (int y = 0; y < frame.ChromaHeight; y++)
        {
            pic.U.AsSpan(y * cw, frame.ChromaWidth).CopyTo(frame.U.AsSpan(y * frame.ChromaWidth));
            pic.V.AsSpan(y * cw, frame.ChromaWidth).CopyTo(frame.V.AsSpan(y * frame.ChromaWidth));
        }

        return frame;
    }
}
