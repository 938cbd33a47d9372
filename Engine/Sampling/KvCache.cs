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

    /// <summary>Allocates a cache for <paramref name="config"/> on <paramref name="kernels"/>.</summary>
    public KvCache(IKernels kernels, LlamaConfig config, int batch, int capacity)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(config);
        Batch = batch;
        Capacity = capacity;
        LayerLength = (long)batch * capacity * config.KvWidth;
        _buffer = kernels.Allocate(2 * LayerLength * config.NumHiddenLayers);
    }

    /// <summary>Sequences held.</summary>
    public int Batch { get; }

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

    /// <summary>Elements of one layer's key (or value) tensor.</summary>
    public long LayerLength { get; }

    /// <summary>Layer <paramref name="layer"/>'s keys.</summary>
    public Tensor Keys(int layer) => Tensor.Of(_buffer).Slice(2 * layer * LayerLength, LayerLength);

    /// <summary>Layer <paramref name="layer"/>'s values.</summary>
    public Tensor Values(int layer) => Tensor.Of(_buffer).Slice((2 * layer + 1) * LayerLength, LayerLength);

    /// <inheritdoc/>
    public void Dispose() => _buffer.Dispose();
}
