using System.Buffers.Binary;
using System.IO.Compression;

namespace JpegLm.Codec.Imaging;

/// <summary>
/// PNG reading and writing (ISO/IEC 15948) through the BCL's zlib. Reads every standard colour type
/// and bit depth (grey 1–16, RGB 8/16, palette 1–8, grey+alpha, RGBA), interlaced or not. Alpha is
/// dropped (as Pillow's <c>convert("RGB")</c> does), since JPEG has none; 16-bit samples are rounded
/// to 8 bits. Writes 8-bit grey or RGB.
/// </summary>
public static class PngCodec
{
    private static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Default bound on decoded pixels (width · height) to keep memory bounded on hostile files.</summary>
    public const long DefaultMaxPixels = 1L << 28;

    /// <summary>True when <paramref name="data"/> starts with the PNG signature.</summary>
    public static bool IsPng(ReadOnlySpan<byte> data) => data.StartsWith(Signature);

    /// <summary>Decodes a PNG to 8-bit grey (grey and grey+alpha inputs) or RGB (all others).</summary>
    /// <exception cref="ImageFormatException">The file is malformed, with the byte offset.</exception>
    public static PixelImage Read(ReadOnlySpan<byte> png, long maxPixels = DefaultMaxPixels)
    {
        if (!IsPng(png))
        {
            throw new ImageFormatException("not a PNG file (bad signature)", 0);
        }

        int pos = 8;
        int width = 0, height = 0, bitDepth = 0, colorType = -1, interlace = 0;
        byte[]? palette = null;
        using var idat = new MemoryStream();
        bool sawEnd = false;
        while (!sawEnd)
        {
            if (pos + 12 > png.Length)
            {
                throw new ImageFormatException("truncated chunk header (no IEND)", pos);
            }

            uint length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            if (length > int.MaxValue || pos + 12L + length > png.Length)
            {
                throw new ImageFormatException($"chunk length {length} runs past the end of the file", pos);
            }

            ReadOnlySpan<byte> type = png.Slice(pos + 4, 4);
            ReadOnlySpan<byte> body = png.Slice(pos + 8, (int)length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 8 + (int)length)..]);
            if (crc != Crc32(png.Slice(pos + 4, 4 + (int)length)))
            {
                throw new ImageFormatException($"CRC mismatch in chunk {System.Text.Encoding.ASCII.GetString(type)}", pos);
            }

            if (type.SequenceEqual("IHDR"u8))
            {
                if (length != 13)
                {
                    throw new ImageFormatException("IHDR must be 13 bytes", pos);
                }

                width = checked((int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(body), int.MaxValue));
                height = checked((int)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(body[4..]), int.MaxValue));
                bitDepth = body[8];
                colorType = body[9];
                interlace = body[12];
                if (width == 0 || height == 0)
                {
                    throw new ImageFormatException($"zero image size {width}x{height}", pos + 8);
                }

                if ((long)width * height > maxPixels)
                {
                    throw new ImageFormatException($"image {width}x{height} exceeds the pixel limit {maxPixels}", pos + 8);
                }

