using JpegLm.Codec.Bitstream;

namespace JpegLm.Codec.Avc;

/// <summary>A picture parameter set (clause 7.3.2.2), including slice-group (FMO) maps.</summary>
public sealed class PictureParameterSet
{
    /// <summary>pic_parameter_set_id (0..255).</summary>
    public int Id { get; private set; }

    /// <summary>seq_parameter_set_id.</summary>
    public int SpsId { get; private set; }

    /// <summary>bottom_field_pic_order_in_frame_present_flag.</summary>
    public bool BottomFieldPicOrderInFramePresent { get; private set; }

    /// <summary>num_slice_groups_minus1 + 1.</summary>
    public int NumSliceGroups { get; private set; } = 1;

    /// <summary>slice_group_map_type (0..6).</summary>
    public int SliceGroupMapType { get; private set; }

    /// <summary>run_length_minus1[] + 1 (map type 0).</summary>
    public int[] RunLength { get; private set; } = [];

    /// <summary>top_left[] (map type 2).</summary>
    public int[] TopLeft { get; private set; } = [];

    /// <summary>bottom_right[] (map type 2).</summary>
    public int[] BottomRight { get; private set; } = [];

    /// <summary>slice_group_change_direction_flag (map types 3..5).</summary>
    public bool SliceGroupChangeDirection { get; private set; }

    /// <summary>slice_group_change_rate_minus1 + 1 (map types 3..5).</summary>
    public int SliceGroupChangeRate { get; private set; } = 1;

    /// <summary>slice_group_id[] (map type 6).</summary>
    public int[] SliceGroupId { get; private set; } = [];

    /// <summary>num_ref_idx_l0_default_active_minus1 + 1.</summary>
    public int NumRefIdxL0DefaultActive { get; private set; }

    /// <summary>weighted_pred_flag.</summary>
    public bool WeightedPred { get; private set; }

    /// <summary>pic_init_qp_minus26 + 26.</summary>
    public int PicInitQp { get; private set; }

    /// <summary>chroma_qp_index_offset.</summary>
    public int ChromaQpIndexOffset { get; private set; }

    /// <summary>deblocking_filter_control_present_flag.</summary>
    public bool DeblockingFilterControlPresent { get; private set; }

    /// <summary>constrained_intra_pred_flag.</summary>
    public bool ConstrainedIntraPred { get; private set; }

    /// <summary>redundant_pic_cnt_present_flag.</summary>
    public bool RedundantPicCntPresent { get; private set; }

    /// <summary>Parses a PPS payload positioned after the NAL header byte.</summary>
    public static PictureParameterSet Parse(RbspReader r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var p = new PictureParameterSet
        {
            Id = r.ReadUe("pic_parameter_set_id", 255),
            SpsId = r.ReadUe("seq_parameter_set_id", 31),
        };
        if (r.ReadFlag())
        {
            throw new AvcFormatException("unsupported PPS: CABAC entropy coding (main profile)", -1);
        }

        p.BottomFieldPicOrderInFramePresent = r.ReadFlag();
        p.NumSliceGroups = r.ReadUe("num_slice_groups_minus1", 7) + 1;
        if (p.NumSliceGroups > 1)
        {
            p.SliceGroupMapType = r.ReadUe("slice_group_map_type", 6);
            switch (p.SliceGroupMapType)
            {
                case 0:
                    p.RunLength = new int[p.NumSliceGroups];
                    for (int i = 0; i < p.NumSliceGroups; i++)
                    {
                        p.RunLength[i] = r.ReadUe("run_length_minus1", 1 << 20) + 1;
                    }

                    break;
                case 2:
                    p.TopLeft = new int[p.NumSliceGroups - 1];
                    p.BottomRight = new int[p.NumSliceGroups - 1];
                    for (int i = 0; i < p.NumSliceGroups - 1; i++)
                    {
                        p.TopLeft[i] = r.ReadUe("top_left", 1 << 20);
                        p.BottomRight[i] = r.ReadUe("bottom_right", 1 << 20);
                        if (p.TopLeft[i] > p.BottomRight[i])
                        {
                            throw new AvcFormatException("slice group top_left beyond bottom_right", -1);
                        }
                    }

                    break;
                case 3:
                case 4:
                case 5:
                    p.SliceGroupChangeDirection = r.ReadFlag();
                    p.SliceGroupChangeRate = r.ReadUe("slice_group_change_rate_minus1", 1 << 20) + 1;
                    break;
                case 6:
                    int count = r.ReadUe("pic_size_in_map_units_minus1", 1 << 20) + 1;
                    int bits = 32 - System.Numerics.BitOperations.LeadingZeroCount((uint)(p.NumSliceGroups - 1));
                    p.SliceGroupId = new int[count];
                    for (int i = 0; i < count; i++)
                    {
                        p.SliceGroupId[i] = (int)r.ReadBits(bits);
                        if (p.SliceGroupId[i] >= p.NumSliceGroups)
                        {
                            throw new AvcFormatException("slice_group_id out of range", -1);
                        }
                    }

                    break;
                default:
                    break;
            }
        }

        p.NumRefIdxL0DefaultActive = r.ReadUe("num_ref_idx_l0_default_active_minus1", 31) + 1;
        r.ReadUe("num_ref_idx_l1_default_active_minus1", 31);
        p.WeightedPred = r.ReadFlag();
        r.ReadBits(2); // weighted_bipred_idc
        p.PicInitQp = r.ReadSe("pic_init_qp_minus26", -26, 25) + 26;
        r.ReadSe("pic_init_qs_minus26", -26, 25);
        p.ChromaQpIndexOffset = r.ReadSe("chroma_qp_index_offset", -12, 12);
        p.DeblockingFilterControlPresent = r.ReadFlag();
        p.ConstrainedIntraPred = r.ReadFlag();
        p.RedundantPicCntPresent = r.ReadFlag();
        if (r.MoreRbspData())
        {
            bool transform8x8 = r.ReadFlag();
            bool scaling = r.ReadFlag();
            if (transform8x8 || scaling)
            {
                throw new AvcFormatException("unsupported PPS: 8x8 transform or scaling matrices (high profile)", -1);
            }

            r.ReadSe("second_chroma_qp_index_offset", -12, 12);
        }

        return p;
    }
}
