using JpegLm.Codec.Bitstream;

namespace JpegLm.Codec.Avc;

// The push interface the incremental AvcStreamValidator drives: NAL units fed one at a time, slices judged
// while they may still be cut short.
public sealed partial class AvcDecoder
{
    /// <summary>
    /// Feeds one NAL unit (header byte included, emulation prevention removed) that starts at
    /// <paramref name="offset"/> in the byte stream: the push form of <see cref="Decode"/> used by the
    /// incremental <see cref="AvcStreamValidator"/>. Only for <see cref="AvcDecoderOptions.ParseOnly"/> decoders,
    /// which produce no frames.
    /// </summary>
    internal void PushNal(ReadOnlySpan<byte> nal, long offset, bool mayContinue = false)
    {
        _nalOffset = offset;
        _reader.MayContinue = mayContinue;
        try
        {
            ProcessNal(nal);
        }
        finally
        {
            _reader.MayContinue = false;
        }
    }

    /// <summary>
    /// Judges a slice NAL unit that may still be cut short (a unit being written) against the current state,
    /// and undoes it: <see cref="SliceProbe.Viable"/> when it parses, or fails only by running out of bits, or
    /// parses completely as if it ended here; <see cref="SliceProbe.NeedsReplay"/> when it would start a new
    /// picture (which changes the reference buffers: the caller pushes it on a scratch copy instead).
    /// </summary>
    internal SliceProbe ProbeSlice(ReadOnlySpan<byte> nal, long offset)
    {
        SliceProbe cut = ProbeOnce(nal, offset, mayContinue: true);
        return cut == SliceProbe.Broken ? ProbeOnce(nal, offset, mayContinue: false) : cut;
    }

    private SliceProbe ProbeOnce(ReadOnlySpan<byte> nal, long offset, bool mayContinue)
    {
        int type = nal[0] & 31;
        if ((nal[0] & 0x80) != 0)
        {
            return SliceProbe.Broken;
        }

        if (type is not ((int)NalUnitType.Slice or (int)NalUnitType.IdrSlice))
        {
            return SliceProbe.Viable; // only slices are judged before they are complete
        }

        _nalOffset = offset;
        _reader.Reset(nal[1..]);
        _reader.MayContinue = mayContinue;
        SliceProbe ranOut = mayContinue ? SliceProbe.Viable : SliceProbe.Broken;
        try
        {
            SliceHeader h;
            PictureParameterSet pps;
            SequenceParameterSet sps;
            try
            {
                h = SliceHeader.Parse(_reader, type, (nal[0] >> 5) & 3, _ppsById, _spsById, out pps, out sps);
            }
            catch (AvcFormatException e)
            {
                return e.Reason == RbspReader.PastEndReason ? ranOut : SliceProbe.Broken;
            }

            if (h.RedundantPicCnt > 0)
            {
                return SliceProbe.Viable;
            }

            if (_current == null || _state == null || IsNewPicture(h))
            {
                return SliceProbe.NeedsReplay;
            }

            int sliceId = _sliceInPicture, addr = h.FirstMbInSlice;
            try
            {
                SliceDecoding(h, pps, sps, sliceId, ref addr);
                return SliceProbe.Viable;
            }
            catch (AvcFormatException e)
            {
                return e.Reason == RbspReader.PastEndReason ? ranOut : SliceProbe.Broken;
            }
            finally
            {
                for (int i = 0; i < _state.MbCount; i++)
                {
                    if (_state.SliceId[i] == sliceId)
                    {
                        _state.SliceId[i] = -1;
                    }
                }
            }
        }
        finally
        {
            _reader.MayContinue = false;
        }
    }

    /// <summary>Ends the stream for a pushed decoder: the current picture is finished (and checked for gaps).</summary>
    internal void PushEnd() => FinishPicture();
}

/// <summary>What <see cref="AvcDecoder.ProbeSlice"/> found.</summary>
internal enum SliceProbe
{
    /// <summary>The unit can still become (or already is) a valid slice.</summary>
    Viable,

    /// <summary>No continuation can make it valid.</summary>
    Broken,

    /// <summary>It starts a new picture: judge it by pushing it on a scratch decoder.</summary>
    NeedsReplay,
}
