using JpegLm.Engine.Kernels;
using JpegLm.Engine.Model;

namespace JpegLm.Engine.Sampling;

/// <summary>
/// The inference forward pass with a <see cref="KvCache"/>: feeds <c>Tq</c> new tokens per sequence at the
/// cache's current length and returns the logits of each sequence's last new token. The same kernels as
/// training, with the attention reading keys from the cache.
/// </summary>
public sealed class CachedForward : IDisposable
{
    private readonly LlamaModel _model;
    private readonly ITensorBuffer _buffer;
    private readonly BlockWeights[] _blocks;
    private readonly int _maxRows;
    private readonly Tensor _x, _norm, _rstd, _q, _k, _v, _att, _lse, _scratch, _gate, _up, _hidden, _last, _lastNorm, _lastRstd, _logits;
    private readonly TokenTensor _tokens;

    /// <summary>Allocates work buffers for up to <paramref name="maxRows"/> new tokens per call (all sequences together).</summary>
    public CachedForward(LlamaModel model, int maxRows, int batch)
    {
        _model = model ?? throw new ArgumentNullException(nameof(model));
        LlamaConfig c = model.Config;
        _maxRows = maxRows;
        int h = c.HiddenSize, f = c.IntermediateSize, qw = c.QueryWidth, kw = c.KvWidth;
        long total = maxRows * (1L + 3 * h + 2 + 2L * qw + 2L * kw + (long)c.NumAttentionHeads + 3L * f) + batch * (2L * h + 1 + c.VocabSize);
        _buffer = model.Kernels.Allocate(total);
        var all = Tensor.Of(_buffer);
        long offset = 0;
        Tensor Take(long n)
        {
            Tensor t = all.Slice(offset, n);
            offset += n;
            return t;
        }

        _tokens = Take(maxRows).AsTokens();
        (_x, _norm, _rstd, _q, _k, _v, _att) = (Take((long)maxRows * h), Take((long)maxRows * h), Take(maxRows), Take((long)maxRows * qw), Take((long)maxRows * kw), Take((long)maxRows * kw), Take((long)maxRows * qw));
        (_lse, _scratch, _gate, _up, _hidden) = (Take((long)maxRows * c.NumAttentionHeads), Take((long)maxRows * h + maxRows), Take((long)maxRows * f), Take((long)maxRows * f), Take((long)maxRows * f));
        (_last, _lastNorm, _lastRstd, _logits) = (Take((long)batch * h), Take((long)batch * h), Take(batch), Take((long)batch * c.VocabSize));
        _blocks = [.. Enumerable.Range(0, c.NumHiddenLayers).Select(l => model.Layout.Block(model.Weights, l))];
    }

