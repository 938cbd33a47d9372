namespace JpegLm.Codec.Imaging;

/// <summary>
/// An 8-bit image with interleaved samples: 1 channel (grey) or 3 channels (R, G, B), rows top to
/// bottom with no padding (stride = <see cref="Width"/> · <see cref="Channels"/>). The common currency
/// between the image readers/writers, the JPEG codec and data preparation.
/// </summary>
public sealed class PixelImage
{
    /// <summary>Creates a zero-filled image.</summary>
    /// <param name="width">Width in pixels, at least 1.</param>
    /// <param name="height">Height in pixels, at least 1.</param>
    /// <param name="channels">1 (grey) or 3 (RGB).</param>
    public PixelImage(int width, int height, int channels)
        : this(width, height, channels, new byte[CheckedLength(width, height, channels)])
    {
    }

    /// <summary>Wraps existing interleaved pixels (not copied).</summary>
    public PixelImage(int width, int height, int channels, byte[] pixels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        long length = CheckedLength(width, height, channels);
        if (pixels.Length != length)
        {
            throw new ArgumentException($"expected {length} bytes for {width}x{height}x{channels}, got {pixels.Length}", nameof(pixels));
        }

        Width = width;
        Height = height;
        Channels = channels;
        Pixels = pixels;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>Samples per pixel: 1 (grey) or 3 (RGB).</summary>
    public int Channels { get; }

    /// <summary>Bytes per row.</summary>
    public int Stride => Width * Channels;

    /// <summary>Interleaved samples, row-major.</summary>
    public byte[] Pixels { get; }

    /// <summary>The samples of row <paramref name="y"/>.</summary>
    public Span<byte> Row(int y) => Pixels.AsSpan(y * Stride, Stride);

    /// <summary>Returns this image as 3-channel RGB (grey is replicated; RGB is returned as is).</summary>
    public PixelImage ToRgb()
    {
        if (Channels == 3)
        {
            return this;
        }

        var rgb = new PixelImage(Width, Height, 3);
        for (int i = 0, n = Width * Height; i < n; i++)
        {
            byte v = Pixels[i];
            rgb.Pixels[3 * i] = v;
            rgb.Pixels[(3 * i) + 1] = v;
            rgb.Pixels[(3 * i) + 2] = v;
        }

        return rgb;
    }

    /// <summary>Returns this image as 1-channel grey using the JPEG/BT.601 luma weights (rounded).</summary>
    public PixelImage ToGray()
    {
        if (Channels == 1)
        {
            return this;
        }

        var gray = new PixelImage(Width, Height, 1);
        for (int i = 0, n = Width * Height; i < n; i++)
        {
            int r = Pixels[3 * i], g = Pixels[(3 * i) + 1], b = Pixels[(3 * i) + 2];
            gray.Pixels[i] = (byte)(((19595 * r) + (38470 * g) + (7471 * b) + 32768) >> 16);
        }

        return gray;
    }

    private static int CheckedLength(int width, int height, int channels)
    {
        if (width < 1 || height < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height} must be at least 1x1");
        }

        if (channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), $"channels must be 1 or 3, got {channels}");
        }

        long length = (long)width * height * channels;
        if (length > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"image {width}x{height}x{channels} is too large");
        }

        return (int)length;
    }
}
