using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace JpegLm.Engine.Model;

/// <summary>One tensor entry of a safetensors header.</summary>
/// <param name="Name">Tensor name.</param>
/// <param name="DType">Element type: F32, F16, BF16 or F64.</param>
/// <param name="Shape">Dimensions.</param>
/// <param name="Begin">First byte in the data section.</param>
/// <param name="End">One past the last byte in the data section.</param>
public sealed record SafetensorsEntry(string Name, string DType, long[] Shape, long Begin, long End)
{
    /// <summary>Number of elements.</summary>
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>A safetensors format error, with the file and byte offset.</summary>
public sealed class SafetensorsFormatException(string message) : FormatException(message);

/// <summary>
/// Reads and writes the safetensors format: an 8-byte little-endian header length, a JSON header mapping
/// names to <c>{dtype, shape, data_offsets}</c> (plus optional string <c>__metadata__</c>), then raw
/// little-endian data. Reads F32, F16, BF16 and F64 tensors and converts them to float32; writes F32.
/// </summary>
public sealed class SafetensorsFile : IDisposable
{
    private const long MaxHeader = 100L << 20;
    private readonly FileStream _stream;
    private readonly long _dataStart;

    private SafetensorsFile(FileStream stream, Dictionary<string, SafetensorsEntry> entries, Dictionary<string, string> metadata, long dataStart)
    {
        _stream = stream;
        Entries = entries;
        Metadata = metadata;
        _dataStart = dataStart;
    }

    /// <summary>Every tensor by name.</summary>
    public IReadOnlyDictionary<string, SafetensorsEntry> Entries { get; }

    /// <summary>The <c>__metadata__</c> strings.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Opens a file and parses its header; throws <see cref="SafetensorsFormatException"/> on malformed input.</summary>
    public static SafetensorsFile Open(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            if (stream.Length < 8)
            {
                throw new SafetensorsFormatException($"{path}: byte 0: {stream.Length} bytes, too short for the 8-byte header length");
            }

            Span<byte> lengthBytes = stackalloc byte[8];
            stream.ReadExactly(lengthBytes);
            long headerLength = BinaryPrimitives.ReadInt64LittleEndian(lengthBytes);
            if (headerLength <= 0 || headerLength > MaxHeader || 8 + headerLength > stream.Length)
            {
                throw new SafetensorsFormatException($"{path}: byte 0: header length {headerLength} is invalid for a file of {stream.Length} bytes");
            }

            byte[] header = new byte[headerLength];
            stream.ReadExactly(header);
            long dataLength = stream.Length - 8 - headerLength;
            var entries = new Dictionary<string, SafetensorsEntry>(StringComparer.Ordinal);
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            JsonObject root;
            try
            {
                root = JsonNode.Parse(header)?.AsObject() ?? throw new SafetensorsFormatException($"{path}: byte 8: header is not a JSON object");
            }
            catch (JsonException e)
            {
                throw new SafetensorsFormatException($"{path}: byte 8: header is not valid JSON: {e.Message}");
            }

            foreach ((string name, JsonNode? node) in root)
            {
                if (name == "__metadata__")
                {
                    foreach ((string key, JsonNode? value) in node?.AsObject() ?? [])
                    {
                        metadata[key] = value?.GetValue<string>() ?? "";
                    }

                    continue;
                }

                try
                {
                    string dtype = node!["dtype"]!.GetValue<string>();
                    long[] shape = [.. node["shape"]!.AsArray().Select(d => d!.GetValue<long>())];
                    long begin = node["data_offsets"]![0]!.GetValue<long>(), end = node["data_offsets"]![1]!.GetValue<long>();
                    var entry = new SafetensorsEntry(name, dtype, shape, begin, end);
                    int size = ElementSize(dtype);
                    if (begin < 0 || end > dataLength || end - begin != entry.Count * size || shape.Any(d => d < 0))
                    {
                        throw new SafetensorsFormatException($"{path}: tensor {name}: data_offsets [{begin}, {end}) do not fit {dtype}{string.Join('x', shape)} in {dataLength} data bytes");
                    }

                    entries[name] = entry;
                }
                catch (Exception e) when (e is InvalidOperationException or NullReferenceException or (FormatException and not SafetensorsFormatException))
                {
                    throw new SafetensorsFormatException($"{path}: tensor {name}: malformed header entry ({e.Message})");
                }
            }

            return new SafetensorsFile(stream, entries, metadata, 8 + headerLength);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>Reads a tensor converted to float32 into <paramref name="destination"/> (its length must equal the element count).</summary>
    public void Read(string name, Span<float> destination)
    {
        SafetensorsEntry e = Entries.TryGetValue(name, out SafetensorsEntry? found) ? found : throw new SafetensorsFormatException($"{_stream.Name}: tensor {name} not in file");
        if (e.Count != destination.Length)
        {
            throw new SafetensorsFormatException($"{_stream.Name}: tensor {name} holds {e.Count} elements, {destination.Length} expected");
        }

        int size = ElementSize(e.DType);
        byte[] raw = new byte[1 << 20];
        long done = 0;
        _stream.Position = _dataStart + e.Begin;
        while (done < e.Count)
        {
            int count = (int)Math.Min(raw.Length / size, e.Count - done);
            Span<byte> chunk = raw.AsSpan(0, count * size);
            _stream.ReadExactly(chunk);
            Span<float> dst = destination.Slice((int)done, count);
            for (int i = 0; i < count; i++)
            {
                dst[i] = e.DType switch
                {
                    "F32" => BinaryPrimitives.ReadSingleLittleEndian(chunk[(i * 4)..]),
                    "F16" => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(chunk[(i * 2)..])),
                    "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(chunk[(i * 2)..]) << 16),
                    _ => (float)BinaryPrimitives.ReadDoubleLittleEndian(chunk[(i * 8)..]),
                };
            }

            done += count;
        }
    }

