using JpegLm.Engine.Kernels;

namespace JpegLm.Engine.Model;

/// <summary>
/// A Llama-2 decoder (Hugging Face <c>LlamaForCausalLM</c>): token embedding, blocks of
/// RMSNorm → rotary causal self-attention → residual → RMSNorm → SwiGLU MLP → residual, final RMSNorm,
/// LM head; no biases. Weights, gradients and both AdamW moments are each one allocation laid out by
/// <see cref="LlamaParameters"/>. Every layer runs as explicit forward and backward kernel calls on an
/// <see cref="IKernels"/> backend, top to bottom, as in llm.c.
/// </summary>
public sealed class LlamaModel : IDisposable
{
    private readonly BlockWeights[] _blocks;
    private BlockWeights[]? _blockGrads;
    private ITensorBuffer? _gradients;
    private Activations? _acts;
    private float[] _hostLosses = [];
    private ITensorBuffer? _structureIds;

    /// <summary>Creates a model with zeroed weights (fill them with <see cref="InitializeWeights"/> or a checkpoint).</summary>
    public LlamaModel(LlamaConfig config, IKernels kernels)
    {
        ArgumentNullException.ThrowIfNull(config);
        Kernels = kernels ?? throw new ArgumentNullException(nameof(kernels));
        Config = config;
        Layout = new LlamaParameters(config);
        ParameterBuffer = kernels.Allocate(Layout.Length);
        Weights = Tensor.Of(ParameterBuffer);
        _blocks = [.. Enumerable.Range(0, config.NumHiddenLayers).Select(l => Layout.Block(Weights, l))];
    }

    /// <summary>The model's shape.</summary>
    public LlamaConfig Config { get; }

    /// <summary>The backend every kernel runs on.</summary>
    public IKernels Kernels { get; }

    /// <summary>Where each named tensor lives in the flat buffers.</summary>
    public LlamaParameters Layout { get; }

    /// <summary>The buffer holding every weight.</summary>
    public ITensorBuffer ParameterBuffer { get; }

    /// <summary>All weights as one flat tensor.</summary>
    public Tensor Weights { get; }

    /// <summary>All gradients as one flat tensor (same layout as <see cref="Weights"/>); allocated on first use.</summary>
    public Tensor Gradients
    {
        get
        {
            if (_gradients == null)
            {
                _gradients = Kernels.Allocate(Layout.Length);
                _blockGrads = [.. Enumerable.Range(0, Config.NumHiddenLayers).Select(l => Layout.Block(Tensor.Of(_gradients), l))];
            }

            return Tensor.Of(_gradients);
        }
    }

    /// <summary>Fills matrices with N(0, initializer_range²) from <paramref name="seed"/> and norms with 1 (as HF does).</summary>
    public void InitializeWeights(ulong seed)
    {
        var rng = new SplitMixRandom(seed);
        float[] host = new float[Layout.Length];
        float std = Config.InitializerRange;
        for (long i = 0; i < Layout.DecayedLength; i++)
        {
            host[i] = std * rng.NextGaussian();
        }

        Array.Fill(host, 1f, (int)Layout.DecayedLength, (int)(Layout.Length - Layout.DecayedLength));
        Kernels.Upload(host, Weights);
    }

