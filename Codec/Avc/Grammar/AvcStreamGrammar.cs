using JpegLm.Codec.Bitstream;
using JpegLm.Codec.Tokens;

namespace JpegLm.Codec.Avc.Grammar;

/// <summary>
/// The immutable part of the token-level H.264 grammar, shared by every <see cref="AvcStreamState"/>: the
/// settings of an AVC-LM profile read from its own SPS and PPS, how many pictures a stream must and may hold,
/// and the cost tables of the shortest completion.
/// <para>The grammar is the profile's syntax, which is narrower than H.264's: the slices the profile's encoder
/// writes (one macroblock each, in raster order, CAVLC; the first picture IDR, the rest P; every picture a
/// reference with sliding-window marking, no reordering), with every value element free within what keeps the
/// stream valid: slice_qp_delta, the deblocking controls, the reference count override, skip or code, I_4x4 /
/// I_16x16 / P_L0_16x16, intra modes that use no unavailable sample (neighbours in other slices are
/// unavailable, so Intra_16x16 and chroma must predict DC), coded_block_pattern, mb_qp_delta −26..25, ref_idx
/// below the references that exist, motion vector differences within the SPS's log2_max_mv_length and the
/// level's vertical range (the predictor is zero with no neighbours), and any CAVLC residual with
/// level_prefix ≤ 15 (Baseline). Not written: P_L0_16x8/8x16/8x8 partitions, I_PCM, slice data partitioning,
/// reordering commands, long-term references.</para>
/// </summary>
public sealed class AvcStreamGrammar
{
    /// <summary>log2_max_mv_length_horizontal / _vertical of every profile SPS (<see cref="Avc.Encoder.HeaderWriter"/>'s VUI).</summary>
    private const int Log2MaxMvLength = 9;

    private readonly long[][] _fromSlice; // [picture][mb]: bytes of slices mb.. of the picture, canonical
    private readonly long[] _fromPicture; // [picture]: bytes of whole pictures from this one until MinPictures

    /// <summary>Builds the grammar of <paramref name="profile"/>'s token streams holding <paramref name="minPictures"/>..<paramref name="maxPictures"/> whole pictures.</summary>
    /// <exception cref="NotSupportedException">The profile's parameter sets use features outside the grammar.</exception>
    public AvcStreamGrammar(AvcProfile profile, int minPictures, int maxPictures)
    {
        ArgumentNullException.ThrowIfNull(profile);
        if (minPictures < 1 || maxPictures < minPictures)
        {
            throw new ArgumentException($"pictures must satisfy 1 <= min ({minPictures}) <= max ({maxPictures})");
        }

        KeepsHeaders = profile.KeepHeaders;
        SequenceParameterSet? sps = null;
        PictureParameterSet? pps = null;
        var reader = new AnnexBReader(new MemoryStream(Convert.FromHexString(profile.ParameterSetsHex)));
        while (reader.TryRead(out ReadOnlySpan<byte> nal))
        {
            var r = new RbspReader(nal[1..]);
            switch (nal[0] & 31)
            {
                case 7:
                    sps = SequenceParameterSet.Parse(r, 1 << 20);
                    break;
                case 8:
                    pps = PictureParameterSet.Parse(r);
                    break;
            }
        }

        if (sps == null || pps == null)
        {
            throw new NotSupportedException($"profile '{profile.Name}': its parameter sets lack an SPS or a PPS");
        }

        if (sps.PicOrderCntType != 2 || pps.NumSliceGroups != 1 || pps.WeightedPred || pps.RedundantPicCntPresent || pps.BottomFieldPicOrderInFramePresent || pps.ConstrainedIntraPred)
        {
            throw new NotSupportedException($"profile '{profile.Name}': the token grammar covers POC type 2, one slice group, no weighted prediction, no redundant pictures, no constrained intra prediction");
        }

        var encoder = profile.EncoderOptions();
        if (maxPictures > encoder.Keyint)
        {
            throw new NotSupportedException($"profile '{profile.Name}': more than {encoder.Keyint} pictures would need a second IDR picture");
        }

        WidthInMbs = sps.WidthInMbs;
        HeightInMbs = sps.HeightInMbs;
        Log2MaxFrameNum = sps.Log2MaxFrameNum;
        MaxRefFrames = sps.MaxNumRefFrames;
        DefaultActiveRefs = pps.NumRefIdxL0DefaultActive;
        PicInitQp = pps.PicInitQp;
        DeblockingControl = pps.DeblockingFilterControlPresent;
        MinPictures = minPictures;
        MaxPictures = maxPictures;
        MvdHorizontal = 1 << Log2MaxMvLength;
        MvdVertical = Math.Min(1 << Log2MaxMvLength, 4 * (sps.LevelIdc <= 10 ? 64 : sps.LevelIdc <= 20 ? 128 : sps.LevelIdc <= 30 ? 256 : 512));

        _fromSlice = new long[maxPictures][];
        long largestSlice = 0;
        _fromPicture = new long[maxPictures + 1];
        for (int p = maxPictures - 1; p >= 0; p--)
        {
            _fromSlice[p] = new long[MacroblocksPerPicture + 1];
            for (int mb = MacroblocksPerPicture - 1; mb >= 0; mb--)
            {
                _fromSlice[p][mb] = _fromSlice[p][mb + 1] + AvcStreamState.CanonicalSliceBytes(this, p, mb);
            }

            _fromPicture[p] = p >= minPictures ? 0 : _fromSlice[p][0] + _fromPicture[p + 1];
            LargestPicture = Math.Max(LargestPicture, _fromSlice[p][0]);
            for (int mb = 0; mb < MacroblocksPerPicture; mb++)
            {
                largestSlice = Math.Max(largestSlice, _fromSlice[p][mb] - _fromSlice[p][mb + 1]);
            }
        }

        // What the canonical completion of a slice in flight can add to a fresh slice's: the rest of an element
        // (at most a 61-bit Exp-Golomb code), of a CAVLC block (16 levels of at most 13 bits, total_zeros and 14
        // run_before codes of at most 11 bits) and 26 coeff_tokens of at most 6 bits, each byte possibly escaped.
        SliceSlack = (2 * largestSlice) + (3 * ((61 + (16 * 13) + 9 + (14 * 11) + (26 * 6) + 7) / 8) / 2) + 8;
    }

