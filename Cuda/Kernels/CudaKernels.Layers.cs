using JpegLm.Cuda.Interop;
using JpegLm.Engine.Kernels;

namespace JpegLm.Cuda.Kernels;

/// <summary>Embedding, linear layers, normalization, pointwise ops, loss and optimizer.</summary>
public sealed unsafe partial class CudaKernels
{
    private const int RmsRowsPerChunk = 256; // RMS_ROWS_PER_CHUNK in rmsnorm.cu
    private int[] _bucketRows = [];
    private int[] _bucketCounts = [];
    private ITensorBuffer? _rotaryTable;
    private (int HeadDim, float Theta) _rotaryKey;
    private int _rotaryPositions;

    // ───────────────────────────── embedding ─────────────────────────────

    /// <inheritdoc/>
    public void EmbeddingForward(Tensor output, TokenTensor tokens, Tensor table, int rows, int channels)
    {
        RequireLength(output, (long)rows * channels);
        int vocab = checked((int)(table.Length / channels));
        ulong o = Ptr(output), t = Ptr(tokens, rows), w = Ptr(table);
        void** args = stackalloc void*[] { &o, &t, &w, &rows, &channels, &vocab };
        Launch("embedding.cu", "embedding_forward", (long)rows * channels, args);
    }

    /// <inheritdoc/>
    public void EmbeddingBackward(Tensor tableGrad, Tensor outputGrad, TokenTensor tokens, int rows, int channels)
    {
        RequireLength(outputGrad, (long)rows * channels);
        int vocab = checked((int)(tableGrad.Length / channels));
        ulong dw = Ptr(tableGrad), dout = Ptr(outputGrad), t = Ptr(tokens, rows);
        if (!_hostTokens.TryGetValue(((CudaTensorBuffer)tokens.Buffer, tokens.Offset), out int[]? host) || host.Length < rows)
        {
            // Token ids written on the device only: one thread per channel walks the rows in order.
            void** serial = stackalloc void*[] { &dw, &dout, &t, &rows, &channels, &vocab };
            Launch("embedding.cu", "embedding_backward_serial", channels, serial);
            return;
        }

        int buckets = BuildBuckets(host.AsSpan(0, rows), vocab);
        // One upload: rows grouped by token [rows], bucket starts [buckets + 1], bucket tokens [buckets].
        int[] packed = _bucketRows;
        ulong scratch = _pool.Scratch("embedding-buckets", (long)packed.Length * 4);
        _device.CopyToDevice(scratch, System.Runtime.InteropServices.MemoryMarshal.AsBytes(packed.AsSpan(0, rows + 2 * buckets + 1)));
        ulong rowsByToken = scratch, starts = scratch + (ulong)rows * 4, ids = starts + (ulong)(buckets + 1) * 4;
        void** args = stackalloc void*[] { &dw, &dout, &rowsByToken, &starts, &ids, &buckets, &channels };
        Launch("embedding.cu", "embedding_backward_buckets", (long)buckets * channels, args);
    }

    /// <summary>
    /// Counting sort of row numbers by token id (stable, so each bucket lists its rows in increasing order),
    /// packed into <see cref="_bucketRows"/> as [rows | starts | ids]. Returns the number of distinct tokens.
    /// </summary>
    private int BuildBuckets(ReadOnlySpan<int> tokens, int vocab)
    {
        if (_bucketCounts.Length < vocab + 1)
        {
            _bucketCounts = new int[vocab + 1];
        }

        Span<int> counts = _bucketCounts.AsSpan(0, vocab + 1);
        counts.Clear();
        int valid = 0;
        foreach (int t in tokens)
        {
            if ((uint)t >= (uint)vocab)
            {
                throw new ArgumentOutOfRangeException(nameof(tokens), $"token {t} is outside the vocabulary of {vocab}");
            }

            if (counts[t + 1]++ == 0)
            {
                valid++;
            }
        }

        int rows = tokens.Length;
        if (_bucketRows.Length < rows + 2 * valid + 1)
        {
            _bucketRows = new int[rows * 3 + 1];
        }

        Span<int> rowsByToken = _bucketRows.AsSpan(0, rows);
        Span<int> starts = _bucketRows.AsSpan(rows, valid + 1);
        Span<int> ids = _bucketRows.AsSpan(rows + valid + 1, valid);
        int b = 0;
        for (int v = 0; v < vocab; v++)
        {
            if (counts[v + 1] > 0)
            {
                starts[b] = counts[v];
                ids[b] = v;
                b++;
            }

            counts[v + 1] += counts[v]; // prefix sum: counts[v] = first slot of token v
        }

        starts[valid] = rows;
        for (int n = 0; n < rows; n++)
        {
            rowsByToken[counts[tokens[n]]++] = n;
        }

        return valid;
    }

