namespace JpegLm.Codec.Avc.Encoder;

/// <summary>
/// A reconstructed, deblocked picture used for inter prediction, with a copy of its luma extended
/// by <see cref="Pad"/> samples of edge replication on every side. Full-sample motion search reads
/// the extended copy without bounds checks; it equals the decoder's edge clamping (8-239, 8-240).
/// </summary>
internal sealed class ReferenceFrame
{
    /// <summary>Samples of edge extension on each side.</summary>
    public const int Pad = 48;

    public ReferenceFrame(DecodedPicture picture)
    {
        Picture = picture;
        Stride = picture.Width + (2 * Pad);
        PaddedY = new byte[Stride * (picture.Height + (2 * Pad))];
        Refresh();
    }

    /// <summary>The picture as the decoder holds it.</summary>
    public DecodedPicture Picture { get; }

    /// <summary>Extended luma, row stride <see cref="Stride"/>.</summary>
    public byte[] PaddedY { get; }

    /// <summary>Row stride of <see cref="PaddedY"/>.</summary>
    public int Stride { get; }

    /// <summary>Index in <see cref="PaddedY"/> of luma sample (x, y), which may lie up to <see cref="Pad"/> outside the picture.</summary>
    public int Offset(int x, int y) => ((y + Pad) * Stride) + x + Pad;

    /// <summary>Rebuilds the extended copy from <see cref="Picture"/> (after its samples changed).</summary>
    public void Refresh()
    {
        int w = Picture.Width, h = Picture.Height;
        byte[] src = Picture.Y;
        for (int y = 0; y < h; y++)
        {
            int row = Offset(0, y);
            src.AsSpan(y * w, w).CopyTo(PaddedY.AsSpan(row));
            PaddedY.AsSpan(row - Pad, Pad).Fill(src[y * w]);
            PaddedY.AsSpan(row + w, Pad).Fill(src[(y * w) + w - 1]);
        }

        for (int y = 0; y < Pad; y++)
        {
            PaddedY.AsSpan(Offset(-Pad, 0), Stride).CopyTo(PaddedY.AsSpan(y * Stride));
            PaddedY.AsSpan(Offset(-Pad, h - 1), Stride).CopyTo(PaddedY.AsSpan(Offset(-Pad, h + y)));
        }
    }
}
