using JpegLm.Engine.Kernels;

namespace JpegLm.Engine.Model;

/// <summary>What one block saves in the forward pass for its backward pass (views of one buffer).</summary>
internal readonly record struct BlockActivations(
    Tensor Input, Tensor Norm1, Tensor Rstd1, Tensor Query, Tensor Key, Tensor Value, Tensor Attention, Tensor LogSumExp,
    Tensor Middle, Tensor Norm2, Tensor Rstd2, Tensor Gate, Tensor Up, Tensor Hidden);

/// <summary>
/// Every activation of a forward pass over <c>B × T</c> tokens, and the gradient scratch of the backward pass,
/// carved out of two allocations. Memory is linear in <c>T</c>: attention keeps only a log-sum-exp per
/// query row, never a <c>T × T</c> matrix. <see cref="TrainingBytes"/> is the memory model.
/// </summary>
internal sealed class Activations : IDisposable
{
    private readonly ITensorBuffer _forward;
    private readonly ITensorBuffer? _backward;

    public Activations(IKernels kernels, LlamaConfig config, int batch, int length, bool training)
    {
        Batch = batch;
        Length = length;
        int n = batch * length, c = config.HiddenSize, f = config.IntermediateSize, qw = config.QueryWidth, kw = config.KvWidth, v = config.VocabSize;
        _forward = kernels.Allocate(ForwardFloats(config, batch, length));
        var whole = Tensor.Of(_forward);
        long offset = 0;
        Tensor Take(long count)
        {
            Tensor t = whole.Slice(offset, count);
            offset += count;
            return t;
        }

        Tokens = Take(n).AsTokens();
        Targets = Take(n).AsTokens();
        var residuals = new Tensor[config.NumHiddenLayers + 1];
        residuals[0] = Take((long)n * c);
        Blocks = new BlockActivations[config.NumHiddenLayers];
        for (int l = 0; l < config.NumHiddenLayers; l++)
        {
            Blocks[l] = new BlockActivations(residuals[l], Take((long)n * c), Take(n), Take((long)n * qw), Take((long)n * kw), Take((long)n * kw),
                Take((long)n * qw), Take((long)batch * config.NumAttentionHeads * length), Take((long)n * c), Take((long)n * c), Take(n),
                Take((long)n * f), Take((long)n * f), Take((long)n * f));
            residuals[l + 1] = Take((long)n * c);
        }

        Residual = residuals[^1];
        FinalNorm = Take((long)n * c);
        FinalRstd = Take(n);
        Logits = Take((long)n * v);
        Losses = Take(n);
        Scratch = Take((long)n * c);
        Scalar = Take(1);

        if (training)
        {
            _backward = kernels.Allocate(BackwardFloats(config, batch, length));
            var g = Tensor.Of(_backward);
            long o = 0;
            Tensor G(long count)
            {
                Tensor t = g.Slice(o, count);
                o += count;
                return t;
            }

            ResidualGrad = G((long)n * c);
            NormGrad = G((long)n * c);
            QueryGrad = G((long)n * qw);
            KeyGrad = G((long)n * kw);
            ValueGrad = G((long)n * kw);
            AttentionGrad = G((long)n * qw);
            GateGrad = G((long)n * f);
            UpGrad = G((long)n * f);
            HiddenGrad = G((long)n * f);
        }
    }

    public int Batch { get; }

    public int Length { get; }

    public TokenTensor Tokens { get; }

    public TokenTensor Targets { get; }

    public BlockActivations[] Blocks { get; }

    public Tensor Residual { get; }

    public Tensor FinalNorm { get; }

    public Tensor FinalRstd { get; }

    public Tensor Logits { get; }

    public Tensor Losses { get; }

    public Tensor Scratch { get; }

    public Tensor Scalar { get; }

    public Tensor ResidualGrad { get; }

    public Tensor NormGrad { get; }

    public Tensor QueryGrad { get; }

    public Tensor KeyGrad { get; }

    public Tensor ValueGrad { get; }

    public Tensor AttentionGrad { get; }

    public Tensor GateGrad { get; }

    public Tensor UpGrad { get; }

    public Tensor HiddenGrad { get; }

    public bool Training => _backward != null;

    /// <summary>Floats of the forward activations for a <paramref name="batch"/> × <paramref name="length"/> pass.</summary>
    public static long ForwardFloats(LlamaConfig config, int batch, int length)
    {
        long n = (long)batch * length, c = config.HiddenSize, f = config.IntermediateSize, qw = config.QueryWidth, kw = config.KvWidth;
        long perBlock = n * (c + 1 + qw + 2 * kw + qw + c + c + 1 + 3 * f + c) + (long)batch * config.NumAttentionHeads * length;
        return 2 * n + n * c + config.NumHiddenLayers * perBlock + n * c + n + n * config.VocabSize + n + n * c + 1;
    }

    /// <summary>Floats of the backward scratch (shared by all blocks).</summary>
    public static long BackwardFloats(LlamaConfig config, int batch, int length)
    {
        long n = (long)batch * length;
        return n * (2L * config.HiddenSize + 2L * config.QueryWidth + 2L * config.KvWidth + 3L * config.IntermediateSize);
    }

    /// <summary>The memory model: bytes of weights, gradients, AdamW moments, activations and scratch for training.</summary>
    public static long TrainingBytes(LlamaConfig config, int batch, int length)
        => 4 * (4 * new LlamaParameters(config).Length + ForwardFloats(config, batch, length) + BackwardFloats(config, batch, length));

    public void Dispose()
    {
        _forward.Dispose();
        _backward?.Dispose();
    }
}
