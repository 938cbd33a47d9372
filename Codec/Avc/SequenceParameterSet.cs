using JpegLm.Codec.Bitstream;

namespace JpegLm.Codec.Avc;

/// <summary>A sequence parameter set (clause 7.3.2.1.1) with the VUI fields the decoder uses (Annex E).</summary>
public sealed class SequenceParameterSet
{
    /// <summary>profile_idc.</summary>
    public int ProfileIdc { get; private set; }

    /// <summary>level_idc.</summary>
    public int LevelIdc { get; private set; }

    /// <summary>seq_parameter_set_id (0..31).</summary>
    public int Id { get; private set; }

    /// <summary>log2_max_frame_num_minus4 + 4.</summary>
    public int Log2MaxFrameNum { get; private set; }

    /// <summary>MaxFrameNum = 2^Log2MaxFrameNum.</summary>
    public int MaxFrameNum => 1 << Log2MaxFrameNum;

    /// <summary>pic_order_cnt_type (0, 1 or 2).</summary>
    public int PicOrderCntType { get; private set; }

    /// <summary>log2_max_pic_order_cnt_lsb_minus4 + 4.</summary>
    public int Log2MaxPicOrderCntLsb { get; private set; }

    /// <summary>delta_pic_order_always_zero_flag.</summary>
    public bool DeltaPicOrderAlwaysZero { get; private set; }

    /// <summary>offset_for_non_ref_pic.</summary>
    public int OffsetForNonRefPic { get; private set; }

    /// <summary>offset_for_top_to_bottom_field.</summary>
    public int OffsetForTopToBottomField { get; private set; }

    /// <summary>offset_for_ref_frame[] (num_ref_frames_in_pic_order_cnt_cycle entries).</summary>
    public int[] OffsetForRefFrame { get; private set; } = [];

    /// <summary>max_num_ref_frames.</summary>
    public int MaxNumRefFrames { get; private set; }

    /// <summary>gaps_in_frame_num_value_allowed_flag.</summary>
    public bool GapsInFrameNumAllowed { get; private set; }

    /// <summary>pic_width_in_mbs_minus1 + 1.</summary>
    public int WidthInMbs { get; private set; }

    /// <summary>pic_height_in_map_units_minus1 + 1 (frames only: the height in macroblocks).</summary>
    public int HeightInMbs { get; private set; }

    /// <summary>Crop rectangle in luma samples: left, right, top, bottom.</summary>
    public (int Left, int Right, int Top, int Bottom) Crop { get; private set; }

    /// <summary>Width after cropping.</summary>
    public int CroppedWidth => (WidthInMbs * 16) - Crop.Left - Crop.Right;

    /// <summary>Height after cropping.</summary>
    public int CroppedHeight => (HeightInMbs * 16) - Crop.Top - Crop.Bottom;

    /// <summary>max_num_reorder_frames from the VUI, or -1 when absent.</summary>
    public int MaxNumReorderFrames { get; private set; } = -1;

    /// <summary>max_dec_frame_buffering from the VUI, or -1 when absent.</summary>
    public int MaxDecFrameBuffering { get; private set; } = -1;

    /// <summary>
    /// The number of frames the DPB holds (MaxDpbFrames, Table A-1, capped at 16), or the VUI's
    /// max_dec_frame_buffering when present.
    /// </summary>
    public int DpbFrames
    {
        get
        {
            if (MaxDecFrameBuffering >= 0)
            {
                return Math.Max(MaxDecFrameBuffering, Math.Max(1, MaxNumRefFrames));
            }

            long frameBytes = (long)WidthInMbs * HeightInMbs * 384;
            long maxDpbBytes = LevelIdc switch
            {
                9 => 152064,
                10 => 152064,
                11 => ConstraintSet3 && ProfileIdc == 66 ? 152064 : 345600,
                12 => 912384,
                13 => 912384,
                20 => 912384,
                21 => 1824768,
                22 => 3110400,
                30 => 3110400,
                31 => 6912000,
                32 => 7864320,
                40 => 12582912,
                41 => 12582912,
                42 => 13369344,
                50 => 42393600,
                51 => 70778880,
                _ => 70778880,
            };
            int frames = (int)Math.Min(16, maxDpbBytes / frameBytes);
            return Math.Max(frames, Math.Max(1, MaxNumRefFrames));
        }
    }

    private bool ConstraintSet3 { get; set; }