    /// <summary>
    /// Forward pass over <paramref name="batch"/> sequences of <paramref name="length"/> tokens (row-major
    /// <c>[B, T]</c>). With <paramref name="targets"/> (same shape, −1 = ignore) it returns the mean loss over
    /// counted targets and leaves per-row losses in <see cref="Losses"/>; with <paramref name="training"/> the
    /// logits are replaced by the loss gradient scaled by <paramref name="gradientScale"/> ready for
    /// <see cref="Backward"/>. Without targets it returns NaN and leaves the logits. A model with structure fields
    /// (<see cref="LlamaConfig.StructureFields"/>) needs <paramref name="structure"/>: for each field in turn, one id
    /// per token (<c>[F, B·T]</c>), already offset to the field's rows of the stacked table.
    /// </summary>
    public float Forward(ReadOnlySpan<int> tokens, ReadOnlySpan<int> targets, int batch, int length, bool training = false, float gradientScale = 0f,
        ReadOnlySpan<int> structure = default)
    {
        if (tokens.Length != batch * length || (!targets.IsEmpty && targets.Length != tokens.Length))
        {
            throw new ArgumentException($"expected {batch}×{length} tokens and targets, got {tokens.Length} and {targets.Length}");
        }

        if (length > Config.MaxPositionEmbeddings)
        {
            throw new ArgumentException($"sequence length {length} exceeds max_position_embeddings {Config.MaxPositionEmbeddings}");
        }

        Activations a = EnsureActivations(batch, length, training);
        IKernels k = Kernels;
        LlamaConfig cfg = Config;
        int n = batch * length, c = cfg.HiddenSize, f = cfg.IntermediateSize, qw = cfg.QueryWidth, kw = cfg.KvWidth, v = cfg.VocabSize;
        var shape = AttentionShape.Training(batch, length, cfg.NumAttentionHeads, cfg.KvHeads, cfg.HeadDim);
        k.Upload(tokens, a.Tokens);
        k.EmbeddingForward(a.Blocks[0].Input, a.Tokens, Layout.Embedding(Weights), n, c);
        AddStructureEmbedding(a.Blocks[0].Input, a.Scratch, structure, n);
        for (int l = 0; l < cfg.NumHiddenLayers; l++)
        {
            BlockWeights w = _blocks[l];
            BlockActivations s = a.Blocks[l];
            Tensor output = l + 1 < cfg.NumHiddenLayers ? a.Blocks[l + 1].Input : a.Residual;
            k.RmsNormForward(s.Norm1, s.Rstd1, s.Input, w.InputNorm, n, c, cfg.RmsNormEps);
            k.MatMulForward(s.Query, s.Norm1, w.Query, n, c, qw);
            k.MatMulForward(s.Key, s.Norm1, w.Key, n, c, kw);
            k.MatMulForward(s.Value, s.Norm1, w.Value, n, c, kw);
            k.RotaryForward(s.Query, batch, length, cfg.NumAttentionHeads, cfg.HeadDim, 0, cfg.RopeTheta);
            k.RotaryForward(s.Key, batch, length, cfg.KvHeads, cfg.HeadDim, 0, cfg.RopeTheta);
            k.AttentionForward(s.Attention, s.LogSumExp, s.Query, s.Key, s.Value, shape);
            k.MatMulForward(a.Scratch, s.Attention, w.Output, n, qw, c);
            k.Add(s.Middle, s.Input, a.Scratch, (long)n * c);
            k.RmsNormForward(s.Norm2, s.Rstd2, s.Middle, w.PostAttentionNorm, n, c, cfg.RmsNormEps);
            k.MatMulForward(s.Gate, s.Norm2, w.Gate, n, c, f);
            k.MatMulForward(s.Up, s.Norm2, w.Up, n, c, f);
            k.SwiGluForward(s.Hidden, s.Gate, s.Up, (long)n * f);
            k.MatMulForward(a.Scratch, s.Hidden, w.Down, n, f, c);
            k.Add(output, s.Middle, a.Scratch, (long)n * c);
        }

        k.RmsNormForward(a.FinalNorm, a.FinalRstd, a.Residual, Layout.FinalNorm(Weights), n, c, cfg.RmsNormEps);
        k.MatMulForward(a.Logits, a.FinalNorm, Layout.LmHead(Weights), n, c, v);
        if (targets.IsEmpty)
        {
            return float.NaN;
        }

        k.Upload(targets, a.Targets);
        if (training)
        {
            k.CrossEntropyForwardBackward(a.Losses, a.Logits, a.Targets, gradientScale, n, v);
        }
        else
        {
            k.CrossEntropyForward(a.Losses, a.Logits, a.Targets, n, v);
        }

        if (_hostLosses.Length != n)
        {
            _hostLosses = new float[n];
        }

        float[] losses = _hostLosses;
        k.Download(a.Losses, losses);
        double sum = 0;
        int counted = 0;
        for (int i = 0; i < n; i++)
        {
            if (targets[i] >= 0)
            {
                sum += losses[i];
                counted++;
            }
        }

        return counted == 0 ? 0f : (float)(sum / counted);
    }

