using System.Numerics.Tensors;

namespace JpegLm.Engine.Kernels.Cpu;

/// <summary>Rotary embeddings and tiled causal attention.</summary>
public sealed unsafe partial class CpuKernels
{
    // Query and key tile edge: a 64×64 score tile and a 64×D accumulator stay in L1/L2.
    private const int Block = 64;
    private const int MaxHeadDim = 512;

    /// <inheritdoc/>
    public void RotaryForward(Tensor x, int batch, int length, int heads, int headDim, int positionOffset, float theta)
        => Rotate(x, batch, length, heads, headDim, positionOffset, theta, 1f);

    /// <inheritdoc/>
    public void RotaryBackward(Tensor xGrad, int batch, int length, int heads, int headDim, int positionOffset, float theta)
        => Rotate(xGrad, batch, length, heads, headDim, positionOffset, theta, -1f);

    private static void Rotate(Tensor x, int batch, int length, int heads, int headDim, int positionOffset, float theta, float sign)
    {
        if (headDim % 2 != 0 || headDim > MaxHeadDim)
        {
            throw new ArgumentException($"head dimension {headDim} must be even and at most {MaxHeadDim}");
        }

        RequireLength(x, (long)batch * length * heads * headDim);
        float* p = Ptr(x);
        int half = headDim / 2;
        ForRows(batch * length, heads * headDim, row =>
        {
            int t = row % length;
            float position = positionOffset + t;
            float* cos = stackalloc float[half];
            float* sin = stackalloc float[half];
            for (int i = 0; i < half; i++)
            {
                // As Hugging Face: invFreq = 1 / theta^(2i/d) and the angle are float32.
                float invFreq = 1f / MathF.Pow(theta, (2 * i) / (float)headDim);
                float angle = position * invFreq;
                cos[i] = MathF.Cos(angle);
                sin[i] = sign * MathF.Sin(angle);
            }

            for (int h = 0; h < heads; h++)
            {
                float* v = p + ((long)row * heads + h) * headDim;
                for (int i = 0; i < half; i++)
                {
                    float a = v[i], b = v[i + half];
                    v[i] = a * cos[i] - b * sin[i];
                    v[i + half] = b * cos[i] + a * sin[i];
                }
            }
        });
    }

    /// <inheritdoc/>
    public void AttentionForward(Tensor output, Tensor logSumExp, Tensor query, Tensor key, Tensor value, AttentionShape shape)
    {
        shape.Validate();
        (int bsz, int tq, int tk, int cap, int nh, int nkv, int d) = (shape.Batch, shape.QueryLength, shape.KeyLength, shape.KeyCapacity, shape.Heads, shape.KvHeads, shape.HeadDim);
        RequireLength(output, (long)bsz * tq * nh * d);
        RequireLength(query, (long)bsz * tq * nh * d);
        RequireLength(logSumExp, (long)bsz * nh * tq);
        RequireLength(key, (long)bsz * cap * nkv * d, atLeast: true);
        RequireLength(value, (long)bsz * cap * nkv * d, atLeast: true);
        float* o = Ptr(output), lse = Ptr(logSumExp), q = Ptr(query), k = Ptr(key), v = Ptr(value);
        int queryBlocks = (tq + Block - 1) / Block;
        int items = bsz * nh * queryBlocks;
        var gemm = _blockGemm;
        // Decoding (a few new queries against a long cache) works row by row: tiles would pack every key
        // block for a handful of products.
        bool rowWise = tq <= 4;
        Action<int> body = item =>
        {
            int qb = item % queryBlocks, bh = item / queryBlocks;
            if (rowWise)
            {
                ForwardRows(shape, bh / nh, bh % nh, qb * Block, Math.Min(tq, (qb + 1) * Block), o, lse, q, k, v);
            }
            else
            {
                ForwardBlock(gemm, shape, bh / nh, bh % nh, qb * Block, Math.Min(tq, (qb + 1) * Block), o, lse, q, k, v);
            }
        };
        if (items == 1 || (long)tq * tk * nh * bsz * d < 1 << 20)
        {
            for (int item = 0; item < items; item++)
            {
                body(item);
            }
        }
        else
        {
            Parallel.For(0, items, body);
        }
    }

