using System.Runtime.CompilerServices;
using JpegLm.Codec.Bitstream;

namespace JpegLm.Codec.Avc;

/// <summary>One reference picture list modification command (clause 7.3.3.1).</summary>
public readonly record struct RefPicListModification(int Idc, int Value);

/// <summary>One memory_management_control_operation with its operands (clause 7.3.3.3).</summary>
public readonly record struct MemoryManagementOperation(int Op, int DifferenceOfPicNums, int LongTermPicNum, int LongTermFrameIdx, int MaxLongTermFrameIdxPlus1);

/// <summary>A slice header (clause 7.3.3) for frame coding in the baseline profile.</summary>
public sealed class SliceHeader
{
    /// <summary>nal_unit_type of the slice's NAL unit (1 or 5).</summary>
    public int NalUnitType { get; set; }

    /// <summary>nal_ref_idc of the slice's NAL unit.</summary>
    public int NalRefIdc { get; set; }

    /// <summary>IdrPicFlag.</summary>
    public bool IsIdr => NalUnitType == 5;

    /// <summary>first_mb_in_slice.</summary>
    public int FirstMbInSlice { get; set; }

    /// <summary>slice_type % 5: 0 P, 1 B, 2 I, 3 SP, 4 SI.</summary>
    public int SliceType { get; set; }

    /// <summary>Whether this is an I slice.</summary>
    public bool IsIntra => SliceType == 2;

    /// <summary>pic_parameter_set_id.</summary>
    public int PpsId { get; set; }

    /// <summary>frame_num.</summary>
    public int FrameNum { get; set; }

    /// <summary>idr_pic_id.</summary>
    public int IdrPicId { get; set; }

    /// <summary>pic_order_cnt_lsb.</summary>
    public int PicOrderCntLsb { get; set; }

    /// <summary>delta_pic_order_cnt_bottom.</summary>
    public int DeltaPicOrderCntBottom { get; set; }

    /// <summary>delta_pic_order_cnt[0].</summary>
    public int DeltaPicOrderCnt0 { get; set; }

    /// <summary>delta_pic_order_cnt[1].</summary>
    public int DeltaPicOrderCnt1 { get; set; }

    /// <summary>redundant_pic_cnt.</summary>
    public int RedundantPicCnt { get; set; }

    /// <summary>num_ref_idx_l0_active_minus1 + 1.</summary>
    public int NumRefIdxL0Active { get; set; }

    /// <summary>ref_pic_list_modification commands for list 0 (idc 3 excluded).</summary>
    public List<RefPicListModification> RefPicListModifications { get; } = [];

    /// <summary>Explicit weighted prediction: luma_log2_weight_denom.</summary>
    public int LumaLog2WeightDenom { get; set; }

    /// <summary>Explicit weighted prediction: chroma_log2_weight_denom.</summary>
    public int ChromaLog2WeightDenom { get; set; }

    /// <summary>Explicit weights per reference index: luma weight, luma offset, Cb w, Cb o, Cr w, Cr o; null when not weighted.</summary>
    public int[,]? Weights { get; set; }

    /// <summary>no_output_of_prior_pics_flag.</summary>
    public bool NoOutputOfPriorPics { get; set; }

    /// <summary>long_term_reference_flag (IDR only).</summary>
    public bool LongTermReference { get; set; }

    /// <summary>adaptive_ref_pic_marking_mode_flag.</summary>
    public bool AdaptiveRefPicMarking { get; set; }

    /// <summary>The memory management operations (op 0 excluded).</summary>
    public List<MemoryManagementOperation> MemoryManagementOperations { get; } = [];

    /// <summary>Whether an operation 5 is present.</summary>
    public bool HasMmco5 => MemoryManagementOperations.Exists(o => o.Op == 5);

    /// <summary>slice_qp_delta.</summary>
    public int SliceQpDelta { get; set; }

    /// <summary>disable_deblocking_filter_idc.</summary>
    public int DisableDeblockingFilterIdc { get; set; }

    /// <summary>slice_alpha_c0_offset_div2 * 2.</summary>
    public int FilterOffsetA { get; set; }

    /// <summary>slice_beta_offset_div2 * 2.</summary>
    public int FilterOffsetB { get; set; }

    /// <summary>slice_group_change_cycle.</summary>
    public int SliceGroupChangeCycle { get; set; }

