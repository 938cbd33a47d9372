using System.Numerics.Tensors;

namespace JpegLm.Engine.Kernels.Cpu;

/// <summary>
/// The CPU backend of <see cref="IKernels"/>: buffers in aligned host memory, GEMM through OpenBLAS when it
/// loads (else the managed blocked GEMM), everything else SIMD loops split with Parallel.For over rows,
/// heads or fixed chunks. Every reduction has a fixed order, so results are bit-identical run to run.
/// One instance must not be used from several threads at once.
/// </summary>
public sealed unsafe partial class CpuKernels : IKernels
{
    private const int PointwiseChunk = 1 << 15;

    /// <summary>Creates the backend with the given GEMM (null: OpenBLAS if present, else managed).</summary>
    public CpuKernels(IGemm? gemm = null)
    {
        Gemm = gemm ?? (IGemm?)OpenBlasGemm.TryCreate() ?? new ManagedGemm();
        _blockGemm = gemm as IThreadGemm ?? new ManagedGemm();
    }

    // Attention tiles run one task per core, each doing small products on its own thread.
    private readonly IThreadGemm _blockGemm;

    /// <summary>The matrix-multiply implementation in use.</summary>
    public IGemm Gemm { get; }

    /// <inheritdoc/>
    public string Name => $"cpu({Gemm.Name})";

    /// <summary>
    /// The SGEMM rate of <see cref="Gemm"/> measured on first use (<see cref="GemmRate.Measure"/>, about half a second
    /// on two cores): a CPU's datasheet peak is not what its GEMM library reaches here, so the measurement stands in.
    /// </summary>
    public double? PeakFlops => _peakFlops ??= GemmRate.Measure(Gemm);

    private double? _peakFlops;

    /// <summary>Elements allocated by this backend so far (freed buffers included): memory accounting for tests and benchmarks.</summary>
    public long AllocatedElements => Interlocked.Read(ref _allocated);

    private long _allocated;

    /// <inheritdoc/>
    public ITensorBuffer Allocate(long length)
    {
        Interlocked.Add(ref _allocated, length);
        return new CpuTensorBuffer(this, length);
    }

    /// <summary>The host span behind a CPU tensor (for tests and host-side tools).</summary>
    public static Span<float> Span(Tensor t) => new(Ptr(t), checked((int)t.Length));