    private static int ElementSize(string dtype) => dtype switch
    {
        "F32" => 4,
        "F16" or "BF16" => 2,
        "F64" => 8,
        _ => throw new SafetensorsFormatException($"unsupported dtype {dtype}"),
    };

    /// <summary>
    /// Writes tensors to <paramref name="path"/> atomically (temp file + rename). Each tensor is given as a
    /// name, shape and float32 data; <paramref name="dtype"/> is F32, F16 or BF16 (round to nearest even).
    /// </summary>
    public static void Write(string path, IEnumerable<(string Name, long[] Shape, ReadOnlyMemory<float> Data)> tensors,
        IReadOnlyDictionary<string, string>? metadata = null, string dtype = "F32")
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var list = tensors.ToList();
        int size = ElementSize(dtype);
        var header = new JsonObject();
        if (metadata != null)
        {
            var meta = new JsonObject();
            foreach ((string k, string v) in metadata)
            {
                meta[k] = v;
            }

            header["__metadata__"] = meta;
        }

        long offset = 0;
        foreach ((string name, long[] shape, ReadOnlyMemory<float> data) in list)
        {
            long bytes = (long)data.Length * size;
            header[name] = new JsonObject
            {
                ["dtype"] = dtype,
                ["shape"] = new JsonArray([.. shape.Select(d => (JsonNode)d)]),
                ["data_offsets"] = new JsonArray(offset, offset + bytes),
            };
            offset += bytes;
        }

        byte[] headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (headerBytes.Length + 7) / 8 * 8; // keeps the data 8-byte aligned, as the reference writer does
        Codec.IO.AtomicFile.Write(path, stream =>
        {
            Span<byte> len = stackalloc byte[8];
            BinaryPrimitives.WriteInt64LittleEndian(len, padded);
            stream.Write(len);
            stream.Write(headerBytes);
            for (int i = headerBytes.Length; i < padded; i++)
            {
                stream.WriteByte((byte)' ');
            }

            byte[] buffer = new byte[1 << 20];
            foreach ((_, _, ReadOnlyMemory<float> data) in list)
            {
                for (int done = 0; done < data.Length;)
                {
                    int count = Math.Min(buffer.Length / size, data.Length - done);
                    ReadOnlySpan<float> src = data.Span.Slice(done, count);
                    for (int i = 0; i < count; i++)
                    {
                        switch (dtype)
                        {
                            case "F32":
                                BinaryPrimitives.WriteSingleLittleEndian(buffer.AsSpan(i * 4), src[i]);
                                break;
                            case "F16":
                                BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(i * 2), BitConverter.HalfToUInt16Bits((Half)src[i]));
                                break;
                            default:
                                BinaryPrimitives.WriteUInt16LittleEndian(buffer.AsSpan(i * 2), ToBFloat16(src[i]));
                                break;
                        }
                    }

                    stream.Write(buffer, 0, count * size);
                    done += count;
                }
            }
        });
    }

    /// <summary>float32 → bfloat16 bits, round to nearest even (NaN stays NaN).</summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value))
        {
            return (ushort)((bits >> 16) | 0x40);
        }

        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }

    /// <inheritdoc/>
    public void Dispose() => _stream.Dispose();
}
