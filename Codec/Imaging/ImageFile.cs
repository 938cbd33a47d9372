using JpegLm.Codec.IO;
using JpegLm.Codec.Jpeg;

namespace JpegLm.Codec.Imaging;

/// <summary>
/// Reads and writes still images by content (PNG, PGM/PPM, JPEG are recognized by their first bytes, not
/// their names) and by extension on output (.png, .ppm, .pgm). Output is written atomically.
/// </summary>
public static class ImageFile
{
    /// <summary>Extensions <see cref="Load"/> is meant for (lower case, with the dot), for folder walks.</summary>
    public static IReadOnlySet<string> InputExtensions => MediaKind.StillImageExtensions;

    /// <summary>Decodes image bytes of any supported format.</summary>
    /// <exception cref="ImageFormatException">PNG/PNM malformed, or an unknown format.</exception>
    /// <exception cref="JpegFormatException">JPEG malformed.</exception>
    public static PixelImage Decode(ReadOnlySpan<byte> bytes, long maxPixels = PngCodec.DefaultMaxPixels)
    {
        // The kind comes from content only: a still image named anything is still read right.
        MediaKind? kind = MediaKind.FromContent(bytes);
        if (kind == MediaKind.Png)
        {
            return PngCodec.Read(bytes, maxPixels);
        }

        if (kind == MediaKind.Ppm || kind == MediaKind.Pgm)
        {
            return PnmCodec.Read(bytes, maxPixels);
        }

        if (kind == MediaKind.Jpeg)
        {
            return JpegDecoder.Decode(bytes, new JpegDecoderOptions { MaxPixels = maxPixels });
        }

        throw new ImageFormatException($"unknown image format{(kind == null ? "" : $" ({kind.Name})")} (expected PNG, PGM/PPM or JPEG)", 0);
    }

    /// <summary>Reads and decodes the image at <paramref name="path"/>.</summary>
    public static PixelImage Load(string path, long maxPixels = PngCodec.DefaultMaxPixels)
        => Decode(File.ReadAllBytes(path), maxPixels);

    /// <summary>Encodes <paramref name="image"/> in the format named by the extension of <paramref name="path"/>.</summary>
    /// <exception cref="ArgumentException">The extension is not .png, .ppm, .pgm or .pnm.</exception>
    public static byte[] EncodeFor(string path, PixelImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        string ext = Path.GetExtension(path).ToUpperInvariant();
        return ext switch
        {
            ".PNG" => PngCodec.Write(image),
            ".PPM" => PnmCodec.Write(image.ToRgb()),
            ".PGM" => PnmCodec.Write(image.ToGray()),
            ".PNM" => PnmCodec.Write(image),
            _ => throw new ArgumentException($"cannot write images as '{ext}' (use .png, .ppm or .pgm)", nameof(path)),
        };
    }

    /// <summary>Writes <paramref name="image"/> to <paramref name="path"/> (format by extension) via a temporary file.</summary>
    public static void Save(string path, PixelImage image) => AtomicFile.WriteAllBytes(path, EncodeFor(path, image));
}