    /// <summary>Logits <c>[B·T, V]</c> of the last <see cref="Forward"/> without targets.</summary>
    public Tensor Logits => _acts?.Logits ?? throw new InvalidOperationException("no forward pass yet");

    /// <summary>Per-row losses <c>[B·T]</c> of the last <see cref="Forward"/> with targets (−log p of each target).</summary>
    public Tensor Losses => _acts?.Losses ?? throw new InvalidOperationException("no forward pass yet");

    /// <summary>Sets every gradient to zero (call before the first micro-batch of a step).</summary>
    public void ZeroGradients() => Kernels.Zero(Gradients);

    /// <summary>
    /// Backward pass of the last training <see cref="Forward"/>: accumulates every parameter's gradient into
    /// <see cref="Gradients"/>, layer by layer in reverse.
    /// </summary>
    public void Backward()
    {
        Activations a = _acts is { Training: true } ? _acts : throw new InvalidOperationException("Backward needs a training Forward first");
        _ = Gradients;
        IKernels k = Kernels;
        LlamaConfig cfg = Config;
        Tensor grads = Gradients;
        int batch = a.Batch, length = a.Length;
        int n = batch * length, c = cfg.HiddenSize, f = cfg.IntermediateSize, qw = cfg.QueryWidth, kw = cfg.KvWidth, v = cfg.VocabSize;
        var shape = AttentionShape.Training(batch, length, cfg.NumAttentionHeads, cfg.KvHeads, cfg.HeadDim);

        // LM head and final norm; the logits buffer already holds dLoss/dlogits.
        k.Zero(a.NormGrad);
        k.MatMulBackward(a.NormGrad, Layout.LmHead(grads), a.Logits, a.FinalNorm, Layout.LmHead(Weights), n, c, v);
        k.Zero(a.ResidualGrad);
        k.RmsNormBackward(a.ResidualGrad, Layout.FinalNorm(grads), a.NormGrad, a.Residual, Layout.FinalNorm(Weights), a.FinalRstd, n, c);

        // ResidualGrad carries dLoss/d(residual stream); each branch adds its part on the way down.
        for (int l = cfg.NumHiddenLayers - 1; l >= 0; l--)
        {
            BlockWeights w = _blocks[l], dw = _blockGrads![l];
            BlockActivations s = a.Blocks[l];
            k.Zero(a.HiddenGrad);
            k.MatMulBackward(a.HiddenGrad, dw.Down, a.ResidualGrad, s.Hidden, w.Down, n, f, c);
            k.Zero(a.GateGrad);
            k.Zero(a.UpGrad);
            k.SwiGluBackward(a.GateGrad, a.UpGrad, a.HiddenGrad, s.Gate, s.Up, (long)n * f);
            k.Zero(a.NormGrad);
            k.MatMulBackward(a.NormGrad, dw.Gate, a.GateGrad, s.Norm2, w.Gate, n, c, f);
            k.MatMulBackward(a.NormGrad, dw.Up, a.UpGrad, s.Norm2, w.Up, n, c, f);
            k.RmsNormBackward(a.ResidualGrad, dw.PostAttentionNorm, a.NormGrad, s.Middle, w.PostAttentionNorm, s.Rstd2, n, c);

            k.Zero(a.AttentionGrad);
            k.MatMulBackward(a.AttentionGrad, dw.Output, a.ResidualGrad, s.Attention, w.Output, n, qw, c);
            k.Zero(a.QueryGrad);
            k.Zero(a.KeyGrad);
            k.Zero(a.ValueGrad);
            k.AttentionBackward(a.QueryGrad, a.KeyGrad, a.ValueGrad, a.AttentionGrad, s.Attention, s.LogSumExp, s.Query, s.Key, s.Value, shape);
            k.RotaryBackward(a.QueryGrad, batch, length, cfg.NumAttentionHeads, cfg.HeadDim, 0, cfg.RopeTheta);
            k.RotaryBackward(a.KeyGrad, batch, length, cfg.KvHeads, cfg.HeadDim, 0, cfg.RopeTheta);
            k.Zero(a.NormGrad);
            k.MatMulBackward(a.NormGrad, dw.Query, a.QueryGrad, s.Norm1, w.Query, n, c, qw);
            k.MatMulBackward(a.NormGrad, dw.Key, a.KeyGrad, s.Norm1, w.Key, n, c, kw);
            k.MatMulBackward(a.NormGrad, dw.Value, a.ValueGrad, s.Norm1, w.Value, n, c, kw);
            k.RmsNormBackward(a.ResidualGrad, dw.InputNorm, a.NormGrad, s.Input, w.InputNorm, s.Rstd1, n, c);
        }

        k.EmbeddingBackward(Layout.Embedding(grads), a.ResidualGrad, a.Tokens, n, c);
        for (int field = 0; field < cfg.StructureFieldCount; field++)
        {
            // Every field's embedding was added to the same input, so each receives the input's gradient.
            k.EmbeddingBackward(Layout.StructureEmbedding(grads), a.ResidualGrad, StructureIds(field, n), n, c);
        }
    }