    // One query block of one head: S = scale·Q·Kᵀ per key block, online softmax, O += P·V (flash attention).
    private static void ForwardBlock(IThreadGemm gemm, AttentionShape shape, int b, int h, int i0, int i1,
        float* o, float* lse, float* q, float* k, float* v)
    {
        (int tq, int tk, int cap, int nh, int nkv, int d) = (shape.QueryLength, shape.KeyLength, shape.KeyCapacity, shape.Heads, shape.KvHeads, shape.HeadDim);
        int kvh = h / (nh / nkv), rows = i1 - i0, qStride = nh * d, kStride = nkv * d;
        float scale = 1f / MathF.Sqrt(d);
        float[] scratch = Scratch(d);
        fixed (float* buf = scratch)
        {
            float* s = buf, acc = buf + Block * Block, max = acc + Block * d, sum = max + Block;
            new Span<float>(acc, rows * d).Clear();
            new Span<float>(max, rows).Fill(float.NegativeInfinity);
            new Span<float>(sum, rows).Clear();
            float* qBlock = q + ((long)b * tq + i0) * qStride + h * d;
            int lastPosition = tk - tq + i1 - 1;
            for (int j0 = 0; j0 <= lastPosition; j0 += Block)
            {
                int cols = Math.Min(Block, lastPosition + 1 - j0);
                float* kBlock = k + ((long)b * cap + j0) * kStride + kvh * d;
                float* vBlock = v + ((long)b * cap + j0) * kStride + kvh * d;
                gemm.SgemmOnThisThread(false, true, rows, cols, d, scale, qBlock, qStride, kBlock, kStride, 0f, s, Block);
                for (int r = 0; r < rows; r++)
                {
                    int visible = Math.Min(cols, tk - tq + i0 + r - j0 + 1); // causal: keys ≤ this query's position
                    var row = new Span<float>(s + r * Block, cols);
                    if (visible <= 0)
                    {
                        row.Clear();
                        continue;
                    }

                    row[visible..].Clear();
                    float blockMax = TensorPrimitives.Max(row[..visible]);
                    float newMax = MathF.Max(max[r], blockMax);
                    float correction = MathF.Exp(max[r] - newMax);
                    max[r] = newMax;
                    TensorPrimitives.Subtract(row[..visible], newMax, row[..visible]);
                    TensorPrimitives.Exp(row[..visible], row[..visible]);
                    sum[r] = sum[r] * correction + TensorPrimitives.Sum(row[..visible]);
                    if (correction != 1f)
                    {
                        var accRow = new Span<float>(acc + r * d, d);
                        TensorPrimitives.Multiply(accRow, correction, accRow);
                    }
                }

                gemm.SgemmOnThisThread(false, false, rows, d, cols, 1f, s, Block, vBlock, kStride, 1f, acc, d);
            }

            for (int r = 0; r < rows; r++)
            {
                TensorPrimitives.Multiply(new ReadOnlySpan<float>(acc + r * d, d), 1f / sum[r], new Span<float>(o + ((long)b * tq + i0 + r) * qStride + h * d, d));
                lse[((long)b * nh + h) * tq + i0 + r] = max[r] + MathF.Log(sum[r]);
            }
        }
    }