    /// <summary>Bit position where slice_data() begins.</summary>
    public long DataBitOffset { get; set; }

    /// <summary>
    /// Parses slice_header() from <paramref name="r"/> (positioned after the NAL header byte).
    /// <paramref name="ppsLookup"/> and <paramref name="spsLookup"/> resolve parameter-set ids.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static SliceHeader Parse(RbspReader r, int nalUnitType, int nalRefIdc, Func<int, PictureParameterSet?> ppsLookup, Func<int, SequenceParameterSet?> spsLookup, out PictureParameterSet pps, out SequenceParameterSet sps)
    {
        ArgumentNullException.ThrowIfNull(r);
        ArgumentNullException.ThrowIfNull(ppsLookup);
        ArgumentNullException.ThrowIfNull(spsLookup);
        var h = new SliceHeader { NalUnitType = nalUnitType, NalRefIdc = nalRefIdc };
        h.FirstMbInSlice = r.ReadUe("first_mb_in_slice", 1 << 22);
        int sliceType = r.ReadUe("slice_type", 9);
        h.SliceType = sliceType % 5;
        if (h.SliceType is not (0 or 2))
        {
            throw new AvcFormatException($"unsupported slice_type {sliceType} (only I and P slices are baseline)", -1);
        }

        if (h.IsIdr && h.SliceType != 2)
        {
            throw new AvcFormatException("IDR picture with a P slice", -1);
        }

        h.PpsId = r.ReadUe("pic_parameter_set_id", 255);
        pps = ppsLookup(h.PpsId) ?? throw new AvcFormatException($"slice refers to missing PPS {h.PpsId}", -1);
        sps = spsLookup(pps.SpsId) ?? throw new AvcFormatException($"PPS {pps.Id} refers to missing SPS {pps.SpsId}", -1);
        int picSize = sps.WidthInMbs * sps.HeightInMbs;
        if (h.FirstMbInSlice >= picSize)
        {
            throw new AvcFormatException($"first_mb_in_slice {h.FirstMbInSlice} beyond the picture's {picSize} macroblocks", -1);
        }

        h.FrameNum = (int)r.ReadBits(sps.Log2MaxFrameNum);
        if (h.IsIdr)
        {
            if (h.FrameNum != 0)
            {
                throw new AvcFormatException("IDR picture with frame_num != 0", -1);
            }

            h.IdrPicId = r.ReadUe("idr_pic_id", 65535);
        }

        if (sps.PicOrderCntType == 0)
        {
            h.PicOrderCntLsb = (int)r.ReadBits(sps.Log2MaxPicOrderCntLsb);
            if (pps.BottomFieldPicOrderInFramePresent)
            {
                h.DeltaPicOrderCntBottom = r.ReadSe();
            }
        }

        if (sps.PicOrderCntType == 1 && !sps.DeltaPicOrderAlwaysZero)
        {
            h.DeltaPicOrderCnt0 = r.ReadSe();
            if (pps.BottomFieldPicOrderInFramePresent)
            {
                h.DeltaPicOrderCnt1 = r.ReadSe();
            }
        }

        if (pps.RedundantPicCntPresent)
        {
            h.RedundantPicCnt = r.ReadUe("redundant_pic_cnt", 127);
        }

        h.NumRefIdxL0Active = pps.NumRefIdxL0DefaultActive;
        if (h.SliceType == 0)
        {
            if (r.ReadFlag())
            {
                h.NumRefIdxL0Active = r.ReadUe("num_ref_idx_l0_active_minus1", 15) + 1;
            }

            if (h.NumRefIdxL0Active > 16)
            {
                throw new AvcFormatException($"num_ref_idx_l0_active {h.NumRefIdxL0Active} exceeds 16", -1);
            }

            if (r.ReadFlag())
            {
                for (int n = 0; ; n++)
                {
                    int idc = r.ReadUe("modification_of_pic_nums_idc", 3);
                    if (idc == 3)
                    {
                        break;
                    }

                    if (n > h.NumRefIdxL0Active)
                    {
                        throw new AvcFormatException("too many reference list modifications", -1);
                    }

                    int value = idc == 2 ? r.ReadUe("long_term_pic_num", 1 << 20) : r.ReadUe("abs_diff_pic_num_minus1", sps.MaxFrameNum - 1);
                    h.RefPicListModifications.Add(new RefPicListModification(idc, value));
                }
            }

            if (pps.WeightedPred)
            {
                ParsePredWeightTable(r, h);
            }
        }

        if (nalRefIdc != 0)
        {
            ParseDecRefPicMarking(r, h);
        }

        h.SliceQpDelta = r.ReadSe();
        int qp = pps.PicInitQp + h.SliceQpDelta;
        if (qp is < 0 or > 51)
        {
            throw new AvcFormatException($"slice QP {qp} outside 0..51", -1);
        }

        if (pps.DeblockingFilterControlPresent)
        {
            h.DisableDeblockingFilterIdc = r.ReadUe("disable_deblocking_filter_idc", 2);
            if (h.DisableDeblockingFilterIdc != 1)
            {
                h.FilterOffsetA = r.ReadSe("slice_alpha_c0_offset_div2", -6, 6) * 2;
                h.FilterOffsetB = r.ReadSe("slice_beta_offset_div2", -6, 6) * 2;
            }
        }

        if (pps.NumSliceGroups > 1 && pps.SliceGroupMapType is >= 3 and <= 5)
        {
            int units = picSize;
            int bits = CeilLog2((units / pps.SliceGroupChangeRate) + (units % pps.SliceGroupChangeRate != 0 ? 1 : 0) + 1);
            h.SliceGroupChangeCycle = (int)r.ReadBits(bits);
        }

        h.DataBitOffset = r.BitPosition;
        return h;
    }