                bool okDepth = colorType switch
                {
                    0 => bitDepth is 1 or 2 or 4 or 8 or 16,
                    3 => bitDepth is 1 or 2 or 4 or 8,
                    2 or 4 or 6 => bitDepth is 8 or 16,
                    _ => false,
                };
                if (!okDepth || body[10] != 0 || body[11] != 0 || interlace > 1)
                {
                    throw new ImageFormatException($"unsupported IHDR: colour type {colorType}, depth {bitDepth}, compression {body[10]}, filter {body[11]}, interlace {interlace}", pos + 8);
                }
            }
            else if (type.SequenceEqual("PLTE"u8))
            {
                if (length % 3 != 0 || length > 768)
                {
                    throw new ImageFormatException("bad PLTE length", pos);
                }

                palette = body.ToArray();
            }
            else if (type.SequenceEqual("IDAT"u8))
            {
                if (colorType < 0)
                {
                    throw new ImageFormatException("IDAT before IHDR", pos);
                }

                idat.Write(body);
            }
            else if (type.SequenceEqual("IEND"u8))
            {
                sawEnd = true;
            }
            else if ((type[0] & 0x20) == 0)
            {
                throw new ImageFormatException($"unknown critical chunk {System.Text.Encoding.ASCII.GetString(type)}", pos);
            }

            pos += 12 + (int)length;
        }

        if (colorType < 0)
        {
            throw new ImageFormatException("no IHDR chunk", 8);
        }

        if (colorType == 3 && palette == null)
        {
            throw new ImageFormatException("palette image without PLTE", 8);
        }

        int samples = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        int bitsPerPixel = samples * bitDepth;
        int bytesPerPixel = Math.Max(1, bitsPerPixel / 8);
        int outChannels = colorType is 0 or 4 ? 1 : 3;
        var image = new PixelImage(width, height, outChannels);

        idat.Position = 0;
        using var z = new ZLibStream(idat, CompressionMode.Decompress);
        var unpacker = new RowUnpacker(colorType, bitDepth, samples, palette, image);
        int[] passX = interlace == 1 ? [0, 4, 0, 2, 0, 1, 0] : [0];
        int[] passY = interlace == 1 ? [0, 0, 4, 0, 2, 0, 1] : [0];
        int[] stepX = interlace == 1 ? [8, 8, 4, 4, 2, 2, 1] : [1];
        int[] stepY = interlace == 1 ? [8, 8, 8, 4, 4, 2, 2] : [1];
        for (int p = 0; p < passX.Length; p++)
        {
            int pw = (width - passX[p] + stepX[p] - 1) / stepX[p];
            int ph = (height - passY[p] + stepY[p] - 1) / stepY[p];
            if (pw <= 0 || ph <= 0)
            {
                continue;
            }

            int rowBytes = checked((int)(((long)pw * bitsPerPixel + 7) / 8));
            byte[] prev = new byte[rowBytes], cur = new byte[rowBytes];
            for (int r = 0; r < ph; r++)
            {
                int filter = z.ReadByte();
                if (filter < 0 || z.ReadAtLeast(cur, rowBytes, throwOnEndOfStream: false) < rowBytes)
                {
                    throw new ImageFormatException($"image data ends early (pass {p}, row {r})", pos);
                }

                Unfilter(filter, cur, prev, bytesPerPixel, pos);
                unpacker.Store(cur, pw, passX[p], stepX[p], passY[p] + (r * stepY[p]));
                (prev, cur) = (cur, prev);
            }
        }

        return image;
    }

    /// <summary>Encodes 8-bit grey or RGB as a PNG (filter chosen per row by the minimum-sum heuristic).</summary>
    public static byte[] Write(PixelImage image, CompressionLevel level = CompressionLevel.Optimal)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var output = new MemoryStream();
        output.Write(Signature);
        Span<byte> ihdr = stackalloc byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, (uint)image.Width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr[4..], (uint)image.Height);
        ihdr[8] = 8;
        ihdr[9] = (byte)(image.Channels == 1 ? 0 : 2);
        ihdr[10] = ihdr[11] = ihdr[12] = 0;
        WriteChunk(output, "IHDR"u8, ihdr);

        using (var compressed = new MemoryStream())
        {
            using (var z = new ZLibStream(compressed, level, leaveOpen: true))
            {
                int stride = image.Stride, bpp = image.Channels;
                byte[] prev = new byte[stride], best = new byte[stride], trial = new byte[stride];
                for (int y = 0; y < image.Height; y++)
                {
                    ReadOnlySpan<byte> row = image.Row(y);
                    int bestFilter = 0;
                    long bestSum = long.MaxValue;
                    for (int f = 0; f < 5; f++)
                    {
                        Filter(f, row, prev, bpp, trial);
                        long sum = 0;
                        foreach (byte b in trial)
                        {
                            sum += (sbyte)b < 0 ? -(sbyte)b : b;
                        }

                        if (sum < bestSum)
                        {
                            bestSum = sum;
                            bestFilter = f;
                            (best, trial) = (trial, best);
                        }
                    }

                    z.WriteByte((byte)bestFilter);
                    z.Write(best);
                    row.CopyTo(prev);
                }
            }

            WriteChunk(output, "IDAT"u8, compressed.GetBuffer().AsSpan(0, (int)compressed.Length));
        }

        WriteChunk(output, "IEND"u8, []);
        return output.ToArray();
    }

    private static void Filter(int filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> prev, int bpp, Span<byte> dst)
    {
        for (int i = 0; i < row.Length; i++)
        {
            int a = i >= bpp ? row[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
            int predictor = filter switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) >> 1, _ => Paeth(a, b, c) };
            dst[i] = (byte)(row[i] - predictor);
        }
    }

    private static void Unfilter(int filter, Span<byte> cur, ReadOnlySpan<byte> prev, int bpp, long offset)
    {
        switch (filter)
        {
            case 0:
                break;
            case 1:
                for (int i = bpp; i < cur.Length; i++)
                {
                    cur[i] += cur[i - bpp];
                }

                break;
            case 2:
                for (int i = 0; i < cur.Length; i++)
                {
                    cur[i] += prev[i];
                }

                break;
            case 3:
                for (int i = 0; i < cur.Length; i++)
                {
                    int a = i >= bpp ? cur[i - bpp] : 0;
                    cur[i] += (byte)((a + prev[i]) >> 1);
                }

                break;
            case 4:
                for (int i = 0; i < cur.Length; i++)
                {
                    int a = i >= bpp ? cur[i - bpp] : 0, c = i >= bpp ? prev[i - bpp] : 0;
                    cur[i] += (byte)Paeth(a, prev[i], c);
                }

                break;
            default:
                throw new ImageFormatException($"unknown PNG row filter {filter}", offset);
        }
    }

    private static int Paeth(int a, int b, int c)
    {
        int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
        return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
    }

    private static void WriteChunk(Stream output, ReadOnlySpan<byte> type, ReadOnlySpan<byte> body)
    {
        Span<byte> header = stackalloc byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)body.Length);
        type.CopyTo(header[4..]);
        output.Write(header);
        output.Write(body);
        uint crc = Crc32Update(Crc32Update(0xFFFFFFFFu, type), body) ^ 0xFFFFFFFFu;
        Span<byte> crcBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc);
        output.Write(crcBytes);
    }

    private static readonly uint[] CrcTable = MakeCrcTable();

    private static uint[] MakeCrcTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            t[n] = c;
        }

        return t;
    }

    private static uint Crc32(ReadOnlySpan<byte> data) => Crc32Update(0xFFFFFFFFu, data) ^ 0xFFFFFFFFu;

    private static uint Crc32Update(uint crc, ReadOnlySpan<byte> data)
    {
        foreach (byte b in data)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    /// <summary>Turns one unfiltered row of any PNG pixel format into 8-bit grey/RGB pixels of the output image.</summary>
    private sealed class RowUnpacker(int colorType, int bitDepth, int samples, byte[]? palette, PixelImage image)
    {
        public void Store(ReadOnlySpan<byte> row, int count, int x0, int dx, int y)
        {
            Span<byte> dst = image.Row(y);
            int channels = image.Channels;
            for (int i = 0; i < count; i++)
            {
                int x = x0 + (i * dx);
                if (bitDepth < 8)
                {
                    int bit = i * bitDepth;
                    int v = (row[bit >> 3] >> (8 - bitDepth - (bit & 7))) & ((1 << bitDepth) - 1);
                    if (colorType == 3)
                    {
                        WritePalette(dst, x, v);
                    }
                    else
                    {
                        dst[x] = (byte)(v * 255 / ((1 << bitDepth) - 1));
                    }

                    continue;
                }

                int bytesPerSample = bitDepth / 8;
                int baseIndex = i * samples * bytesPerSample;
                if (colorType == 3)
                {
                    WritePalette(dst, x, row[baseIndex]);
                    continue;
                }

                for (int c = 0; c < channels; c++)
                {
                    int s = baseIndex + (c * bytesPerSample);
                    dst[(x * channels) + c] = bytesPerSample == 1 ? row[s] : (byte)((((row[s] << 8) | row[s + 1]) * 255 + 32767) / 65535);
                }
            }
        }

        private void WritePalette(Span<byte> dst, int x, int index)
        {
            if (3 * index + 2 >= palette!.Length)
            {
                throw new ImageFormatException($"palette index {index} beyond the {palette.Length / 3}-entry PLTE", 0);
            }

            dst[3 * x] = palette[3 * index];
            dst[(3 * x) + 1] = palette[(3 * index) + 1];
            dst[(3 * x) + 2] = palette[(3 * index) + 2];
        }
    }
}
