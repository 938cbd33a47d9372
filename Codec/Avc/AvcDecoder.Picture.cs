using System.Runtime.CompilerServices;

namespace JpegLm.Codec.Avc;

// Finishing a picture: gaps reported, lost macroblocks concealed, deblocking, reference marking and output.
public sealed partial class AvcDecoder
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void FinishPicture()
    {
        if (_current == null || _state == null || _currentHeader == null)
        {
            return;
        }

        DecodedPicture pic = _current;
        SliceHeader h = _currentHeader;
        _current = null;
        ReportMissingMacroblocks();
        if (!_options.ParseOnly)
        {
            Conceal(pic);
            DeblockingFilter.Filter(pic, _state, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_sliceParams));
        }

        if (h.IsIdr || h.HasMmco5)
        {
            _dpb.Flush();
        }

        _dpb.MarkAfterDecoding(h, pic, _activeSps!.MaxFrameNum);
        if (h.NalRefIdc != 0)
        {
            _prevRefFrameNum = h.HasMmco5 ? 0 : h.FrameNum;
        }

        if (h.HasMmco5)
        {
            pic.Poc = 0;
        }

        if (!_options.ParseOnly)
        {
            _dpb.AddForOutput(pic);
        }

        _previous = pic;
        _lastHeader = null;
    }

    // A picture whose slices leave macroblocks uncovered lost a slice NAL unit (or the stream was cut): that is
    // corrupt even though every slice present parsed. Reported once per picture, and only when no broken slice
    // of the picture already explains the gap.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void ReportMissingMacroblocks()
    {
        PictureState s = _state!;
        int missing = 0, first = -1;
        for (int a = 0; a < s.MbCount; a++)
        {
            if (s.SliceId[a] < 0)
            {
                missing++;
                first = first < 0 ? a : first;
            }
        }

        if (missing > 0 && _errors.Count == _errorsAtPictureStart)
        {
            var e = new AvcFormatException($"{missing} of {s.MbCount} macroblocks missing (no slice covers them; the first is {first})", _nalOffset);
            Fail(e.WithPosition(_nalOffset, _frameCount, -1, first), first, slice: -1);
        }
    }

    // Macroblocks no slice decoded (lost or broken slices) are copied from the previous frame.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Conceal(DecodedPicture pic)
    {
        PictureState s = _state!;
        int w = s.WidthInMbs;
        for (int a = 0; a < s.MbCount; a++)
        {
            if (s.SliceId[a] >= 0)
            {
                continue;
            }

            int mbx = a % w, mby = a / w;
            for (int y = 0; y < 16; y++)
            {
                int o = (((mby * 16) + y) * pic.Width) + (mbx * 16);
                if (_previous != null)
                {
                    _previous.Y.AsSpan(o, 16).CopyTo(pic.Y.AsSpan(o));
                }
                else
                {
                    pic.Y.AsSpan(o, 16).Fill(128);
                }
            }

            int cw = pic.Width / 2;
            for (int y = 0; y < 8; y++)
            {
                int o = (((mby * 8) + y) * cw) + (mbx * 8);
                if (_previous != null)
                {
                    _previous.U.AsSpan(o, 8).CopyTo(pic.U.AsSpan(o));
                    _previous.V.AsSpan(o, 8).CopyTo(pic.V.AsSpan(o));
                }
                else
                {
                    pic.U.AsSpan(o, 8).Fill(128);
                    pic.V.AsSpan(o, 8).Fill(128);
                }
            }
        }
    }
}
