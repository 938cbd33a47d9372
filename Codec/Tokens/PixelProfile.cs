using System.Globalization;
using JpegLm.Codec.Imaging;

namespace JpegLm.Codec.Tokens;

/// <summary>
/// The pixel baseline (ImageGPT-style): an image is its raw 8-bit grey pixels in raster order, one byte token
/// per pixel, with no codec at all. Its canonical file is a binary PGM (<c>P5</c>), whose constant header the
/// profile strips like a JPEG profile strips its tables, so the token stream is exactly
/// <c>Width × Height</c> bytes. Used to ask whether the JPEG representation helps or hurts at equal compute.
/// </summary>
public sealed class PixelProfile : CodecProfile
{
    /// <inheritdoc/>
    [System.Text.Json.Serialization.JsonIgnore]
    public override string Codec => "pixels";

    /// <summary>Image width in pixels.</summary>
    public int Width { get; init; }

    /// <summary>Image height in pixels.</summary>
    public int Height { get; init; }

    /// <summary>Token-stream bytes of one image (one per pixel).</summary>
    public int PixelCount => Width * Height;

    /// <summary>Fashion-MNIST padded to 32x32 grey, the same canvas as <see cref="JpegProfile.FashionMnist"/>.</summary>
    public static PixelProfile FashionMnist() => new() { Name = "fashion-mnist-32-grey-pixels", Width = 32, Height = 32 };

    /// <inheritdoc/>
    public override void Validate()
    {
        if (Width is <= 0 or > 4096 || Height is <= 0 or > 4096)
        {
            throw new ArgumentException($"pixel profile size {Width}x{Height} is out of range");
        }
    }

    /// <summary>The canonical file of an image already fitted to the profile: a binary PGM.</summary>
    public byte[] Encode(PixelImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (image.Width != Width || image.Height != Height)
        {
            throw new ArgumentException($"expected a {Width}x{Height} image, got {image.Width}x{image.Height}", nameof(image));
        }

        return PnmCodec.Write(image.Channels == 1 ? image : image.ToGray());
    }

    /// <summary>Turns token-stream bytes back into the image (short streams are padded with grey, long ones cut).</summary>
    public PixelImage ToImage(ReadOnlySpan<byte> tokenBytes)
    {
        var image = new PixelImage(Width, Height, 1);
        image.Pixels.AsSpan().Fill(128);
        tokenBytes[..Math.Min(tokenBytes.Length, PixelCount)].CopyTo(image.Pixels);
        return image;
    }

    /// <inheritdoc/>
    public override byte[] ToTokenBytes(ReadOnlySpan<byte> file)
    {
        if (KeepHeaders)
        {
            return file.ToArray();
        }

        PixelImage image;
        try
        {
            image = PnmCodec.Read(file);
        }
        catch (ImageFormatException e)
        {
            throw new FormatException($"not a PGM file: {e.Message}", e);
        }

        if (image.Width != Width || image.Height != Height || image.Channels != 1)
        {
            throw new FormatException($"a {image.Width}x{image.Height}x{image.Channels} image does not fit the {Width}x{Height} grey pixel profile");
        }

        return image.Pixels;
    }

    /// <inheritdoc/>
    public override byte[] FromTokenBytes(ReadOnlySpan<byte> tokenBytes)
    {
        if (KeepHeaders)
        {
            return tokenBytes.ToArray();
        }

        if (tokenBytes.Length != PixelCount)
        {
            throw new FormatException(string.Create(CultureInfo.InvariantCulture, $"{tokenBytes.Length} pixel bytes for a {Width}x{Height} image"));
        }

        return PnmCodec.Write(ToImage(tokenBytes));
    }
}
