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
}