    /// <summary>
    /// Runs <paramref name="tokens"/> (<c>[cache.Batch, Tq]</c>, row-major) through the model at positions
    /// <c>cache.Length ..</c>, appends their keys and values to the cache, and writes each sequence's
    /// last-token logits (<c>[cache.Batch, V]</c>) to <paramref name="logits"/>. A model with structure fields takes
    /// their ids in <paramref name="structure"/> (<c>[F, tokens]</c>, as <see cref="LlamaModel.Forward"/> does).
    /// </summary>
    public void Run(KvCache cache, ReadOnlySpan<int> tokens, Span<float> logits, ReadOnlySpan<int> structure = default)
    {
        ArgumentNullException.ThrowIfNull(cache);
        LlamaConfig cfg = _model.Config;
        IKernels k = _model.Kernels;
        int b = cache.Batch, n = tokens.Length, tq = n / b, pos = cache.Length;
        int c = cfg.HiddenSize, f = cfg.IntermediateSize, qw = cfg.QueryWidth, kw = cfg.KvWidth;
        if (n % b != 0 || n > _maxRows || pos + tq > cache.Capacity)
        {
            throw new ArgumentException($"{n} tokens for {b} sequences at position {pos} do not fit the cache ({cache.Capacity}) or buffers ({_maxRows})");
        }

        Tensor x = _x.Slice(0, (long)n * c), norm = _norm.Slice(0, (long)n * c), scratch = _scratch.Slice(0, (long)n * c);
        Tensor q = _q.Slice(0, (long)n * qw), kNew = _k.Slice(0, (long)n * kw), vNew = _v.Slice(0, (long)n * kw), att = _att.Slice(0, (long)n * qw);
        Tensor gate = _gate.Slice(0, (long)n * f), up = _up.Slice(0, (long)n * f), hidden = _hidden.Slice(0, (long)n * f);
        var shape = new AttentionShape(b, tq, pos + tq, cache.Capacity, cfg.NumAttentionHeads, cfg.KvHeads, cfg.HeadDim);
        k.Upload(tokens, _tokens.Slice(0, n));
        k.EmbeddingForward(x, _tokens.Slice(0, n), _model.Layout.Embedding(_model.Weights), n, c);
        _model.AddStructureEmbedding(x, scratch, structure, n);
        for (int l = 0; l < cfg.NumHiddenLayers; l++)
        {
            BlockWeights w = _blocks[l];
            k.RmsNormForward(norm, _rstd.Slice(0, n), x, w.InputNorm, n, c, cfg.RmsNormEps);
            k.MatMulForward(q, norm, w.Query, n, c, qw);
            k.MatMulForward(kNew, norm, w.Key, n, c, kw);
            k.MatMulForward(vNew, norm, w.Value, n, c, kw);
            k.RotaryForward(q, b, tq, cfg.NumAttentionHeads, cfg.HeadDim, pos, cfg.RopeTheta);
            k.RotaryForward(kNew, b, tq, cfg.KvHeads, cfg.HeadDim, pos, cfg.RopeTheta);
            // Append: sequence s's Tq new rows go to cache rows [pos, pos + Tq) of sequence s.
            Tensor keys = cache.Keys(l), values = cache.Values(l);
            k.Copy2D(keys.Slice((long)pos * kw, keys.Length - (long)pos * kw), (long)cache.Capacity * kw, kNew, (long)tq * kw, b, tq * kw);
            k.Copy2D(values.Slice((long)pos * kw, values.Length - (long)pos * kw), (long)cache.Capacity * kw, vNew, (long)tq * kw, b, tq * kw);
            k.AttentionForward(att, _lse.Slice(0, (long)n * cfg.NumAttentionHeads), q, keys, values, shape);
            k.MatMulForward(scratch, att, w.Output, n, qw, c);
            k.Add(x, x, scratch, (long)n * c);
            k.RmsNormForward(norm, _rstd.Slice(0, n), x, w.PostAttentionNorm, n, c, cfg.RmsNormEps);
            k.MatMulForward(gate, norm, w.Gate, n, c, f);
            k.MatMulForward(up, norm, w.Up, n, c, f);
            k.SwiGluForward(hidden, gate, up, (long)n * f);
            k.MatMulForward(scratch, hidden, w.Down, n, f, c);
            k.Add(x, x, scratch, (long)n * c);
        }

        cache.Length = pos + tq;
        // The cache may hold fewer sequences than the buffers were sized for (finished samples dropped): use b rows.
        Tensor last = _last.Slice(0, (long)b * c), lastNorm = _lastNorm.Slice(0, (long)b * c), lastRstd = _lastRstd.Slice(0, b);
        Tensor rowLogits = _logits.Slice(0, (long)b * cfg.VocabSize);
        k.Copy2D(last, c, x.Slice((long)(tq - 1) * c, x.Length - (long)(tq - 1) * c), (long)tq * c, b, c);
        k.RmsNormForward(lastNorm, lastRstd, last, _model.Layout.FinalNorm(_model.Weights), b, c, cfg.RmsNormEps);
        k.MatMulForward(rowLogits, lastNorm, _model.Layout.LmHead(_model.Weights), b, c, cfg.VocabSize);
        k.Download(rowLogits, logits[..(b * cfg.VocabSize)]);
    }

    /// <inheritdoc/>
    public void Dispose() => _buffer.Dispose();
}