    /// <summary>The host span behind a CPU token tensor.</summary>
    public static Span<int> Span(TokenTensor t) => new(Ptr(t), checked((int)t.Length));

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<float> source, Tensor destination)
    {
        RequireLength(destination, source.Length);
        source.CopyTo(Span(destination));
    }

    /// <inheritdoc/>
    public void Upload(ReadOnlySpan<int> source, TokenTensor destination)
    {
        if (source.Length != destination.Length)
        {
            throw new ArgumentException($"upload of {source.Length} ids into a tensor of {destination.Length}");
        }

        source.CopyTo(Span(destination));
    }

    /// <inheritdoc/>
    public void Download(Tensor source, Span<float> destination)
    {
        RequireLength(source, destination.Length);
        Span(source).CopyTo(destination);
    }

    /// <inheritdoc/>
    public void Zero(Tensor tensor)
    {
        float* p = Ptr(tensor);
        ForChunks(tensor.Length, PointwiseChunk, (s, n) => new Span<float>(p + s, n).Clear());
    }

    /// <inheritdoc/>
    public void Copy2D(Tensor destination, long destinationStride, Tensor source, long sourceStride, int rows, int rowLength)
    {
        if (rows == 0)
        {
            return;
        }

        RequireLength(destination, (rows - 1) * destinationStride + rowLength, atLeast: true);
        RequireLength(source, (rows - 1) * sourceStride + rowLength, atLeast: true);
        float* d = Ptr(destination), s = Ptr(source);
        for (int r = 0; r < rows; r++)
        {
            Buffer.MemoryCopy(s + r * sourceStride, d + r * destinationStride, (long)rowLength * sizeof(float), (long)rowLength * sizeof(float));
        }
    }

    /// <inheritdoc/>
    public void Synchronize()
    {
    }

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    /// <inheritdoc/>
    public void EmbeddingForward(Tensor output, TokenTensor tokens, Tensor table, int rows, int channels)
    {
        RequireLength(output, (long)rows * channels);
        float* o = Ptr(output), w = Ptr(table);
        int* ids = Ptr(tokens, rows);
        long vocab = table.Length / channels;
        for (int n = 0; n < rows; n++)
        {
            int id = ids[n];
            if ((uint)id >= vocab)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token {id} at row {n} is outside the vocabulary of {vocab}");
            }

            new ReadOnlySpan<float>(w + (long)id * channels, channels).CopyTo(new Span<float>(o + (long)n * channels, channels));
        }
    }

    /// <inheritdoc/>
    public void EmbeddingBackward(Tensor tableGrad, Tensor outputGrad, TokenTensor tokens, int rows, int channels)
    {
        RequireLength(outputGrad, (long)rows * channels);
        float* dw = Ptr(tableGrad), dout = Ptr(outputGrad);
        int* ids = Ptr(tokens, rows);
        long vocab = tableGrad.Length / channels;
        // Each task owns a band of channels and walks the rows in order: a fixed summation order.
        const int band = 64;
        int bands = (channels + band - 1) / band;
        Parallel.For(0, bands, bi =>
        {
            int c0 = bi * band, c1 = Math.Min(channels, c0 + band);
            for (int n = 0; n < rows; n++)
            {
                int id = ids[n];
                if ((uint)id >= vocab)
                {
                    throw new ArgumentOutOfRangeException(nameof(tokens), $"token {id} at row {n} is outside the vocabulary of {vocab}");
                }

                TensorPrimitives.Add(new ReadOnlySpan<float>(dw + (long)id * channels + c0, c1 - c0),
                    new ReadOnlySpan<float>(dout + (long)n * channels + c0, c1 - c0), new Span<float>(dw + (long)id * channels + c0, c1 - c0));
            }
        });
    }

    /// <inheritdoc/>
    public void MatMulForward(Tensor output, Tensor input, Tensor weight, int rows, int inFeatures, int outFeatures)
    {
        RequireLength(output, (long)rows * outFeatures);
        RequireLength(input, (long)rows * inFeatures);
        RequireLength(weight, (long)outFeatures * inFeatures);
        Gemm.Sgemm(false, true, rows, outFeatures, inFeatures, 1f, Ptr(input), inFeatures, Ptr(weight), inFeatures, 0f, Ptr(output), outFeatures);
    }

    /// <inheritdoc/>
    public void MatMulBackward(Tensor inputGrad, Tensor weightGrad, Tensor outputGrad, Tensor input, Tensor weight, int rows, int inFeatures, int outFeatures)
    {
        RequireLength(inputGrad, (long)rows * inFeatures);
        RequireLength(weightGrad, (long)outFeatures * inFeatures);
        RequireLength(outputGrad, (long)rows * outFeatures);
        RequireLength(input, (long)rows * inFeatures);
        RequireLength(weight, (long)outFeatures * inFeatures);
        float* dout = Ptr(outputGrad);
        Gemm.Sgemm(false, false, rows, inFeatures, outFeatures, 1f, dout, outFeatures, Ptr(weight), inFeatures, 1f, Ptr(inputGrad), inFeatures);
        Gemm.Sgemm(true, false, outFeatures, inFeatures, rows, 1f, dout, outFeatures, Ptr(input), inFeatures, 1f, Ptr(weightGrad), inFeatures);
    }

    /// <inheritdoc/>
    public void RmsNormForward(Tensor output, Tensor rstd, Tensor input, Tensor weight, int rows, int channels, float epsilon)
    {
        RequireLength(output, (long)rows * channels);
        RequireLength(input, (long)rows * channels);
        RequireLength(rstd, rows);
        RequireLength(weight, channels);
        float* o = Ptr(output), r = Ptr(rstd), x = Ptr(input), w = Ptr(weight);
        ForRows(rows, channels, n =>
        {
            var xs = new ReadOnlySpan<float>(x + (long)n * channels, channels);
            var os = new Span<float>(o + (long)n * channels, channels);
            float s = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(xs) / channels + epsilon);
            r[n] = s;
            TensorPrimitives.Multiply(xs, s, os);
            TensorPrimitives.Multiply(os, new ReadOnlySpan<float>(w, channels), os);
        });
    }

    /// <inheritdoc/>
    public void RmsNormBackward(Tensor inputGrad, Tensor weightGrad, Tensor outputGrad, Tensor input, Tensor weight, Tensor rstd, int rows, int channels)
    {
        RequireLength(inputGrad, (long)rows * channels);
        RequireLength(outputGrad, (long)rows * channels);
        RequireLength(input, (long)rows * channels);
        RequireLength(rstd, rows);
        RequireLength(weight, channels);
        RequireLength(weightGrad, channels);
        float* dx = Ptr(inputGrad), dw = Ptr(weightGrad), dy = Ptr(outputGrad), x = Ptr(input), w = Ptr(weight), r = Ptr(rstd);
        // dx = r·(dy⊙w − x̂·mean(dy⊙w⊙x̂)) with x̂ = x·r.
        ForRows(rows, channels, n =>
        {
            float* dyn = dy + (long)n * channels, xn = x + (long)n * channels, dxn = dx + (long)n * channels;
            float rn = r[n];
            float dot = 0f;
            for (int c = 0; c < channels; c++)
            {
                dot += dyn[c] * w[c] * xn[c];
            }

            float k = dot * rn * rn / channels;
            for (int c = 0; c < channels; c++)
            {
                dxn[c] += rn * (dyn[c] * w[c] - xn[c] * k);
            }
        });

        // dw[c] += Σ_n dy[n,c]·x[n,c]·r[n], each band of channels summing rows in order.
        const int band = 64;
        int bands = (channels + band - 1) / band;
        Parallel.For(0, bands, bi =>
        {
            int c0 = bi * band, c1 = Math.Min(channels, c0 + band);
            for (int n = 0; n < rows; n++)
            {
                float rn = r[n];
                float* dyn = dy + (long)n * channels, xn = x + (long)n * channels;
                for (int c = c0; c < c1; c++)
                {
                    dw[c] += dyn[c] * xn[c] * rn;
                }
            }
        });
    }

    /// <inheritdoc/>
    public void Add(Tensor output, Tensor a, Tensor b, long count)
    {
        RequireLength(output, count);
        RequireLength(a, count);
        RequireLength(b, count);
        float* o = Ptr(output), pa = Ptr(a), pb = Ptr(b);
        ForChunks(count, PointwiseChunk, (s, n) => TensorPrimitives.Add(new ReadOnlySpan<float>(pa + s, n), new ReadOnlySpan<float>(pb + s, n), new Span<float>(o + s, n)));
    }

    /// <inheritdoc/>
    public void SwiGluForward(Tensor output, Tensor gate, Tensor up, long count)
    {
        RequireLength(output, count);
        RequireLength(gate, count);
        RequireLength(up, count);
        float* o = Ptr(output), g = Ptr(gate), u = Ptr(up);
        ForChunks(count, PointwiseChunk, (s, n) =>
        {
            var os = new Span<float>(o + s, n);
            var gs = new ReadOnlySpan<float>(g + s, n);
            TensorPrimitives.Sigmoid(gs, os);
            TensorPrimitives.Multiply(os, gs, os);
            TensorPrimitives.Multiply(os, new ReadOnlySpan<float>(u + s, n), os);
        });
    }

    /// <inheritdoc/>
    public void SwiGluBackward(Tensor gateGrad, Tensor upGrad, Tensor outputGrad, Tensor gate, Tensor up, long count)
    {
        RequireLength(gateGrad, count);
        RequireLength(upGrad, count);
        RequireLength(outputGrad, count);
        RequireLength(gate, count);
        RequireLength(up, count);
        float* dg = Ptr(gateGrad), du = Ptr(upGrad), dout = Ptr(outputGrad), g = Ptr(gate), u = Ptr(up);
        ForChunks(count, PointwiseChunk, (s, n) =>
        {
            for (long i = s; i < s + n; i++)
            {
                float x = g[i];
                float sig = 1f / (1f + MathF.Exp(-x));
                float silu = x * sig;
                dg[i] += dout[i] * u[i] * sig * (1f + x * (1f - sig));
                du[i] += dout[i] * silu;
            }
        });
    }

    /// <inheritdoc/>
    public void CrossEntropyForward(Tensor losses, Tensor logits, TokenTensor targets, int rows, int vocab)
        => CrossEntropy(losses, logits, targets, rows, vocab, withGradient: false, 0f);

    /// <inheritdoc/>
    public void CrossEntropyForwardBackward(Tensor losses, Tensor logits, TokenTensor targets, float gradientScale, int rows, int vocab)
        => CrossEntropy(losses, logits, targets, rows, vocab, withGradient: true, gradientScale);

    private static void CrossEntropy(Tensor losses, Tensor logits, TokenTensor targets, int rows, int vocab, bool withGradient, float scale)
    {
        RequireLength(losses, rows);
        RequireLength(logits, (long)rows * vocab);
        float* l = Ptr(losses), z = Ptr(logits);
        int* t = Ptr(targets, rows);
        ForRows(rows, vocab * 4, n =>
        {
            var row = new Span<float>(z + (long)n * vocab, vocab);
            int target = t[n];
            if (target >= vocab)
            {
                throw new ArgumentOutOfRangeException(nameof(targets), $"target {target} at row {n} is outside the vocabulary of {vocab}");
            }

            float max = TensorPrimitives.Max(row);
            float targetLogit = target >= 0 ? row[target] : 0f;
            double sum = 0;
            for (int v = 0; v < vocab; v++)
            {
                float e = MathF.Exp(row[v] - max);
                sum += e;
                if (withGradient)
                {
                    row[v] = e;
                }
            }

            if (target < 0)
            {
                l[n] = 0f;
                if (withGradient)
                {
                    row.Clear();
                }

                return;
            }

            l[n] = (float)(Math.Log(sum) + max - targetLogit);
            if (!withGradient)
            {
                return;
            }

            TensorPrimitives.Multiply(row, (float)(scale / sum), row);
            row[target] -= scale;
        });
    }

    /// <inheritdoc/>
    public void SumOfSquares(Tensor result, Tensor x)
    {
        RequireLength(result, 1, atLeast: true);
        float* p = Ptr(x);
        long chunks = (x.Length + PointwiseChunk - 1) / PointwiseChunk;
        double[] partial = new double[chunks];
        Parallel.For(0L, chunks, ci =>
        {
            long s = ci * PointwiseChunk;
            int n = (int)Math.Min(PointwiseChunk, x.Length - s);
            partial[ci] = TensorPrimitives.SumOfSquares(new ReadOnlySpan<float>(p + s, n));
        });
        double total = 0;
        foreach (double d in partial)
        {
            total += d;
        }

        Ptr(result)[0] = (float)total;
    }

    /// <inheritdoc/>
    public void AdamW(Tensor parameters, Tensor gradients, Tensor firstMoment, Tensor secondMoment, AdamWStep step)
    {
        long count = parameters.Length;
        RequireLength(gradients, count);
        RequireLength(firstMoment, count);
        RequireLength(secondMoment, count);
        float* p = Ptr(parameters), g = Ptr(gradients), m = Ptr(firstMoment), v = Ptr(secondMoment);
        float b1 = step.Beta1, b2 = step.Beta2, lr = step.LearningRate, eps = step.Epsilon, wd = step.WeightDecay, gs = step.GradientScale;
        float c1 = (float)(1 - Math.Pow(b1, step.Step)), c2 = (float)(1 - Math.Pow(b2, step.Step));
        ForChunks(count, PointwiseChunk, (s, n) =>
        {
            for (long i = s; i < s + n; i++)
            {
                float grad = g[i] * gs;
                float mi = b1 * m[i] + (1f - b1) * grad;
                float vi = b2 * v[i] + (1f - b2) * grad * grad;
                m[i] = mi;
                v[i] = vi;
                p[i] -= lr * ((mi / c1) / (MathF.Sqrt(vi / c2) + eps) + wd * p[i]);
            }
        });
    }

    internal static float* Ptr(Tensor t)
    {
        if (t.Buffer is not CpuTensorBuffer b)
        {
            throw new ArgumentException("tensor was not allocated by CpuKernels");
        }

        if (t.Offset < 0 || t.Length < 0 || t.Offset + t.Length > b.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(t), $"view [{t.Offset}, {t.Offset + t.Length}) outside a buffer of {b.Length}");
        }

        return b.Pointer + t.Offset;
    }

    private static int* Ptr(TokenTensor t, long needed = 0)
    {
        if (t.Length < needed)
        {
            throw new ArgumentException($"token tensor holds {t.Length} ids, {needed} needed");
        }

        return (int*)Ptr(new Tensor(t.Buffer, t.Offset, t.Length));
    }

    private static int* Ptr(TokenTensor t) => Ptr(t, 0);

    private static void RequireLength(Tensor t, long length, bool atLeast = false)
    {
        if (atLeast ? t.Length < length : t.Length != length)
        {
            throw new ArgumentException($"tensor holds {t.Length} elements, {(atLeast ? "at least " : "")}{length} expected");
        }
    }

    // Splits [0, count) into fixed chunks (so results never depend on the thread count).
    private static void ForChunks(long count, int chunk, Action<long, int> body)
    {
        if (count <= chunk)
        {
            if (count > 0)
            {
                body(0, (int)count);
            }

            return;
        }

        long chunks = (count + chunk - 1) / chunk;
        Parallel.For(0L, chunks, ci =>
        {
            long s = ci * chunk;
            body(s, (int)Math.Min(chunk, count - s));
        });
    }

    private static void ForRows(int rows, int workPerRow, Action<int> body)
    {
        if ((long)rows * workPerRow < 1 << 14)
        {
            for (int n = 0; n < rows; n++)
            {
                body(n);
            }
        }
        else
        {
            Parallel.For(0, rows, body);
        }
    }
}
