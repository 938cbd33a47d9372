using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace JpegLm.Codec.Tokens;

/// <summary>
/// Everything that is constant across a data set and therefore never enters the token stream: the
/// frame size, quality, sampling, restart interval and the coding tables. A profile is stored as a
/// small JSON file next to the data and with every model, so that a model's output can be turned back
/// into a playable file. The <c>codec</c> property discriminates the kinds ("jpeg" now, "avc" later).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "codec")]
[JsonDerivedType(typeof(JpegProfile), "jpeg")]
[JsonDerivedType(typeof(AvcProfile), "avc")]
[JsonDerivedType(typeof(PixelProfile), "pixels")]
public abstract class CodecProfile
{
    /// <summary>The codec's name as written in the <c>codec</c> discriminator ("jpeg", "avc").</summary>
    [JsonIgnore]
    public abstract string Codec { get; }

    /// <summary>A free-form name for people ("paper-256-q25").</summary>
    public string Name { get; set; } = "";

    /// <summary>
    /// When true the token stream keeps the whole stream, headers included; when false (the default)
    /// the constant headers are stripped and rebuilt from the profile.
    /// </summary>
    public bool KeepHeaders { get; init; }

    /// <summary>Checks the fields for consistency; throws <see cref="ArgumentException"/> when they are not.</summary>
    public abstract void Validate();

    /// <summary>
    /// The canonical bytes of the token stream for one complete codec file: the file minus what the
    /// profile rebuilds (or the whole file with <see cref="KeepHeaders"/>).
    /// </summary>
    public abstract byte[] ToTokenBytes(ReadOnlySpan<byte> file);

    /// <summary>The complete codec file for token-stream bytes; the inverse of <see cref="ToTokenBytes"/>.</summary>
    public abstract byte[] FromTokenBytes(ReadOnlySpan<byte> tokenBytes);

    /// <summary>A copy of this profile whose token streams keep (or strip) the constant headers.</summary>
    public CodecProfile WithKeepHeaders(bool keep = true)
    {
        var node = System.Text.Json.Nodes.JsonNode.Parse(ToJson())!;
        node["keepHeaders"] = keep;
        return FromJson(node.ToJsonString());
    }

    /// <summary>The profile as indented JSON (camelCase, with the <c>codec</c> discriminator first).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, CodecProfileJson.Default.CodecProfile);

    /// <summary>Parses and validates a profile written by <see cref="ToJson"/>.</summary>
    /// <exception cref="JsonException">Malformed JSON or an unknown codec.</exception>
    public static CodecProfile FromJson(string json)
    {
        CodecProfile profile = JsonSerializer.Deserialize(json, CodecProfileJson.Default.CodecProfile)
            ?? throw new JsonException("profile JSON is null");
        try
        {
            profile.Validate();
        }
        catch (ArgumentException e)
        {
            throw new JsonException("invalid profile: " + e.Message, e);
        }

        return profile;
    }

    /// <summary>Reads a profile file.</summary>
    public static CodecProfile Load(string path) => FromJson(File.ReadAllText(path));

    /// <summary>Writes the profile to <paramref name="path"/> (through a temporary name and a rename).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        IO.AtomicFile.WriteAllText(path, ToJson());
    }

    /// <summary>
    /// A stable 64-bit content hash: the first 8 bytes (little-endian) of the SHA-256 of the canonical
    /// JSON. Token shards record it so that data made under one profile is never read under another.
    /// </summary>
    public ulong ContentHash()
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ToJson().ReplaceLineEndings("\n")), digest);
        return BinaryPrimitives.ReadUInt64LittleEndian(digest);
    }
}

/// <summary>
/// Compile-time JSON metadata for <see cref="CodecProfile"/> (indented, camelCase, nothing left out): no reflection,
/// so profiles read and write the same in an ahead-of-time compiled <c>jpeglm</c>.
/// Properties with a default are <c>set</c>, not <c>init</c>: source-generated metadata would give an init-only
/// property missing from the file default(T) instead of its default (dotnet/runtime#84484).
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(CodecProfile))]
internal sealed partial class CodecProfileJson : JsonSerializerContext;