    // Query rows one at a time with an online softmax over blocks of keys (dot products and AXPYs).
    private static void ForwardRows(AttentionShape shape, int b, int h, int i0, int i1, float* o, float* lse, float* q, float* k, float* v)
    {
        (int tq, int tk, int cap, int nh, int nkv, int d) = (shape.QueryLength, shape.KeyLength, shape.KeyCapacity, shape.Heads, shape.KvHeads, shape.HeadDim);
        int kvh = h / (nh / nkv);
        float scale = 1f / MathF.Sqrt(d);
        float[] scratch = Scratch(d);
        fixed (float* buf = scratch)
        {
            float* scores = buf, acc = buf + Block * Block;
            var accSpan = new Span<float>(acc, d);
            for (int i = i0; i < i1; i++)
            {
                int position = tk - tq + i;
                var qi = new ReadOnlySpan<float>(q + (((long)b * tq + i) * nh + h) * d, d);
                float max = float.NegativeInfinity, sum = 0f;
                accSpan.Clear();
                for (int j0 = 0; j0 <= position; j0 += Block)
                {
                    int count = Math.Min(Block, position + 1 - j0);
                    float blockMax = float.NegativeInfinity;
                    for (int j = 0; j < count; j++)
                    {
                        float s = scale * TensorPrimitives.Dot(qi, new ReadOnlySpan<float>(k + (((long)b * cap + j0 + j) * nkv + kvh) * d, d));
                        scores[j] = s;
                        blockMax = MathF.Max(blockMax, s);
                    }

                    if (blockMax > max)
                    {
                        float correction = MathF.Exp(max - blockMax);
                        sum *= correction;
                        TensorPrimitives.Multiply(accSpan, correction, accSpan);
                        max = blockMax;
                    }

                    for (int j = 0; j < count; j++)
                    {
                        float pj = MathF.Exp(scores[j] - max);
                        sum += pj;
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(v + (((long)b * cap + j0 + j) * nkv + kvh) * d, d), pj, accSpan, accSpan);
                    }
                }

                TensorPrimitives.Multiply(accSpan, 1f / sum, new Span<float>(o + (((long)b * tq + i) * nh + h) * d, d));
                lse[((long)b * nh + h) * tq + i] = max + MathF.Log(sum);
            }
        }
    }

    /// <inheritdoc/>
    public void AttentionBackward(Tensor queryGrad, Tensor keyGrad, Tensor valueGrad, Tensor outputGrad, Tensor output, Tensor logSumExp,
        Tensor query, Tensor key, Tensor value, AttentionShape shape)
    {
        shape.Validate();
        (int bsz, int tq, int cap, int nh, int nkv, int d) = (shape.Batch, shape.QueryLength, shape.KeyCapacity, shape.Heads, shape.KvHeads, shape.HeadDim);
        long qCount = (long)bsz * tq * nh * d, kvCount = (long)bsz * cap * nkv * d;
        RequireLength(queryGrad, qCount);
        RequireLength(outputGrad, qCount);
        RequireLength(output, qCount);
        RequireLength(query, qCount);
        RequireLength(logSumExp, (long)bsz * nh * tq);
        RequireLength(keyGrad, kvCount, atLeast: true);
        RequireLength(valueGrad, kvCount, atLeast: true);
        RequireLength(key, kvCount, atLeast: true);
        RequireLength(value, kvCount, atLeast: true);
        var p = new AttentionPointers((nint)Ptr(queryGrad), (nint)Ptr(keyGrad), (nint)Ptr(valueGrad), (nint)Ptr(outputGrad), (nint)Ptr(output), (nint)Ptr(logSumExp), (nint)Ptr(query), (nint)Ptr(key), (nint)Ptr(value));
        var gemm = _blockGemm;
        int group = nh / nkv;
        // One task per (sequence, key/value head): it owns that head's dK, dV and its query heads' dQ, so
        // every sum runs in one fixed order without locks. Probabilities are recomputed from the lse.
        Parallel.For(0, bsz * nkv, item =>
        {
            int b = item / nkv, kvh = item % nkv;
            for (int h = kvh * group; h < (kvh + 1) * group; h++)
            {
                for (int i0 = 0; i0 < tq; i0 += Block)
                {
                    BackwardBlock(gemm, shape, b, h, i0, Math.Min(tq, i0 + Block), p);
                }
            }
        });
    }

    private readonly record struct AttentionPointers(nint Dq, nint Dk, nint Dv, nint Dout, nint O, nint Lse, nint Q, nint K, nint V);

    // One query block of one head against every visible key block: P from the lse, dP = dO·Vᵀ,
    // dS = P ⊙ (dP − rowsum(dO ⊙ O)), then dV += Pᵀ·dO, dK += scale·dSᵀ·Q, dQ += scale·dS·K.
    private static void BackwardBlock(IThreadGemm gemm, AttentionShape shape, int b, int h, int i0, int i1, AttentionPointers ptr)
    {
        (int tq, int tk, int cap, int nh, int nkv, int d) = (shape.QueryLength, shape.KeyLength, shape.KeyCapacity, shape.Heads, shape.KvHeads, shape.HeadDim);
        int kvh = h / (nh / nkv), rows = i1 - i0, qStride = nh * d, kStride = nkv * d;
        float scale = 1f / MathF.Sqrt(d);
        long qOffset = ((long)b * tq + i0) * qStride + h * d;
        float* qBlock = (float*)ptr.Q + qOffset, doBlock = (float*)ptr.Dout + qOffset, oBlock = (float*)ptr.O + qOffset, dqBlock = (float*)ptr.Dq + qOffset;
        float* rowLse = (float*)ptr.Lse + ((long)b * nh + h) * tq + i0;
        float[] scratch = Scratch(d);
        fixed (float* buf = scratch)
        {
            float* pm = buf, dp = buf + Block * Block, delta = dp + Block * Block;
            for (int r = 0; r < rows; r++)
            {
                delta[r] = TensorPrimitives.Dot(new ReadOnlySpan<float>(doBlock + (long)r * qStride, d), new ReadOnlySpan<float>(oBlock + (long)r * qStride, d));
            }

            int lastPosition = tk - tq + i1 - 1;
            for (int j0 = 0; j0 <= lastPosition; j0 += Block)
            {
                int cols = Math.Min(Block, lastPosition + 1 - j0);
                long kOffset = ((long)b * cap + j0) * kStride + kvh * d;
                float* kBlock = (float*)ptr.K + kOffset, vBlock = (float*)ptr.V + kOffset;
                gemm.SgemmOnThisThread(false, true, rows, cols, d, scale, qBlock, qStride, kBlock, kStride, 0f, pm, Block);
                gemm.SgemmOnThisThread(false, true, rows, cols, d, 1f, doBlock, qStride, vBlock, kStride, 0f, dp, Block);
                for (int r = 0; r < rows; r++)
                {
                    int visible = Math.Clamp(tk - tq + i0 + r - j0 + 1, 0, cols);
                    var pRow = new Span<float>(pm + r * Block, cols);
                    var dRow = new Span<float>(dp + r * Block, cols);
                    TensorPrimitives.Subtract(pRow[..visible], rowLse[r], pRow[..visible]);
                    TensorPrimitives.Exp(pRow[..visible], pRow[..visible]);
                    pRow[visible..].Clear();
                    TensorPrimitives.Subtract(dRow, delta[r], dRow);
                    TensorPrimitives.Multiply(dRow, pRow, dRow); // dS (masked entries are 0 because P is)
                }

                gemm.SgemmOnThisThread(true, false, cols, d, rows, 1f, pm, Block, doBlock, qStride, 1f, (float*)ptr.Dv + kOffset, kStride);
                gemm.SgemmOnThisThread(true, false, cols, d, rows, scale, dp, Block, qBlock, qStride, 1f, (float*)ptr.Dk + kOffset, kStride);
                gemm.SgemmOnThisThread(false, false, rows, d, cols, scale, dp, Block, kBlock, kStride, 1f, dqBlock, qStride);
            }
        }
    }

    [ThreadStatic]
    private static float[]? t_attentionScratch;

    private static float[] Scratch(int headDim)
    {
        int needed = 2 * Block * Block + Block * headDim + 3 * Block;
        if (t_attentionScratch == null || t_attentionScratch.Length < needed)
        {
            t_attentionScratch = new float[needed];
        }

        return t_attentionScratch;
    }
}