    /// <summary>
    /// Adds the structure embeddings of <paramref name="structure"/> (<c>[F, n]</c> ids) to <paramref name="x"/>
    /// (<c>[n, C]</c>), using <paramref name="scratch"/> (at least <c>n·C</c>); a no-op for a plain Llama. Shared by
    /// training and the cached inference pass so both embed tokens the same way.
    /// </summary>
    internal void AddStructureEmbedding(Tensor x, Tensor scratch, ReadOnlySpan<int> structure, int n)
    {
        int fields = Config.StructureFieldCount, c = Config.HiddenSize;
        if (fields == 0)
        {
            if (!structure.IsEmpty)
            {
                throw new ArgumentException("structure ids given to a model without structure fields");
            }

            return;
        }

        if (structure.Length != fields * n)
        {
            throw new ArgumentException($"a model with {fields} structure fields needs {fields} x {n} structure ids, got {structure.Length}");
        }

        int rows = Config.StructureFields!.Sum();
        foreach (int id in structure)
        {
            if ((uint)id >= rows)
            {
                throw new ArgumentOutOfRangeException(nameof(structure), $"structure id {id} is outside the table of {rows} rows");
            }
        }

        if (_structureIds == null || _structureIds.Length < structure.Length)
        {
            _structureIds?.Dispose();
            _structureIds = Kernels.Allocate(structure.Length);
        }

        Kernels.Upload(structure, Tensor.Of(_structureIds).AsTokens().Slice(0, structure.Length));
        Tensor table = Layout.StructureEmbedding(Weights);
        for (int f = 0; f < fields; f++)
        {
            Kernels.EmbeddingForward(scratch.Slice(0, (long)n * c), StructureIds(f, n), table, n, c);
            Kernels.Add(x, x, scratch.Slice(0, (long)n * c), (long)n * c);
        }
    }

    private TokenTensor StructureIds(int field, int n) => Tensor.Of(_structureIds!).AsTokens().Slice((long)field * n, n);

    /// <summary>Bytes needed to train with <paramref name="batch"/> × <paramref name="length"/> tokens (the memory model).</summary>
    public static long TrainingMemoryBytes(LlamaConfig config, int batch, int length) => Activations.TrainingBytes(config, batch, length);

    private Activations EnsureActivations(int batch, int length, bool training)
    {
        if (_acts == null || _acts.Batch != batch || _acts.Length != length || (training && !_acts.Training))
        {
            _acts?.Dispose();
            _acts = null;
            _acts = new Activations(Kernels, Config, batch, length, training);
        }

        return _acts;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _acts?.Dispose();
        _gradients?.Dispose();
        _structureIds?.Dispose();
        ParameterBuffer.Dispose();
    }
}
