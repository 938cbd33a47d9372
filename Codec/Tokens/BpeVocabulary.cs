using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace JpegLm.Codec.Tokens;

/// <summary>
/// A byte-level BPE vocabulary: ids 0..255 are the bytes, 256/257/258 are BOS, EOS and PAD, and id
/// 259 + r is the r-th learned merge (the concatenation of its two parts). Saved as JSON; a stable
/// 64-bit content hash goes into token shard headers.
/// </summary>
public sealed class BpeVocabulary
{
    /// <summary>Begin-of-stream token id.</summary>
    public const int Bos = 256;

    /// <summary>End-of-stream token id (also the document separator in shards).</summary>
    public const int Eos = 257;

    /// <summary>Padding token id.</summary>
    public const int Pad = 258;

    /// <summary>Id of the first learned merge.</summary>
    public const int FirstMerge = 259;


    private readonly byte[] _bytes;
    private readonly int[] _offsets;

    /// <summary>Creates a vocabulary from its merges in rank order.</summary>
    /// <param name="merges">(left, right) token ids of each merge; each part must be an earlier non-special token.</param>
    public BpeVocabulary(IReadOnlyList<(int Left, int Right)> merges)
    {
        ArgumentNullException.ThrowIfNull(merges);
        Merges = [.. merges];
        var parts = new List<byte[]>(FirstMerge + merges.Count);
        for (int b = 0; b < 256; b++)
        {
            parts.Add([(byte)b]);
        }

        parts.Add([]);
        parts.Add([]);
        parts.Add([]);
        for (int r = 0; r < merges.Count; r++)
        {
            (int l, int rt) = merges[r];
            int id = FirstMerge + r;
            if (l < 0 || rt < 0 || l >= id || rt >= id || l is >= Bos and < FirstMerge || rt is >= Bos and < FirstMerge)
            {
                throw new ArgumentException($"merge {r} ({l}, {rt}) refers to a special or later token", nameof(merges));
            }

            parts.Add([.. parts[l], .. parts[rt]]);
        }

        _offsets = new int[parts.Count + 1];
        for (int i = 0; i < parts.Count; i++)
        {
            _offsets[i + 1] = _offsets[i] + parts[i].Length;
        }

        _bytes = [.. parts.SelectMany(p => p)];
    }

    /// <summary>The merges in rank order.</summary>
    public IReadOnlyList<(int Left, int Right)> Merges { get; }

    /// <summary>Number of token ids (bytes, specials and merges).</summary>
    public int Size => FirstMerge + Merges.Count;

    /// <summary>The bytes a token stands for (empty for the specials).</summary>
    public ReadOnlySpan<byte> TokenBytes(int id) => _bytes.AsSpan(_offsets[id], _offsets[id + 1] - _offsets[id]);

    /// <summary>Whether <paramref name="id"/> is BOS, EOS or PAD.</summary>
    public static bool IsSpecial(int id) => id is >= Bos and < FirstMerge;

    /// <summary>The vocabulary as JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(
        new VocabularyFile("jpeglm-byte-bpe", 1, Bos, Eos, Pad, [.. Merges.Select(m => new[] { m.Left, m.Right })]), VocabularyJson.Default.VocabularyFile);

    /// <summary>Reads a vocabulary written by <see cref="ToJson"/>.</summary>
    /// <exception cref="JsonException">Not a vocabulary file, or an inconsistent one.</exception>
    public static BpeVocabulary FromJson(string json)
    {
        VocabularyFile f = JsonSerializer.Deserialize(json, VocabularyJson.Default.VocabularyFile) ?? throw new JsonException("vocabulary JSON is null");
        if (f.Format != "jpeglm-byte-bpe" || f.Version != 1 || f.Bos != Bos || f.Eos != Eos || f.Pad != Pad || f.Merges is null)
        {
            throw new JsonException("not a jpeglm byte-BPE vocabulary (format/version/special ids differ)");
        }

        try
        {
            return new BpeVocabulary([.. f.Merges.Select(m => m.Length == 2 ? (m[0], m[1]) : throw new JsonException("a merge needs two ids"))]);
        }
        catch (ArgumentException e)
        {
            throw new JsonException(e.Message, e);
        }
    }

    /// <summary>Reads a vocabulary file.</summary>
    public static BpeVocabulary Load(string path) => FromJson(File.ReadAllText(path));

    /// <summary>Writes the vocabulary (through a temporary name and a rename).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        IO.AtomicFile.WriteAllText(path, ToJson());
    }

    /// <summary>First 8 bytes (little-endian) of the SHA-256 of <see cref="ToJson"/>.</summary>
    public ulong ContentHash()
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ToJson()), digest);
        return BinaryPrimitives.ReadUInt64LittleEndian(digest);
    }

    /// <summary>Appends the bytes of <paramref name="tokens"/> to <paramref name="destination"/>; specials add nothing.</summary>
    /// <returns>Bytes written.</returns>
    /// <exception cref="ArgumentException">An id outside the vocabulary, or the destination is too small.</exception>
    public int Decode(ReadOnlySpan<int> tokens, Span<byte> destination)
    {
        int at = 0;
        int size = Size;
        foreach (int t in tokens)
        {
            if ((uint)t < 256u)
            {
                // Most JPEG tokens are single bytes: no slice, no copy call.
                if ((uint)at >= (uint)destination.Length)
                {
                    throw new ArgumentException("destination too small", nameof(destination));
                }

                destination[at++] = (byte)t;
                continue;
            }

            if ((uint)t >= (uint)size)
            {
                throw new ArgumentException($"token id {t} is outside the vocabulary of {Size}", nameof(tokens));
            }

            int start = _offsets[t], end = _offsets[t + 1];
            if (at + (end - start) > destination.Length)
            {
                throw new ArgumentException("destination too small", nameof(destination));
            }

            for (int i = start; i < end; i++)
            {
                destination[at++] = _bytes[i];
            }
        }

        return at;
    }

    /// <summary>Decodes tokens to a new array.</summary>
    public byte[] Decode(ReadOnlySpan<int> tokens)
    {
        long length = 0;
        foreach (int t in tokens)
        {
            length += (uint)t < (uint)Size ? _offsets[t + 1] - _offsets[t] : 0;
        }

        var bytes = new byte[length];
        Decode(tokens, bytes);
        return bytes;
    }

    internal sealed record VocabularyFile(
        [property: JsonPropertyName("format")] string Format,
        [property: JsonPropertyName("version")] int Version,
        [property: JsonPropertyName("bos")] int Bos,
        [property: JsonPropertyName("eos")] int Eos,
        [property: JsonPropertyName("pad")] int Pad,
        [property: JsonPropertyName("merges")] int[][]? Merges);
}

/// <summary>Compile-time JSON metadata for the vocabulary file: no reflection, so it reads the same ahead-of-time compiled.</summary>
[JsonSerializable(typeof(BpeVocabulary.VocabularyFile))]
internal sealed partial class VocabularyJson : JsonSerializerContext;