    // ───────────────────────────── linear layers ─────────────────────────────

    /// <inheritdoc/>
    public void MatMulForward(Tensor output, Tensor input, Tensor weight, int rows, int inFeatures, int outFeatures)
    {
        RequireLength(output, (long)rows * outFeatures);
        RequireLength(input, (long)rows * inFeatures);
        RequireLength(weight, (long)outFeatures * inFeatures);
        (ulong x, ulong w, CudaDataType type) = GemmOperands(input, weight, "a", "b");
        // Row-major Y[N,OC] = X[N,IC] · Wᵀ is column-major Yᵀ(OC×N) = Wᵀ · Xᵀ: A = W (IC×OC, transposed), B = X (IC×N).
        _cublas.Gemm(true, false, outFeatures, rows, inFeatures, 1f, w, inFeatures, x, inFeatures, 0f, Ptr(output), outFeatures, type, "matmul forward");
    }

    /// <inheritdoc/>
    public void MatMulBackward(Tensor inputGrad, Tensor weightGrad, Tensor outputGrad, Tensor input, Tensor weight, int rows, int inFeatures, int outFeatures)
    {
        RequireLength(inputGrad, (long)rows * inFeatures);
        RequireLength(weightGrad, (long)outFeatures * inFeatures);
        RequireLength(outputGrad, (long)rows * outFeatures);
        (ulong x, ulong w, CudaDataType type) = GemmOperands(input, weight, "a", "b");
        ulong dy = Precision == CudaPrecision.BFloat16 ? ToBFloat16(outputGrad, "c") : Ptr(outputGrad);
        // dX[N,IC] += dY[N,OC] · W[OC,IC]: column-major dXᵀ(IC×N) = W(IC×OC) · dYᵀ(OC×N).
        _cublas.Gemm(false, false, inFeatures, rows, outFeatures, 1f, w, inFeatures, dy, outFeatures, 1f, Ptr(inputGrad), inFeatures, type, "matmul backward input");
        // dW[OC,IC] += dYᵀ · X: column-major dWᵀ(IC×OC) = Xᵀ(IC×N) · dY(N×OC).
        _cublas.Gemm(false, true, inFeatures, outFeatures, rows, 1f, x, inFeatures, dy, outFeatures, 1f, Ptr(weightGrad), inFeatures, type, "matmul backward weight");
    }

    private (ulong Input, ulong Weight, CudaDataType Type) GemmOperands(Tensor input, Tensor weight, string inputSlot, string weightSlot)
        => Precision == CudaPrecision.BFloat16
            ? (ToBFloat16(input, inputSlot), ToBFloat16(weight, weightSlot), CudaDataType.BFloat16)
            : (Ptr(input), Ptr(weight), CudaDataType.Float32);

    /// <summary>Rounds a float32 tensor into a bfloat16 scratch copy (slot reused every call).</summary>
    private ulong ToBFloat16(Tensor t, string slot)
    {
        ulong source = Ptr(t);
        ulong copy = _pool.Scratch("bf16-" + slot, t.Length * 2);
        long n = t.Length;
        void** args = stackalloc void*[] { &copy, &source, &n };
        Launch("pointwise.cu", "cast_f32_bf16", n, args);
        return copy;
    }

    // ───────────────────────────── normalization and pointwise ─────────────────────────────

    /// <inheritdoc/>
    public void RmsNormForward(Tensor output, Tensor rstd, Tensor input, Tensor weight, int rows, int channels, float epsilon)
    {
        RequireLength(output, (long)rows * channels);
        RequireLength(input, (long)rows * channels);
        RequireLength(rstd, rows);
        RequireLength(weight, channels);
        ulong o = Ptr(output), r = Ptr(rstd), x = Ptr(input), w = Ptr(weight);
        void** args = stackalloc void*[] { &o, &r, &x, &w, &rows, &channels, &epsilon };
        Launch("rmsnorm.cu", "rmsnorm_forward", ((uint)rows, 1, 1), args);
    }

