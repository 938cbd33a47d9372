namespace JpegLm.Codec.Jpeg;

/// <summary>
/// The geometry of one encoded frame (T.81 A.2): sampling factors, blocks per component, MCUs. Chroma
/// components are always 1x1; luma carries the frame's maximum factors, so it is never downsampled.
/// </summary>
internal sealed class JpegFrameLayout
{
    public JpegFrameLayout(int width, int height, JpegSubsampling subsampling)
    {
        Width = width;
        Height = height;
        ComponentCount = subsampling == JpegSubsampling.Gray ? 1 : 3;
        (MaxH, MaxV) = new JpegEncoderOptions { Subsampling = subsampling }.LumaSamplingFactors;
        McusAcross = DivCeil(width, 8 * MaxH);
        McusDown = DivCeil(height, 8 * MaxV);

        // A component's size in blocks (A.2.1: ceil(X · H / Hmax / 8)); for luma that is ceil(X / 8),
        // so luma blocks past it in the last MCU column/row are padding ("dummy") blocks.
        LumaWidthInBlocks = DivCeil(width, 8);
        LumaHeightInBlocks = DivCeil(height, 8);
        BlocksPerMcu = (MaxH * MaxV) + (ComponentCount == 3 ? 2 : 0);
        LumaPlaneStride = McusAcross * MaxH * 8;
        ChromaPlaneStride = McusAcross * 8;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>1 (grey) or 3 (Y, Cb, Cr).</summary>
    public int ComponentCount { get; }

    /// <summary>Luma horizontal sampling factor = the frame's maximum.</summary>
    public int MaxH { get; }

    /// <summary>Luma vertical sampling factor = the frame's maximum.</summary>
    public int MaxV { get; }

    public int McusAcross { get; }

    public int McusDown { get; }

    public int McuCount => McusAcross * McusDown;

    public int LumaWidthInBlocks { get; }

    public int LumaHeightInBlocks { get; }

    /// <summary>Luma blocks (MaxH · MaxV) plus one Cb and one Cr block when in colour.</summary>
    public int BlocksPerMcu { get; }

    /// <summary>Samples per row of the luma plane of one MCU row (padded to whole MCUs).</summary>
    public int LumaPlaneStride { get; }

    /// <summary>Samples per row of a chroma plane of one MCU row.</summary>
    public int ChromaPlaneStride { get; }

    /// <summary>Full-resolution rows per MCU row.</summary>
    public int McuHeight => 8 * MaxV;

    private static int DivCeil(int a, int b) => (a + b - 1) / b;
}
