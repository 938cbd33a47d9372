namespace JpegLm.Codec.Avc.Encoder;

/// <summary>
/// Settings of <see cref="AvcEncoder"/>. The defaults are the AVC-LM paper's x264 settings:
/// constrained baseline, CAVLC, constant QP 37 (I slices 3 lower, as x264's default ipratio 1.4
/// gives), one macroblock per slice, 3 reference frames, full-pel motion search, deblocking on.
/// </summary>
public sealed record AvcEncoderOptions
{
    /// <summary>QP of P slices (0..51).</summary>
    public int Qp { get; init; } = 37;

    /// <summary>How much lower the QP of I slices is (x264: 6·log2(ipratio 1.4) ≈ 3).</summary>
    public int IntraQpOffset { get; init; } = 3;

    /// <summary>Reference frames for P slices (max_num_ref_frames, 1..16).</summary>
    public int Refs { get; init; } = 3;

    /// <summary>Macroblocks per slice; 0 means one slice per picture.</summary>
    public int SliceMaxMbs { get; init; } = 1;

    /// <summary>Distance between IDR pictures (1 = all intra).</summary>
    public int Keyint { get; init; } = 250;

    /// <summary>Refine the full-pel motion to quarter samples (x264's subme &gt; 0).</summary>
    public bool QuarterPel { get; init; }

    /// <summary>Search range of the diamond search in full samples.</summary>
    public int SearchRange { get; init; } = 16;

    /// <summary>Also try P_L0_16x8, P_L0_8x16 and P_8x8 (8x8 sub-partitions) in P slices.</summary>
    public bool InterPartitions { get; init; }

    /// <summary>Also try Intra 4x4 for macroblocks of P slices.</summary>
    public bool Intra4x4InP { get; init; }

    /// <summary>Turns the loop filter off (disable_deblocking_filter_idc = 1).</summary>
    public bool DisableDeblocking { get; init; }

    /// <summary>Frame rate written into the VUI timing info (numerator).</summary>
    public int FpsNumerator { get; init; } = 25;

    /// <summary>Frame rate written into the VUI timing info (denominator).</summary>
    public int FpsDenominator { get; init; } = 1;

    /// <summary>Throws <see cref="ArgumentException"/> when a setting is out of range.</summary>
    public void Validate()
    {
        Check(Qp is >= 0 and <= 51, "qp must be in 0..51");
        Check(Qp - IntraQpOffset is >= 0 and <= 51, "qp - intra offset must be in 0..51");
        Check(Refs is >= 1 and <= 16, "refs must be in 1..16");
        Check(SliceMaxMbs >= 0, "slice-max-mbs must be >= 0");
        Check(Keyint >= 1, "keyint must be >= 1");
        Check(SearchRange is >= 1 and <= 64, "search range must be in 1..64");
        Check(FpsNumerator > 0 && FpsDenominator > 0, "frame rate must be positive");
    }

    private static void Check(bool ok, string message)
    {
        if (!ok)
        {
            throw new ArgumentException(message);
        }
    }
}
