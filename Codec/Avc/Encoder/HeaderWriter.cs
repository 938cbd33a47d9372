using JpegLm.Codec.Bitstream;

namespace JpegLm.Codec.Avc.Encoder;

/// <summary>What the encoder writes into one slice header (clause 7.3.3), baseline subset.</summary>
internal readonly record struct SliceHeaderFields(
    int FirstMb, bool Intra, bool Idr, int FrameNum, int IdrPicId, int NumRefIdxActive, int SliceQp, bool DisableDeblocking);

/// <summary>
/// Writes the sequence and picture parameter sets (7.3.2.1, 7.3.2.2) and slice headers (7.3.3) the
/// way x264 writes them for constrained baseline with POC type 2: profile 66 with
/// constraint_set0/1, log2_max_frame_num 4, VUI with timing and bitstream restriction,
/// num_ref_idx_active_override only when fewer references exist than the PPS default.
/// </summary>
internal static class HeaderWriter
{
    /// <summary>log2_max_frame_num (x264's minimum: 4).</summary>
    public const int Log2MaxFrameNum = 4;

    // Table A-1: level_idc, MaxMBPS, MaxFS, MaxDpbMbs.
    private static readonly int[,] Levels =
    {
        { 10, 1485, 99, 396 }, { 11, 3000, 396, 900 }, { 12, 6000, 396, 2376 }, { 13, 11880, 396, 2376 },
        { 20, 11880, 396, 2376 }, { 21, 19800, 792, 4752 }, { 22, 20250, 1620, 8100 }, { 30, 40500, 1620, 8100 },
        { 31, 108000, 3600, 18000 }, { 32, 216000, 5120, 20480 }, { 40, 245760, 8192, 32768 }, { 41, 245760, 8192, 32768 },
        { 42, 522240, 8704, 34816 }, { 50, 589824, 22080, 110400 }, { 51, 983040, 36864, 184320 }, { 52, 2073600, 36864, 184320 },
    };

    /// <summary>The lowest level_idc whose frame size, macroblock rate and DPB size admit the stream (as x264 picks it).</summary>
    public static int LevelIdc(int widthMbs, int heightMbs, int refs, double fps)
    {
        int fs = widthMbs * heightMbs;
        double mbps = fs * fps;
        for (int i = 0; i < Levels.GetLength(0); i++)
        {
            int maxFs = Levels[i, 2];
            double side = Math.Sqrt(maxFs * 8.0);
            if (fs <= maxFs && mbps <= Levels[i, 1] && fs * refs <= Levels[i, 3] && widthMbs <= side && heightMbs <= side)
            {
                return Levels[i, 0];
            }
        }

        return 52;
    }

    /// <summary>seq_parameter_set_rbsp() into <paramref name="w"/> (cleared first), ending with trailing bits.</summary>
    public static void WriteSps(RbspWriter w, int width, int height, AvcEncoderOptions o)
    {
        int widthMbs = (width + 15) / 16, heightMbs = (height + 15) / 16;
        w.Clear();
        w.WriteBits(66, 8); // profile_idc: Baseline
        w.WriteBits(0b11000000, 8); // constraint_set0 and set1 (constrained baseline), reserved zeros
        w.WriteBits((uint)LevelIdc(widthMbs, heightMbs, o.Refs, (double)o.FpsNumerator / o.FpsDenominator), 8);
        w.WriteUe(0); // seq_parameter_set_id
        w.WriteUe(Log2MaxFrameNum - 4);
        w.WriteUe(2); // pic_order_cnt_type: output order = decoding order
        w.WriteUe(o.Refs); // max_num_ref_frames
        w.WriteFlag(false); // gaps_in_frame_num_value_allowed_flag
        w.WriteUe(widthMbs - 1);
        w.WriteUe(heightMbs - 1);
        w.WriteFlag(true); // frame_mbs_only_flag
        w.WriteFlag(true); // direct_8x8_inference_flag
        int cropRight = ((widthMbs * 16) - width) / 2, cropBottom = ((heightMbs * 16) - height) / 2;
        bool crop = cropRight != 0 || cropBottom != 0;
        w.WriteFlag(crop);
        if (crop)
        {
            // Offsets in units of two luma samples for 4:2:0 frames (7-19, 7-20).
            w.WriteUe(0);
            w.WriteUe(cropRight);
            w.WriteUe(0);
            w.WriteUe(cropBottom);
        }

        w.WriteFlag(true); // vui_parameters_present_flag
        w.WriteFlag(false); // aspect_ratio_info_present_flag
        w.WriteFlag(false); // overscan_info_present_flag
        w.WriteFlag(false); // video_signal_type_present_flag
        w.WriteFlag(false); // chroma_loc_info_present_flag
        w.WriteFlag(true); // timing_info_present_flag
        w.WriteBits((uint)o.FpsDenominator, 32); // num_units_in_tick
        w.WriteBits((uint)o.FpsNumerator * 2, 32); // time_scale (two ticks per frame)
        w.WriteFlag(true); // fixed_frame_rate_flag
        w.WriteFlag(false); // nal_hrd_parameters_present_flag
        w.WriteFlag(false); // vcl_hrd_parameters_present_flag
        w.WriteFlag(false); // pic_struct_present_flag
        w.WriteFlag(true); // bitstream_restriction_flag
        w.WriteFlag(true); // motion_vectors_over_pic_boundaries_flag
        w.WriteUe(0); // max_bytes_per_pic_denom
        w.WriteUe(0); // max_bits_per_mb_denom
        w.WriteUe(9); // log2_max_mv_length_horizontal
        w.WriteUe(9); // log2_max_mv_length_vertical
        w.WriteUe(0); // max_num_reorder_frames
        w.WriteUe(o.Refs); // max_dec_frame_buffering
        w.WriteTrailingBits();
    }