    private static int CeilLog2(int v)
    {
        int bits = 0;
        while ((1 << bits) < v)
        {
            bits++;
        }

        return bits;
    }

    private static void ParsePredWeightTable(RbspReader r, SliceHeader h)
    {
        h.LumaLog2WeightDenom = r.ReadUe("luma_log2_weight_denom", 7);
        h.ChromaLog2WeightDenom = r.ReadUe("chroma_log2_weight_denom", 7);
        var w = new int[h.NumRefIdxL0Active, 6];
        for (int i = 0; i < h.NumRefIdxL0Active; i++)
        {
            w[i, 0] = 1 << h.LumaLog2WeightDenom;
            w[i, 2] = w[i, 4] = 1 << h.ChromaLog2WeightDenom;
            if (r.ReadFlag())
            {
                w[i, 0] = r.ReadSe("luma_weight_l0", -128, 127);
                w[i, 1] = r.ReadSe("luma_offset_l0", -128, 127);
            }

            if (r.ReadFlag())
            {
                for (int c = 0; c < 2; c++)
                {
                    w[i, 2 + (2 * c)] = r.ReadSe("chroma_weight_l0", -128, 127);
                    w[i, 3 + (2 * c)] = r.ReadSe("chroma_offset_l0", -128, 127);
                }
            }
        }

        h.Weights = w;
    }

    private static void ParseDecRefPicMarking(RbspReader r, SliceHeader h)
    {
        if (h.IsIdr)
        {
            h.NoOutputOfPriorPics = r.ReadFlag();
            h.LongTermReference = r.ReadFlag();
            return;
        }

        h.AdaptiveRefPicMarking = r.ReadFlag();
        if (!h.AdaptiveRefPicMarking)
        {
            return;
        }

        for (int n = 0; ; n++)
        {
            int op = r.ReadUe("memory_management_control_operation", 6);
            if (op == 0)
            {
                break;
            }

            if (n > 64)
            {
                throw new AvcFormatException("too many memory management operations", -1);
            }

            int diff = 0, ltPicNum = 0, ltIdx = 0, maxPlus1 = 0;
            if (op is 1 or 3)
            {
                diff = r.ReadUe("difference_of_pic_nums_minus1", 1 << 20) + 1;
            }

            if (op == 2)
            {
                ltPicNum = r.ReadUe("long_term_pic_num", 1 << 20);
            }

            if (op is 3 or 6)
            {
                ltIdx = r.ReadUe("long_term_frame_idx", 15);
            }

            if (op == 4)
            {
                maxPlus1 = r.ReadUe("max_long_term_frame_idx_plus1", 16);
            }

            h.MemoryManagementOperations.Add(new MemoryManagementOperation(op, diff, ltPicNum, ltIdx, maxPlus1));
        }
    }
}
