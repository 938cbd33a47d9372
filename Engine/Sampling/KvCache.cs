using JpegLm.Engine.Kernels;
using JpegLm.Engine.Model;

namespace JpegLm.Engine.Sampling;

/// <summary>
/// Keys and values of every layer for <see cref="Batch"/> sequences of up to <see cref="Capacity"/> positions,
/// one allocation, layout per layer <c>[Batch, Capacity, KvHeads, HeadDim]</c> (the <see cref="AttentionShape"/>
/// key layout). Each decoding step appends its keys and values, so a step costs its matmuls plus attention
/// over the cached positions and nothing that grows with earlier steps.
/// </summary>
public sealed class KvCache : IDisposable
{
    private readonly ITensorBuffer _buffer;
    private readonly IKernels _kernels;
    private readonly int _layers;
    private readonly int _kvWidth;

    /// <summary>Allocates a cache for <paramref name="config"/> on <paramref name="kernels"/>.</summary>
    public KvCache(IKernels kernels, LlamaConfig config, int batch, int capacity)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(config);
        _kernels = kernels;
        _layers = config.NumHiddenLayers;
        _kvWidth = config.KvWidth;
        Batch = batch;
        Capacity = capacity;
        LayerLength = (long)batch * capacity * config.KvWidth;
        _buffer = kernels.Allocate(2 * LayerLength * config.NumHiddenLayers);
    }

    /// <summary>Sequences held (it only shrinks, by <see cref="Keep"/>).</summary>
    public int Batch { get; private set; }

    /// <summary>Positions per sequence.</summary>
    public int Capacity { get; }

    /// <summary>Positions filled so far (the same for every sequence).</summary>
    public int Length { get; internal set; }

    /// <summary>
    /// Forgets every position from <paramref name="length"/> on (a sampler backing up): later steps overwrite them.
    /// </summary>
    public void Truncate(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(length, Length);
        Length = length;
    }

    /// <summary>
    /// Keeps only the listed sequences (ascending slot numbers), moved to slots 0, 1, … in that order, and shrinks
    /// <see cref="Batch"/> to their count: a sampler drops finished samples so later steps cost only what is still
    /// being written.
    /// </summary>
    public void Keep(ReadOnlySpan<int> sequences)
    {
        if (sequences.Length > Batch)
        {
            throw new ArgumentException($"cannot keep {sequences.Length} of {Batch} sequences");
        }

        long rows = (long)Length * _kvWidth, stride = (long)Capacity * _kvWidth;
        for (int i = 0; i < sequences.Length; i++)
        {
            int from = sequences[i];
            if (from < i || from >= Batch || (i > 0 && from <= sequences[i - 1]))
            {
                throw new ArgumentException("sequences to keep must be ascending slot numbers of this cache");
            }

            if (from == i || rows == 0)
            {
                continue;
            }

            for (int layer = 0; layer < _layers; layer++)
            {
                foreach (Tensor t in new[] { Keys(layer), Values(layer) })
                {
                    _kernels.Copy2D(t.Slice(i * stride, rows), rows, t.Slice(from * stride, rows), rows, 1, checked((int)rows));
                }
            }
        }

        Batch = sequences.Length;
    }

    /// <summary>Elements of one layer's key (or value) tensor.</summary>
    public long LayerLength { get; }

    /// <summary>Layer <paramref name="layer"/>'s keys.</summary>
    public Tensor Keys(int layer) => Tensor.Of(_buffer).Slice(2 * layer * LayerLength, LayerLength);

    /// <summary>Layer <paramref name="layer"/>'s values.</summary>
    public Tensor Values(int layer) => Tensor.Of(_buffer).Slice((2 * layer + 1) * LayerLength, LayerLength);

    /// <inheritdoc/>
    public void Dispose() => _buffer.Dispose();
}