    /// <summary>pic_parameter_set_rbsp() into <paramref name="w"/> (cleared first).</summary>
    public static void WritePps(RbspWriter w, AvcEncoderOptions o)
    {
        w.Clear();
        w.WriteUe(0); // pic_parameter_set_id
        w.WriteUe(0); // seq_parameter_set_id
        w.WriteFlag(false); // entropy_coding_mode_flag: CAVLC
        w.WriteFlag(false); // bottom_field_pic_order_in_frame_present_flag
        w.WriteUe(0); // num_slice_groups_minus1
        w.WriteUe(o.Refs - 1); // num_ref_idx_l0_default_active_minus1
        w.WriteUe(0); // num_ref_idx_l1_default_active_minus1
        w.WriteFlag(false); // weighted_pred_flag
        w.WriteBits(0, 2); // weighted_bipred_idc
        w.WriteSe(o.Qp - 26); // pic_init_qp_minus26
        w.WriteSe(0); // pic_init_qs_minus26
        w.WriteSe(0); // chroma_qp_index_offset
        w.WriteFlag(true); // deblocking_filter_control_present_flag
        w.WriteFlag(false); // constrained_intra_pred_flag
        w.WriteFlag(false); // redundant_pic_cnt_present_flag
        w.WriteTrailingBits();
    }

    /// <summary>slice_header() into <paramref name="w"/> (cleared first); <paramref name="o"/> gives the PPS defaults.</summary>
    public static void WriteSliceHeader(RbspWriter w, in SliceHeaderFields h, AvcEncoderOptions o)
    {
        w.Clear();
        w.WriteUe(h.FirstMb);
        w.WriteUe(h.Intra ? 7 : 5); // slice_type: every slice of the picture has this type
        w.WriteUe(0); // pic_parameter_set_id
        w.WriteBits((uint)h.FrameNum, Log2MaxFrameNum);
        if (h.Idr)
        {
            w.WriteUe(h.IdrPicId);
        }

        if (!h.Intra)
        {
            bool overrideRefs = h.NumRefIdxActive != o.Refs;
            w.WriteFlag(overrideRefs);
            if (overrideRefs)
            {
                w.WriteUe(h.NumRefIdxActive - 1);
            }

            w.WriteFlag(false); // ref_pic_list_modification_flag_l0
        }

        // dec_ref_pic_marking(): every picture is a reference.
        if (h.Idr)
        {
            w.WriteFlag(false); // no_output_of_prior_pics_flag
            w.WriteFlag(false); // long_term_reference_flag
        }
        else
        {
            w.WriteFlag(false); // adaptive_ref_pic_marking_mode_flag: sliding window
        }

        w.WriteSe(h.SliceQp - o.Qp);
        w.WriteUe(h.DisableDeblocking ? 1 : 0);
        if (!h.DisableDeblocking)
        {
            w.WriteSe(0); // slice_alpha_c0_offset_div2
            w.WriteSe(0); // slice_beta_offset_div2
        }
    }
}