    /// <summary>Bytes the canonical completion of a slice in flight can exceed the remaining slices' canonical cost by, at most.</summary>
    internal long SliceSlack { get; }

    /// <summary>The canonical bytes of the costliest picture.</summary>
    internal long LargestPicture { get; }

    /// <summary>Whether token streams keep the parameter sets (then they are the first bytes of every stream).</summary>
    public bool KeepsHeaders { get; }

    /// <summary>Picture width in macroblocks.</summary>
    public int WidthInMbs { get; }

    /// <summary>Picture height in macroblocks.</summary>
    public int HeightInMbs { get; }

    /// <summary>Macroblocks (= slices) per picture.</summary>
    public int MacroblocksPerPicture => WidthInMbs * HeightInMbs;

    /// <summary>log2_max_frame_num.</summary>
    public int Log2MaxFrameNum { get; }

    /// <summary>max_num_ref_frames (the sliding window).</summary>
    public int MaxRefFrames { get; }

    /// <summary>num_ref_idx_l0_default_active_minus1 + 1.</summary>
    public int DefaultActiveRefs { get; }

    /// <summary>pic_init_qp.</summary>
    public int PicInitQp { get; }

    /// <summary>deblocking_filter_control_present_flag.</summary>
    public bool DeblockingControl { get; }

    /// <summary>Whole pictures a stream must hold before it may end.</summary>
    public int MinPictures { get; }

    /// <summary>Pictures a stream may hold at most.</summary>
    public int MaxPictures { get; }

    /// <summary>Horizontal motion vector components lie in [−this, this − 1] quarter samples.</summary>
    public int MvdHorizontal { get; }

    /// <summary>Vertical motion vector components lie in [−this, this − 1] quarter samples.</summary>
    public int MvdVertical { get; }

    /// <summary>Reference pictures that exist when picture <paramref name="picture"/> is decoded (all pictures are references).</summary>
    public int AvailableRefs(int picture) => Math.Min(picture, MaxRefFrames);

    /// <summary>frame_num of picture <paramref name="picture"/> (the IDR picture is 0, each reference adds one).</summary>
    public int FrameNum(int picture) => picture & ((1 << Log2MaxFrameNum) - 1);

    /// <summary>Bytes of the canonical completion from a start code before slice <paramref name="mb"/> of <paramref name="picture"/> to the end of that picture.</summary>
    internal long FromSlice(int picture, int mb) => picture < MaxPictures ? _fromSlice[picture][Math.Min(mb, MacroblocksPerPicture)] : 0;

    /// <summary>Bytes of the whole pictures from <paramref name="picture"/> on that a stream still needs to reach <see cref="MinPictures"/>.</summary>
    internal long FromPicture(int picture) => picture >= MinPictures ? 0 : _fromPicture[picture];
}
