using JpegLm.Engine.Kernels;

namespace JpegLm.Engine.Model;

/// <summary>One named parameter tensor: its Hugging Face name, shape and place in the flat parameter buffer.</summary>
/// <param name="Name">HF tensor name, e.g. <c>model.layers.0.self_attn.q_proj.weight</c>.</param>
/// <param name="Shape">Row-major shape (<c>[out, in]</c> for linear layers).</param>
/// <param name="Offset">First element in the flat buffer.</param>
public sealed record ParameterTensor(string Name, int[] Shape, long Offset)
{
    /// <summary>Number of elements.</summary>
    public long Length => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>The weights of one transformer block, as views of one flat buffer.</summary>
/// <param name="Query">q_proj <c>[H·D, C]</c>.</param>
/// <param name="Key">k_proj <c>[Hkv·D, C]</c>.</param>
/// <param name="Value">v_proj <c>[Hkv·D, C]</c>.</param>
/// <param name="Output">o_proj <c>[C, H·D]</c>.</param>
/// <param name="Gate">gate_proj <c>[F, C]</c>.</param>
/// <param name="Up">up_proj <c>[F, C]</c>.</param>
/// <param name="Down">down_proj <c>[C, F]</c>.</param>
/// <param name="InputNorm">input_layernorm <c>[C]</c>.</param>
/// <param name="PostAttentionNorm">post_attention_layernorm <c>[C]</c>.</param>
public readonly record struct BlockWeights(Tensor Query, Tensor Key, Tensor Value, Tensor Output, Tensor Gate, Tensor Up, Tensor Down,
    Tensor InputNorm, Tensor PostAttentionNorm);

/// <summary>
/// Where every parameter lives in the single flat buffer that holds all weights (and, with the same layout,
/// the gradients and both AdamW moments). Matrices come first and norm weights last, so weight decay applies
/// to the prefix <c>[0, DecayedLength)</c> and not to the norms.
/// </summary>
public sealed class LlamaParameters
{
    private readonly Dictionary<string, ParameterTensor> _byName = new(StringComparer.Ordinal);

    /// <summary>Lays out the parameters of <paramref name="config"/>.</summary>
    public LlamaParameters(LlamaConfig config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        Config = config;
        int c = config.HiddenSize, f = config.IntermediateSize, qw = config.QueryWidth, kw = config.KvWidth, v = config.VocabSize;
        long offset = 0;
        var all = new List<ParameterTensor>();
        ParameterTensor Add(string name, params int[] shape)
        {
            var p = new ParameterTensor(name, shape, offset);
            offset += p.Length;
            all.Add(p);
            _byName.Add(name, p);
            return p;
        }

        Add("model.embed_tokens.weight", v, c);
        if (config.StructureFields is { } fields)
        {
            Add(StructureEmbeddingName, fields.Sum(), c);
        }
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            string l = $"model.layers.{i}.";
            Add(l + "self_attn.q_proj.weight", qw, c);
            Add(l + "self_attn.k_proj.weight", kw, c);
            Add(l + "self_attn.v_proj.weight", kw, c);
            Add(l + "self_attn.o_proj.weight", c, qw);
            Add(l + "mlp.gate_proj.weight", f, c);
            Add(l + "mlp.up_proj.weight", f, c);
            Add(l + "mlp.down_proj.weight", c, f);
        }

        if (!config.TieWordEmbeddings)
        {
            Add("lm_head.weight", v, c);
        }

        DecayedLength = offset;
        for (int i = 0; i < config.NumHiddenLayers; i++)
        {
            Add($"model.layers.{i}.input_layernorm.weight", c);
            Add($"model.layers.{i}.post_attention_layernorm.weight", c);
        }

        Add("model.norm.weight", c);
        Length = offset;
        Tensors = all;
    }

    /// <summary>The config the layout was made for.</summary>
    public LlamaConfig Config { get; }

    /// <summary>Every tensor in buffer order.</summary>
    public IReadOnlyList<ParameterTensor> Tensors { get; }

    /// <summary>Total number of parameters (the tied LM head counted once).</summary>
    public long Length { get; }

    /// <summary>Length of the matrix prefix that receives weight decay.</summary>
    public long DecayedLength { get; }

    /// <summary>Looks up a tensor by HF name; the tied <c>lm_head.weight</c> resolves to the embedding.</summary>
    public bool TryGet(string name, out ParameterTensor tensor)
    {
        if (Config.TieWordEmbeddings && name == "lm_head.weight")
        {
            name = "model.embed_tokens.weight";
        }

        return _byName.TryGetValue(name, out tensor!);
    }

    /// <summary>The view of <paramref name="name"/> inside <paramref name="flat"/> (weights, grads or moments).</summary>
    public Tensor View(Tensor flat, string name)
        => TryGet(name, out ParameterTensor p) ? flat.Slice(p.Offset, p.Length) : throw new KeyNotFoundException(name);

    /// <summary>The token embedding inside <paramref name="flat"/>.</summary>
    public Tensor Embedding(Tensor flat) => View(flat, "model.embed_tokens.weight");

    /// <summary>HF-style name of the structure embedding (all fields' tables stacked; see <see cref="LlamaConfig.Structure"/>).</summary>
    public const string StructureEmbeddingName = "model.embed_structure.weight";

    /// <summary>The structure embedding inside <paramref name="flat"/> (only when the config has structure fields).</summary>
    public Tensor StructureEmbedding(Tensor flat) => View(flat, StructureEmbeddingName);

    /// <summary>The LM head inside <paramref name="flat"/> (the embedding when tied).</summary>
    public Tensor LmHead(Tensor flat) => View(flat, "lm_head.weight");

    /// <summary>The final norm inside <paramref name="flat"/>.</summary>
    public Tensor FinalNorm(Tensor flat) => View(flat, "model.norm.weight");

    /// <summary>Block <paramref name="layer"/>'s weights inside <paramref name="flat"/>.</summary>
    public BlockWeights Block(Tensor flat, int layer)
    {
        string l = $"model.layers.{layer}.";
        return new BlockWeights(
            View(flat, l + "self_attn.q_proj.weight"), View(flat, l + "self_attn.k_proj.weight"), View(flat, l + "self_attn.v_proj.weight"),
            View(flat, l + "self_attn.o_proj.weight"), View(flat, l + "mlp.gate_proj.weight"), View(flat, l + "mlp.up_proj.weight"),
            View(flat, l + "mlp.down_proj.weight"), View(flat, l + "input_layernorm.weight"), View(flat, l + "post_attention_layernorm.weight"));
    }
}
