using System.Buffers.Binary;
using System.IO.Compression;

namespace JpegLm.Codec.Imaging;

/// <summary>An unsigned-byte IDX array (the MNIST file format): dimensions and row-major data.</summary>
/// <param name="Dimensions">Sizes, outermost first (e.g. count, rows, columns).</param>
/// <param name="Data">The values, row-major.</param>
public sealed record IdxArray(int[] Dimensions, byte[] Data);

/// <summary>
/// Reads IDX files (magic 00 00 08 NDIM, big-endian u32 sizes, then u8 data), plain or gzipped
/// (detected by the 1F 8B signature, as Debian ships Fashion-MNIST). Only the u8 type is supported.
/// </summary>
public static class IdxReader
{
    /// <summary>The most bytes an IDX array may claim (guards against bogus headers).</summary>
    public const long MaxBytes = 1L << 31;

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">Bad magic, unsupported type, or a size that does not match the data.</exception>
    public static IdxArray Read(string path)
    {
        using FileStream file = File.OpenRead(path);
        Span<byte> sig = stackalloc byte[2];
        int got = file.Read(sig);
        file.Position = 0;
        using Stream s = got == 2 && sig[0] == 0x1F && sig[1] == 0x8B ? new GZipStream(file, CompressionMode.Decompress) : file;
        return Read(s, path);
    }

    /// <summary>Reads an IDX array from a (decompressed) stream; <paramref name="name"/> is for messages.</summary>
    public static IdxArray Read(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        Span<byte> head = stackalloc byte[4];
        ReadAll(stream, head, name, 0);
        if (head[0] != 0 || head[1] != 0)
        {
            throw new InvalidDataException($"{name}: not an IDX file (magic {head[0]:X2}{head[1]:X2})");
        }

        if (head[2] != 0x08)
        {
            throw new InvalidDataException($"{name}: IDX element type 0x{head[2]:X2} is not supported (only u8)");
        }

        int rank = head[3];
        if (rank is 0 or > 4)
        {
            throw new InvalidDataException($"{name}: IDX rank {rank} out of 1..4");
        }

        var dims = new int[rank];
        Span<byte> d = stackalloc byte[4];
        long total = 1;
        for (int i = 0; i < rank; i++)
        {
            ReadAll(stream, d, name, 4 + (4 * i));
            uint size = BinaryPrimitives.ReadUInt32BigEndian(d);
            total *= size;
            if (size > int.MaxValue || total > MaxBytes)
            {
                throw new InvalidDataException($"{name}: IDX sizes claim more than {MaxBytes} bytes");
            }

            dims[i] = (int)size;
        }

        var data = new byte[total];
        ReadAll(stream, data, name, 4 + (4 * rank));
        return new IdxArray(dims, data);
    }

    private static void ReadAll(Stream s, Span<byte> buffer, string name, long offset)
    {
        int read = s.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        if (read < buffer.Length)
        {
            throw new InvalidDataException($"{name}: truncated at byte {offset + read} (need {buffer.Length} bytes from {offset})");
        }
    }
}