    /// <inheritdoc/>
    public void RmsNormBackward(Tensor inputGrad, Tensor weightGrad, Tensor outputGrad, Tensor input, Tensor weight, Tensor rstd, int rows, int channels)
    {
        RequireLength(inputGrad, (long)rows * channels);
        RequireLength(outputGrad, (long)rows * channels);
        RequireLength(input, (long)rows * channels);
        RequireLength(weightGrad, channels);
        RequireLength(weight, channels);
        RequireLength(rstd, rows);
        ulong dx = Ptr(inputGrad), dw = Ptr(weightGrad), dy = Ptr(outputGrad), x = Ptr(input), w = Ptr(weight), r = Ptr(rstd);
        void** input_ = stackalloc void*[] { &dx, &dy, &x, &w, &r, &rows, &channels };
        Launch("rmsnorm.cu", "rmsnorm_backward_input", ((uint)rows, 1, 1), input_);
        int chunks = (rows + RmsRowsPerChunk - 1) / RmsRowsPerChunk;
        ulong partials = _pool.Scratch("rmsnorm-partials", (long)chunks * channels * 4);
        void** partial = stackalloc void*[] { &partials, &dy, &x, &r, &rows, &channels };
        Launch("rmsnorm.cu", "rmsnorm_backward_weight_partial", ((uint)((channels + Threads - 1) / Threads), (uint)chunks, 1), partial);
        void** final = stackalloc void*[] { &dw, &partials, &chunks, &channels };
        Launch("rmsnorm.cu", "rmsnorm_backward_weight_final", channels, final);
    }

    /// <inheritdoc/>
    public void Add(Tensor output, Tensor a, Tensor b, long count)
    {
        RequireLength(output, count, atLeast: true);
        RequireLength(a, count, atLeast: true);
        RequireLength(b, count, atLeast: true);
        ulong o = Ptr(output), pa = Ptr(a), pb = Ptr(b);
        void** args = stackalloc void*[] { &o, &pa, &pb, &count };
        Launch("pointwise.cu", "add_f32", count, args);
    }

    /// <inheritdoc/>
    public void SwiGluForward(Tensor output, Tensor gate, Tensor up, long count)
    {
        RequireLength(output, count, atLeast: true);
        RequireLength(gate, count, atLeast: true);
        RequireLength(up, count, atLeast: true);
        ulong o = Ptr(output), g = Ptr(gate), u = Ptr(up);
        void** args = stackalloc void*[] { &o, &g, &u, &count };
        Launch("pointwise.cu", "swiglu_forward", count, args);
    }

    /// <inheritdoc/>
    public void SwiGluBackward(Tensor gateGrad, Tensor upGrad, Tensor outputGrad, Tensor gate, Tensor up, long count)
    {
        RequireLength(gateGrad, count, atLeast: true);
        RequireLength(upGrad, count, atLeast: true);
        RequireLength(outputGrad, count, atLeast: true);
        RequireLength(gate, count, atLeast: true);
        RequireLength(up, count, atLeast: true);
        ulong dg = Ptr(gateGrad), du = Ptr(upGrad), dy = Ptr(outputGrad), g = Ptr(gate), u = Ptr(up);
        void** args = stackalloc void*[] { &dg, &du, &dy, &g, &u, &count };
        Launch("pointwise.cu", "swiglu_backward", count, args);
    }

    // ───────────────────────────── rotary ─────────────────────────────

    /// <inheritdoc/>
    public void RotaryForward(Tensor x, int batch, int length, int heads, int headDim, int positionOffset, float theta)
        => Rotate(x, batch, length, heads, headDim, positionOffset, theta, 1f);

    /// <inheritdoc/>
    public void RotaryBackward(Tensor xGrad, int batch, int length, int heads, int headDim, int positionOffset, float theta)
        => Rotate(xGrad, batch, length, heads, headDim, positionOffset, theta, -1f);

    private void Rotate(Tensor x, int batch, int length, int heads, int headDim, int positionOffset, float theta, float direction)
    {
        if (headDim % 2 != 0)
        {
            throw new ArgumentException($"head dimension {headDim} must be even");
        }

        RequireLength(x, (long)batch * length * heads * headDim);
        ulong p = Ptr(x), table = RotaryTable(headDim, theta, positionOffset + length);
        void** args = stackalloc void*[] { &p, &table, &batch, &length, &heads, &headDim, &positionOffset, &direction };
        Launch("pointwise.cu", "rotary", (long)batch * length * heads * (headDim / 2), args);
    }

