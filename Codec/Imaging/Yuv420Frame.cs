namespace JpegLm.Codec.Imaging;

/// <summary>
/// One 8-bit planar 4:2:0 picture (Y at full size, Cb and Cr at half size rounded up), rows with no
/// padding. Used by the H.264 codec and Y4M/raw-YUV I/O.
/// </summary>
public sealed class Yuv420Frame
{
    /// <summary>Creates a frame; planes are zero-filled.</summary>
    public Yuv420Frame(int width, int height)
    {
        if (width < 1 || height < 1 || (long)width * height > 1L << 28)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"frame size {width}x{height} out of range");
        }

        Width = width;
        Height = height;
        Y = new byte[width * height];
        U = new byte[ChromaWidth * ChromaHeight];
        V = new byte[ChromaWidth * ChromaHeight];
    }

    /// <summary>Luma width in pixels.</summary>
    public int Width { get; }

    /// <summary>Luma height in pixels.</summary>
    public int Height { get; }

    /// <summary>Chroma plane width, (Width + 1) / 2.</summary>
    public int ChromaWidth => (Width + 1) / 2;

    /// <summary>Chroma plane height, (Height + 1) / 2.</summary>
    public int ChromaHeight => (Height + 1) / 2;

    /// <summary>Luma samples, row-major, stride = Width.</summary>
    public byte[] Y { get; }

    /// <summary>Cb samples, row-major, stride = ChromaWidth.</summary>
    public byte[] U { get; }

    /// <summary>Cr samples, row-major, stride = ChromaWidth.</summary>
    public byte[] V { get; }

    /// <summary>Writes the three planes one after another (raw yuv420p) to <paramref name="output"/>.</summary>
    public void WriteRaw(Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        output.Write(Y);
        output.Write(U);
        output.Write(V);
    }

    /// <summary>The luma plane as a grey image (for PSNR/SSIM of video frames).</summary>
    public PixelImage LumaImage() => new(Width, Height, 1, (byte[])Y.Clone());

    /// <summary>
    /// Converts to RGB for display (contact sheets): BT.601 limited range, as x264 and ffmpeg assume for
    /// yuv420p without colour metadata; chroma is nearest-sampled.
    /// </summary>
    public PixelImage ToRgb()
    {
        var image = new PixelImage(Width, Height, 3);
        byte[] p = image.Pixels;
        for (int y = 0; y < Height; y++)
        {
            for (int x = 0; x < Width; x++)
            {
                int c = ((y >> 1) * ChromaWidth) + (x >> 1);
                double l = 1.164 * (Y[(y * Width) + x] - 16), cb = U[c] - 128, cr = V[c] - 128;
                int o = ((y * Width) + x) * 3;
                p[o] = Clamp(l + (1.596 * cr));
                p[o + 1] = Clamp(l - (0.392 * cb) - (0.813 * cr));
                p[o + 2] = Clamp(l + (2.017 * cb));
            }
        }

        return image;
    }

    private static byte Clamp(double v) => (byte)Math.Clamp((int)Math.Round(v), 0, 255);
}
