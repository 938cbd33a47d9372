using System.Text.Json;
using System.Text.Json.Serialization;

namespace JpegLm.Engine.Model;

/// <summary>
/// The shape of a Llama model, serialized with the field names of Hugging Face's <c>LlamaConfig</c>
/// (<c>config.json</c>), so checkpoints load in <c>transformers</c> and HF checkpoints load here.
/// </summary>
public sealed record LlamaConfig
{
    /// <summary>Model width C.</summary>
    [JsonPropertyName("hidden_size")]
    public int HiddenSize { get; set; } = 256;

    /// <summary>Width of the SwiGLU MLP.</summary>
    [JsonPropertyName("intermediate_size")]
    public int IntermediateSize { get; set; } = 688;

    /// <summary>Number of transformer blocks.</summary>
    [JsonPropertyName("num_hidden_layers")]
    public int NumHiddenLayers { get; set; } = 4;

    /// <summary>Query heads.</summary>
    [JsonPropertyName("num_attention_heads")]
    public int NumAttentionHeads { get; set; } = 4;

    /// <summary>Key/value heads (grouped-query attention); null means equal to the query heads.</summary>
    [JsonPropertyName("num_key_value_heads")]
    public int? NumKeyValueHeads { get; init; }

    /// <summary>Channels per head; null means <c>hidden_size / num_attention_heads</c>.</summary>
    [JsonPropertyName("head_dim")]
    public int? HeadDimOverride { get; init; }

    /// <summary>RMSNorm epsilon.</summary>
    [JsonPropertyName("rms_norm_eps")]
    public float RmsNormEps { get; set; } = 1e-6f;

    /// <summary>Rotary base θ.</summary>
    [JsonPropertyName("rope_theta")]
    public float RopeTheta { get; set; } = 10000f;

    /// <summary>Vocabulary size V.</summary>
    [JsonPropertyName("vocab_size")]
    public int VocabSize { get; set; } = 256;

    /// <summary>Longest sequence the model is meant for (the sampler's cache length).</summary>
    [JsonPropertyName("max_position_embeddings")]
    public int MaxPositionEmbeddings { get; set; } = 1024;

    /// <summary>Whether the LM head reuses the token embedding matrix.</summary>
    [JsonPropertyName("tie_word_embeddings")]
    public bool TieWordEmbeddings { get; init; }

    /// <summary>Standard deviation of the normal initialization of matrices.</summary>
    [JsonPropertyName("initializer_range")]
    public float InitializerRange { get; set; } = 0.02f;

    /// <summary>Beginning-of-sequence token id, if any.</summary>
    [JsonPropertyName("bos_token_id")]
    public int? BosTokenId { get; init; }

    /// <summary>End-of-sequence token id, if any.</summary>
    [JsonPropertyName("eos_token_id")]
    public int? EosTokenId { get; init; }

    /// <summary>HF rope scaling (Llama 3 / long-context variants); not supported, must be absent or null.</summary>
    [JsonPropertyName("rope_scaling")]
    public JsonElement? RopeScaling { get; init; }

    /// <summary>HF attention/MLP bias switches; biases are not supported and must be absent or false.</summary>
    [JsonPropertyName("attention_bias")]
    public bool? AttentionBias { get; init; }

    /// <summary>Always <c>llama</c>.</summary>
    [JsonPropertyName("model_type")]
    public string ModelType { get; set; } = "llama";

    /// <summary>Always <c>["LlamaForCausalLM"]</c>.</summary>
    [JsonPropertyName("architectures")]
    public IReadOnlyList<string> Architectures { get; set; } = ["LlamaForCausalLM"];

    /// <summary>
    /// JpegLm extension (opt-in; absent in plain Llama checkpoints): the name of a per-token structure annotation
    /// (e.g. <c>jpeg-scan-v1</c>: where in the JPEG bitstream each token leaves the parser) whose categorical fields
    /// are embedded and added to the token embedding. Hugging Face's Llama ignores it and the
    /// <c>model.embed_structure.weight</c> tensor, so such a checkpoint loads there but predicts without the hints.
    /// </summary>
    [JsonPropertyName("jpeglm_structure")]
    public string? Structure { get; init; }