    /// <summary>Parses an SPS payload positioned after the NAL header byte.</summary>
    public static SequenceParameterSet Parse(RbspReader r, int maxFrameMacroblocks)
    {
        ArgumentNullException.ThrowIfNull(r);
        var s = new SequenceParameterSet { ProfileIdc = (int)r.ReadBits(8) };
        uint constraints = r.ReadBits(8);
        s.ConstraintSet3 = (constraints & 0x10) != 0;
        s.LevelIdc = (int)r.ReadBits(8);
        s.Id = r.ReadUe("seq_parameter_set_id", 31);
        if (s.ProfileIdc is 100 or 110 or 122 or 244 or 44 or 83 or 86 or 118 or 128 or 138 or 139 or 134 or 135)
        {
            int chromaFormat = r.ReadUe("chroma_format_idc", 3);
            if (chromaFormat == 3)
            {
                r.ReadFlag();
            }

            int bitDepthLuma = r.ReadUe("bit_depth_luma_minus8", 6);
            int bitDepthChroma = r.ReadUe("bit_depth_chroma_minus8", 6);
            r.ReadFlag();
            bool scaling = r.ReadFlag();
            if (chromaFormat != 1 || bitDepthLuma != 0 || bitDepthChroma != 0 || scaling)
            {
                throw new AvcFormatException("unsupported SPS: only 8-bit 4:2:0 without scaling matrices is decoded", -1);
            }
        }

        s.Log2MaxFrameNum = r.ReadUe("log2_max_frame_num_minus4", 12) + 4;
        s.PicOrderCntType = r.ReadUe("pic_order_cnt_type", 2);
        if (s.PicOrderCntType == 0)
        {
            s.Log2MaxPicOrderCntLsb = r.ReadUe("log2_max_pic_order_cnt_lsb_minus4", 12) + 4;
        }
        else if (s.PicOrderCntType == 1)
        {
            s.DeltaPicOrderAlwaysZero = r.ReadFlag();
            s.OffsetForNonRefPic = r.ReadSe();
            s.OffsetForTopToBottomField = r.ReadSe();
            int n = r.ReadUe("num_ref_frames_in_pic_order_cnt_cycle", 255);
            s.OffsetForRefFrame = new int[n];
            for (int i = 0; i < n; i++)
            {
                s.OffsetForRefFrame[i] = r.ReadSe();
            }
        }

        s.MaxNumRefFrames = r.ReadUe("max_num_ref_frames", 16);
        s.GapsInFrameNumAllowed = r.ReadFlag();
        s.WidthInMbs = r.ReadUe("pic_width_in_mbs_minus1", 1023) + 1;
        s.HeightInMbs = r.ReadUe("pic_height_in_map_units_minus1", 1023) + 1;
        bool frameMbsOnly = r.ReadFlag();
        if (!frameMbsOnly)
        {
            throw new AvcFormatException("unsupported SPS: interlaced coding (frame_mbs_only_flag = 0)", -1);
        }

        if ((long)s.WidthInMbs * s.HeightInMbs > maxFrameMacroblocks)
        {
            throw new AvcFormatException($"frame of {s.WidthInMbs}x{s.HeightInMbs} macroblocks exceeds the limit of {maxFrameMacroblocks}", -1);
        }

        r.ReadFlag(); // direct_8x8_inference_flag
        if (r.ReadFlag())
        {
            // Frame cropping in units of 2 luma samples (4:2:0 frames, Table 6-1 / equation 7-19).
            int left = r.ReadUe("frame_crop_left_offset", 8191) * 2;
            int right = r.ReadUe("frame_crop_right_offset", 8191) * 2;
            int top = r.ReadUe("frame_crop_top_offset", 8191) * 2;
            int bottom = r.ReadUe("frame_crop_bottom_offset", 8191) * 2;
            if (left + right >= s.WidthInMbs * 16 || top + bottom >= s.HeightInMbs * 16)
            {
                throw new AvcFormatException("frame cropping removes the whole picture", -1);
            }

            s.Crop = (left, right, top, bottom);
        }

        if (r.ReadFlag())
        {
            s.ParseVui(r);
        }

        return s;
    }

    // vui_parameters() (E.1.1): most fields only need skipping; the bitstream restriction gives the
    // reorder depth that output order depends on.
    private void ParseVui(RbspReader r)
    {
        if (r.ReadFlag())
        {
            if (r.ReadBits(8) == 255)
            {
                r.ReadBits(16);
                r.ReadBits(16);
            }
        }

        if (r.ReadFlag())
        {
            r.ReadFlag();
        }

        if (r.ReadFlag())
        {
            r.ReadBits(3);
            r.ReadFlag();
            if (r.ReadFlag())
            {
                r.ReadBits(24);
            }
        }

        if (r.ReadFlag())
        {
            r.ReadUe();
            r.ReadUe();
        }

        if (r.ReadFlag())
        {
            r.ReadBits(32);
            r.ReadBits(32);
            r.ReadFlag();
        }

        bool nalHrd = r.ReadFlag();
        if (nalHrd)
        {
            SkipHrd(r);
        }

        bool vclHrd = r.ReadFlag();
        if (vclHrd)
        {
            SkipHrd(r);
        }

        if (nalHrd || vclHrd)
        {
            r.ReadFlag();
        }

        r.ReadFlag(); // pic_struct_present_flag
        if (r.ReadFlag())
        {
            r.ReadFlag();
            r.ReadUe();
            r.ReadUe();
            r.ReadUe();
            r.ReadUe();
            MaxNumReorderFrames = r.ReadUe("max_num_reorder_frames", 16);
            MaxDecFrameBuffering = r.ReadUe("max_dec_frame_buffering", 16);
        }
    }

    private static void SkipHrd(RbspReader r)
    {
        int count = r.ReadUe("cpb_cnt_minus1", 31) + 1;
        r.ReadBits(8);
        for (int i = 0; i < count; i++)
        {
            r.ReadUe();
            r.ReadUe();
            r.ReadFlag();
        }

        r.ReadBits(20);
    }
}