    /// <summary>
    /// The device copy of <see cref="RotaryTableValues"/> for at least <paramref name="positions"/> positions:
    /// uploaded once per (head dimension, theta) and regrown (doubling) when a longer sequence comes.
    /// </summary>
    private ulong RotaryTable(int headDim, float theta, int positions)
    {
        if (_rotaryTable == null || _rotaryKey != (headDim, theta) || positions > _rotaryPositions)
        {
            int count = _rotaryTable != null && _rotaryKey == (headDim, theta) ? Math.Max(positions, 2 * _rotaryPositions) : Math.Max(positions, 256);
            float[] values = RotaryTableValues(headDim, theta, count);
            if (_rotaryTable != null)
            {
                _device.Synchronize(); // a queued rotary launch may still read the old table
                _rotaryTable.Dispose();
            }

            _rotaryTable = Allocate(values.Length);
            Upload(values, Tensor.Of(_rotaryTable));
            (_rotaryKey, _rotaryPositions) = ((headDim, theta), count);
        }

        return Ptr(Tensor.Of(_rotaryTable));
    }

    /// <summary>
    /// (cos, sin) per position and frequency, <c>[positions][headDim / 2][2]</c>, with the CPU engine's
    /// float32 arithmetic: invFreq = 1 / theta^(2i/d), angle = position · invFreq.
    /// </summary>
    internal static float[] RotaryTableValues(int headDim, float theta, int positions)
    {
        int half = headDim / 2;
        float[] values = new float[(long)positions * half * 2];
        for (int i = 0; i < half; i++)
        {
            float invFreq = 1f / MathF.Pow(theta, (2 * i) / (float)headDim);
            for (int position = 0; position < positions; position++)
            {
                float angle = (float)position * invFreq;
                long at = 2 * ((long)position * half + i);
                values[at] = MathF.Cos(angle);
                values[at + 1] = MathF.Sin(angle);
            }
        }

        return values;
    }

    // ───────────────────────────── loss ─────────────────────────────

    /// <inheritdoc/>
    public void CrossEntropyForward(Tensor losses, Tensor logits, TokenTensor targets, int rows, int vocab)
        => CrossEntropy(losses, logits, targets, 0f, rows, vocab, 0);

    /// <inheritdoc/>
    public void CrossEntropyForwardBackward(Tensor losses, Tensor logits, TokenTensor targets, float gradientScale, int rows, int vocab)
        => CrossEntropy(losses, logits, targets, gradientScale, rows, vocab, 1);

    private void CrossEntropy(Tensor losses, Tensor logits, TokenTensor targets, float scale, int rows, int vocab, int writeGradient)
    {
        RequireLength(losses, rows);
        RequireLength(logits, (long)rows * vocab);
        ulong l = Ptr(losses), z = Ptr(logits), t = Ptr(targets, rows);
        void** args = stackalloc void*[] { &l, &z, &t, &scale, &rows, &vocab, &writeGradient };
        Launch("loss.cu", "cross_entropy", ((uint)rows, 1, 1), args);
    }

    // ───────────────────────────── optimizer ─────────────────────────────

    /// <inheritdoc/>
    public void SumOfSquares(Tensor result, Tensor x)
    {
        RequireLength(result, 1, atLeast: true);
        long n = x.Length;
        // The partial count depends on the length only, never on the device, so the order is fixed.
        int blocks = (int)Math.Clamp((n + Threads * 8 - 1) / (Threads * 8), 1, 1024);
        ulong partials = _pool.Scratch("sum-squares", blocks * 4L);
        ulong p = Ptr(x), r = Ptr(result);
        void** first = stackalloc void*[] { &partials, &p, &n };
        Launch("optimizer.cu", "sum_squares_partial", ((uint)blocks, 1, 1), first);
        void** second = stackalloc void*[] { &r, &partials, &blocks };
        Launch("optimizer.cu", "sum_squares_final", (1, 1, 1), second);
    }

    /// <inheritdoc/>
    public void AdamW(Tensor parameters, Tensor gradients, Tensor firstMoment, Tensor secondMoment, AdamWStep step)
    {
        long n = parameters.Length;
        RequireLength(gradients, n);
        RequireLength(firstMoment, n);
        RequireLength(secondMoment, n);
        ulong p = Ptr(parameters), g = Ptr(gradients), m = Ptr(firstMoment), v = Ptr(secondMoment);
        float lr = step.LearningRate, b1 = step.Beta1, b2 = step.Beta2, eps = step.Epsilon, wd = step.WeightDecay, gs = step.GradientScale;
        float c1 = (float)(1 - Math.Pow(b1, step.Step)), c2 = (float)(1 - Math.Pow(b2, step.Step));
        void** args = stackalloc void*[] { &p, &g, &m, &v, &n, &lr, &b1, &b2, &eps, &wd, &c1, &c2, &gs };
        Launch("optimizer.cu", "adamw", n, args);
    }
}