    /// <summary>Number of values of each structure field (null without <see cref="Structure"/>); their sum is the rows of <c>model.embed_structure.weight</c>.</summary>
    [JsonPropertyName("jpeglm_structure_fields")]
    public IReadOnlyList<int>? StructureFields { get; init; }

    /// <summary>Number of structure fields per token (0 for a plain Llama).</summary>
    [JsonIgnore]
    public int StructureFieldCount => StructureFields?.Count ?? 0;

    /// <summary>The dtype the weights are stored in.</summary>
    [JsonPropertyName("torch_dtype")]
    public string TorchDtype { get; set; } = "float32";

    /// <summary>Key/value heads after applying the default.</summary>
    [JsonIgnore]
    public int KvHeads => NumKeyValueHeads ?? NumAttentionHeads;

    /// <summary>Channels per head.</summary>
    [JsonIgnore]
    public int HeadDim => HeadDimOverride ?? HiddenSize / NumAttentionHeads;

    /// <summary>Width of the query projection (heads × head dim).</summary>
    [JsonIgnore]
    public int QueryWidth => NumAttentionHeads * HeadDim;

    /// <summary>Width of the key and value projections.</summary>
    [JsonIgnore]
    public int KvWidth => KvHeads * HeadDim;

    // Error messages quote the config on one line: the CLI reports bad input in one line.
    private static readonly JsonSerializerOptions MessageOptions = new(LlamaConfigJson.Default.Options) { WriteIndented = false };

    /// <summary>Throws <see cref="ArgumentException"/> when the numbers do not describe a valid model.</summary>
    public void Validate()
    {
        if (HiddenSize <= 0 || IntermediateSize <= 0 || NumHiddenLayers <= 0 || NumAttentionHeads <= 0 || VocabSize <= 0
            || KvHeads <= 0 || NumAttentionHeads % KvHeads != 0 || HeadDim <= 0 || HeadDim % 2 != 0
            || (HeadDimOverride == null && HiddenSize % NumAttentionHeads != 0) || MaxPositionEmbeddings <= 0)
        {
            throw new ArgumentException($"invalid Llama config: {JsonSerializer.Serialize(this, MessageOptions.GetTypeInfo(typeof(LlamaConfig)))}");
        }

        if ((Structure == null) != (StructureFields == null) || (StructureFields != null && (StructureFields.Count == 0 || StructureFields.Any(f => f is <= 0 or > 1 << 20))))
        {
            throw new ArgumentException($"invalid Llama config: jpeglm_structure and jpeglm_structure_fields go together, with positive field sizes: {JsonSerializer.Serialize(this, MessageOptions.GetTypeInfo(typeof(LlamaConfig)))}");
        }

        if (RopeScaling is { ValueKind: not JsonValueKind.Null } || AttentionBias == true)
        {
            throw new ArgumentException("config.json asks for rope_scaling or attention_bias, which this engine does not implement");
        }
    }

    /// <summary>The config as HF <c>config.json</c> text.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, LlamaConfigJson.Default.LlamaConfig);

    /// <summary>
    /// Parses <c>config.json</c> text (unknown HF fields are ignored). A file is input: one that does not describe a
    /// model this engine runs is a <see cref="FormatException"/> (malformed JSON, a <see cref="JsonException"/>).
    /// </summary>
    public static LlamaConfig FromJson(string json)
    {
        LlamaConfig config = JsonSerializer.Deserialize(json, LlamaConfigJson.Default.LlamaConfig) ?? throw new FormatException("config.json is empty");
        try
        {
            config.Validate();
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"config.json: {e.Message}", e);
        }

        return config;
    }

    /// <summary>Reads <c>DIR/config.json</c>.</summary>
    public static LlamaConfig Load(string path) => FromJson(File.ReadAllText(path));
}

/// <summary>
/// Compile-time JSON metadata for <see cref="LlamaConfig"/> (indented, nulls left out): no reflection, so configs read
/// and write the same in an ahead-of-time compiled <c>jpeglm</c>.
/// Properties with a default are <c>set</c>, not <c>init</c>: source-generated metadata would give an init-only
/// property missing from the file default(T) instead of its default (dotnet/runtime#84484).
/// </summary>
[JsonSourceGenerationOptions(WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(LlamaConfig))]
internal sealed partial class LlamaConfigJson : JsonSerializerContext;
