namespace JpegLm.Codec.Avc;

/// <summary>Picture order count decoding (clause 8.2.1) for frames, all three types, with its carried state.</summary>
internal sealed class PictureOrderCount
{
    private int _prevPocMsb;
    private int _prevPocLsb;
    private int _prevFrameNumOffset;
    private int _prevFrameNum;

    /// <summary>Computes PicOrderCnt of the current frame (Min(Top, Bottom)) and updates the carried state.</summary>
    public int Compute(SliceHeader h, SequenceParameterSet sps)
    {
        int top, bottom;
        int frameNumOffset = 0;
        if (sps.PicOrderCntType == 0)
        {
            if (h.IsIdr)
            {
                _prevPocMsb = 0;
                _prevPocLsb = 0;
            }

            int maxLsb = 1 << sps.Log2MaxPicOrderCntLsb;
            int lsb = h.PicOrderCntLsb;
            int msb = lsb < _prevPocLsb && _prevPocLsb - lsb >= maxLsb / 2 ? _prevPocMsb + maxLsb
                : lsb > _prevPocLsb && lsb - _prevPocLsb > maxLsb / 2 ? _prevPocMsb - maxLsb
                : _prevPocMsb;
            top = msb + lsb;
            bottom = top + h.DeltaPicOrderCntBottom;
            if (h.NalRefIdc != 0)
            {
                _prevPocMsb = msb;
                _prevPocLsb = lsb;
            }
        }
        else
        {
            if (h.IsIdr)
            {
                frameNumOffset = 0;
            }
            else
            {
                frameNumOffset = _prevFrameNum > h.FrameNum ? _prevFrameNumOffset + sps.MaxFrameNum : _prevFrameNumOffset;
            }

            if (sps.PicOrderCntType == 1)
            {
                int n = sps.OffsetForRefFrame.Length;
                int abs = n != 0 ? frameNumOffset + h.FrameNum : 0;
                if (h.NalRefIdc == 0 && abs > 0)
                {
                    abs--;
                }

                int expected = 0;
                if (abs > 0)
                {
                    int cycle = (abs - 1) / n, inCycle = (abs - 1) % n;
                    int deltaPerCycle = 0;
                    foreach (int o in sps.OffsetForRefFrame)
                    {
                        deltaPerCycle += o;
                    }

                    expected = cycle * deltaPerCycle;
                    for (int i = 0; i <= inCycle; i++)
                    {
                        expected += sps.OffsetForRefFrame[i];
                    }
                }

                if (h.NalRefIdc == 0)
                {
                    expected += sps.OffsetForNonRefPic;
                }

                top = expected + h.DeltaPicOrderCnt0;
                bottom = top + sps.OffsetForTopToBottomField + h.DeltaPicOrderCnt1;
            }
            else
            {
                int temp = h.IsIdr ? 0 : h.NalRefIdc == 0 ? (2 * (frameNumOffset + h.FrameNum)) - 1 : 2 * (frameNumOffset + h.FrameNum);
                top = bottom = temp;
            }

            _prevFrameNumOffset = frameNumOffset;
            _prevFrameNum = h.FrameNum;
        }

        int poc = Math.Min(top, bottom);
        if (h.HasMmco5)
        {
            // After memory_management_control_operation 5 the picture counts as POC 0 / frame_num 0 (8.2.1).
            int tempPoc = poc;
            _prevPocMsb = 0;
            _prevPocLsb = top - tempPoc;
            _prevFrameNumOffset = 0;
            _prevFrameNum = 0;
            poc = 0;
        }

        return poc;
    }
}
