using System.Diagnostics;

namespace JpegLm.Engine.Kernels;

/// <summary>
/// A decorator that times every kernel call of an inner backend (synchronizing after each call so GPU
/// time is attributed correctly). Used by benchmarks to print where a training step spends its time.
/// </summary>
public sealed class TimedKernels(IKernels inner) : IKernels
{
    private readonly IKernels _inner = inner ?? throw new ArgumentNullException(nameof(inner));
    private readonly Dictionary<string, (double Seconds, long Calls)> _times = new(StringComparer.Ordinal);

    /// <summary>Seconds and call counts per kernel name since the last <see cref="Reset"/>.</summary>
    public IReadOnlyDictionary<string, (double Seconds, long Calls)> Times => _times;

    /// <inheritdoc/>
    public string Name => _inner.Name + "+timed";

    /// <inheritdoc/>
    public double? PeakFlops => _inner.PeakFlops;

    /// <summary>Clears the accumulated times.</summary>
    public void Reset() => _times.Clear();

    private void Time(string name, Action call)
    {
        long start = Stopwatch.GetTimestamp();
        call();
        _inner.Synchronize();
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        _times[name] = _times.TryGetValue(name, out var t) ? (t.Seconds + seconds, t.Calls + 1) : (seconds, 1);
    }

    /// <inheritdoc/>
    public ITensorBuffer Allocate(long length) => _inner.Allocate(length);

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<float> source, Tensor destination) => _inner.Upload(source, destination);

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<int> source, TokenTensor destination) => _inner.Upload(source, destination);

    /// <inheritdoc/>
    public void Download(Tensor source, Span<float> destination) => _inner.Download(source, destination);

    /// <inheritdoc/>
    public void Zero(Tensor tensor) => Time(nameof(Zero), () => _inner.Zero(tensor));

    /// <inheritdoc/>
    public void Copy2D(Tensor destination, long destinationStride, Tensor source, long sourceStride, int rows, int rowLength)
        => Time(nameof(Copy2D), () => _inner.Copy2D(destination, destinationStride, source, sourceStride, rows, rowLength));

    /// <inheritdoc/>
    public void Synchronize() => _inner.Synchronize();

    /// <inheritdoc/>
    public void EmbeddingForward(Tensor output, TokenTensor tokens, Tensor table, int rows, int channels)
        => Time(nameof(EmbeddingForward), () => _inner.EmbeddingForward(output, tokens, table, rows, channels));

    /// <inheritdoc/>
    public void EmbeddingBackward(Tensor tableGrad, Tensor outputGrad, TokenTensor tokens, int rows, int channels)
        => Time(nameof(EmbeddingBackward), () => _inner.EmbeddingBackward(tableGrad, outputGrad, tokens, rows, channels));

    /// <inheritdoc/>
    public void MatMulForward(Tensor output, Tensor input, Tensor weight, int rows, int inFeatures, int outFeatures)
        => Time(nameof(MatMulForward), () => _inner.MatMulForward(output, input, weight, rows, inFeatures, outFeatures));

    /// <inheritdoc/>
    public void MatMulBackward(Tensor inputGrad, Tensor weightGrad, Tensor outputGrad, Tensor input, Tensor weight, int rows, int inFeatures, int outFeatures)
        => Time(nameof(MatMulBackward), () => _inner.MatMulBackward(inputGrad, weightGrad, outputGrad, input, weight, rows, inFeatures, outFeatures));

    /// <inheritdoc/>
    public void RmsNormForward(Tensor output, Tensor rstd, Tensor input, Tensor weight, int rows, int channels, float epsilon)
        => Time(nameof(RmsNormForward), () => _inner.RmsNormForward(output, rstd, input, weight, rows, channels, epsilon));

    /// <inheritdoc/>
    public void RmsNormBackward(Tensor inputGrad, Tensor weightGrad, Tensor outputGrad, Tensor input, Tensor weight, Tensor rstd, int rows, int channels)
        => Time(nameof(RmsNormBackward), () => _inner.RmsNormBackward(inputGrad, weightGrad, outputGrad, input, weight, rstd, rows, channels));

    /// <inheritdoc/>
    public void Add(Tensor output, Tensor a, Tensor b, long count) => Time(nameof(Add), () => _inner.Add(output, a, b, count));

    /// <inheritdoc/>
    public void SwiGluForward(Tensor output, Tensor gate, Tensor up, long count) => Time(nameof(SwiGluForward), () => _inner.SwiGluForward(output, gate, up, count));

    /// <inheritdoc/>
    public void SwiGluBackward(Tensor gateGrad, Tensor upGrad, Tensor outputGrad, Tensor gate, Tensor up, long count)
        => Time(nameof(SwiGluBackward), () => _inner.SwiGluBackward(gateGrad, upGrad, outputGrad, gate, up, count));

    /// <inheritdoc/>
    public void RotaryForward(Tensor x, int batch, int length, int heads, int headDim, int positionOffset, float theta)
        => Time(nameof(RotaryForward), () => _inner.RotaryForward(x, batch, length, heads, headDim, positionOffset, theta));

    /// <inheritdoc/>
    public void RotaryBackward(Tensor xGrad, int batch, int length, int heads, int headDim, int positionOffset, float theta)
        => Time(nameof(RotaryBackward), () => _inner.RotaryBackward(xGrad, batch, length, heads, headDim, positionOffset, theta));

    /// <inheritdoc/>
    public void AttentionForward(Tensor output, Tensor logSumExp, Tensor query, Tensor key, Tensor value, AttentionShape shape)
        => Time(nameof(AttentionForward), () => _inner.AttentionForward(output, logSumExp, query, key, value, shape));

    /// <inheritdoc/>
    public void AttentionBackward(Tensor queryGrad, Tensor keyGrad, Tensor valueGrad, Tensor outputGrad, Tensor output, Tensor logSumExp,
        Tensor query, Tensor key, Tensor value, AttentionShape shape)
        => Time(nameof(AttentionBackward), () => _inner.AttentionBackward(queryGrad, keyGrad, valueGrad, outputGrad, output, logSumExp, query, key, value, shape));

    /// <inheritdoc/>
    public void CrossEntropyForward(Tensor losses, Tensor logits, TokenTensor targets, int rows, int vocab)
        => Time(nameof(CrossEntropyForward), () => _inner.CrossEntropyForward(losses, logits, targets, rows, vocab));

    /// <inheritdoc/>
    public void CrossEntropyForwardBackward(Tensor losses, Tensor logits, TokenTensor targets, float gradientScale, int rows, int vocab)
        => Time(nameof(CrossEntropyForwardBackward), () => _inner.CrossEntropyForwardBackward(losses, logits, targets, gradientScale, rows, vocab));

    /// <inheritdoc/>
    public void SumOfSquares(Tensor result, Tensor x) => Time(nameof(SumOfSquares), () => _inner.SumOfSquares(result, x));

    /// <inheritdoc/>
    public void AdamW(Tensor parameters, Tensor gradients, Tensor firstMoment, Tensor secondMoment, AdamWStep step)
        => Time(nameof(AdamW), () => _inner.AdamW(parameters, gradients, firstMoment, secondMoment, step));

    /// <inheritdoc/>
    public void Dispose() => _inner.Dispose();
}
