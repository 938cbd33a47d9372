using System.Globalization;
using System.Text;

namespace JpegLm.Codec.Imaging;

/// <summary>
/// Netpbm PGM (P5, P2) and PPM (P6, P3) reading, binary PGM/PPM writing. Maxval up to 65535 is
/// rescaled to 8 bits on read.
/// </summary>
public static class PnmCodec
{
    /// <summary>True when the data starts like a PGM or PPM file.</summary>
    public static bool IsPnm(ReadOnlySpan<byte> data) => data.Length >= 2 && data[0] == 'P' && data[1] is (byte)'2' or (byte)'3' or (byte)'5' or (byte)'6';

    /// <summary>Decodes a PGM (grey) or PPM (RGB) file.</summary>
    /// <exception cref="ImageFormatException">Malformed header or short pixel data, with the byte offset.</exception>
    public static PixelImage Read(ReadOnlySpan<byte> data, long maxPixels = PngCodec.DefaultMaxPixels)
    {
        if (!IsPnm(data))
        {
            throw new ImageFormatException("not a PGM/PPM file (expected P2, P3, P5 or P6)", 0);
        }

        char kind = (char)data[1];
        int pos = 2;
        int width = ReadHeaderNumber(data, ref pos);
        int height = ReadHeaderNumber(data, ref pos);
        int maxval = ReadHeaderNumber(data, ref pos);
        if (width < 1 || height < 1 || maxval < 1 || maxval > 65535)
        {
            throw new ImageFormatException($"bad PNM header: {width}x{height}, maxval {maxval}", pos);
        }

        if ((long)width * height > maxPixels)
        {
            throw new ImageFormatException($"image {width}x{height} exceeds the pixel limit {maxPixels}", pos);
        }

        int channels = kind is '2' or '5' ? 1 : 3;
        var image = new PixelImage(width, height, channels);
        int count = width * height * channels;
        if (kind is '5' or '6')
        {
            if (pos >= data.Length || !IsSpace(data[pos]))
            {
                throw new ImageFormatException("expected one whitespace byte after maxval", pos);
            }

            pos++;
            int bytesPerSample = maxval < 256 ? 1 : 2;
            if (data.Length - pos < (long)count * bytesPerSample)
            {
                throw new ImageFormatException($"pixel data too short: need {(long)count * bytesPerSample} bytes, have {data.Length - pos}", data.Length);
            }

            for (int i = 0; i < count; i++)
            {
                int v = bytesPerSample == 1 ? data[pos + i] : (data[pos + (2 * i)] << 8) | data[pos + (2 * i) + 1];
                image.Pixels[i] = Rescale(v, maxval, pos + (i * bytesPerSample));
            }
        }
        else
        {
            for (int i = 0; i < count; i++)
            {
                int at = pos;
                image.Pixels[i] = Rescale(ReadHeaderNumber(data, ref pos), maxval, at);
            }
        }

        return image;
    }

    /// <summary>Encodes as binary PGM (1 channel) or PPM (3 channels), maxval 255.</summary>
    public static byte[] Write(PixelImage image)
    {
        ArgumentNullException.ThrowIfNull(image);
        byte[] header = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"P{(image.Channels == 1 ? 5 : 6)}\n{image.Width} {image.Height}\n255\n"));
        byte[] file = new byte[header.Length + image.Pixels.Length];
        header.CopyTo(file, 0);
        image.Pixels.CopyTo(file, header.Length);
        return file;
    }

    private static byte Rescale(int v, int maxval, long offset)
    {
        if (v > maxval)
        {
            throw new ImageFormatException($"sample {v} exceeds maxval {maxval}", offset);
        }

        return maxval == 255 ? (byte)v : (byte)(((v * 255) + (maxval / 2)) / maxval);
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C;

    private static int ReadHeaderNumber(ReadOnlySpan<byte> data, ref int pos)
    {
        while (pos < data.Length && (IsSpace(data[pos]) || data[pos] == '#'))
        {
            if (data[pos] == '#')
            {
                while (pos < data.Length && data[pos] != '\n')
                {
                    pos++;
                }
            }
            else
            {
                pos++;
            }
        }

        long value = 0;
        int start = pos;
        while (pos < data.Length && data[pos] >= '0' && data[pos] <= '9')
        {
            value = (value * 10) + (data[pos] - '0');
            if (value > int.MaxValue)
            {
                throw new ImageFormatException("number too large in PNM file", start);
            }

            pos++;
        }

        if (pos == start)
        {
            throw new ImageFormatException("expected a decimal number", pos);
        }

        return (int)value;
    }
}
