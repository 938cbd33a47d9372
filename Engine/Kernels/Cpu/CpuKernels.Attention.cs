using System.Numerics.Tensors;

namespace JpegLm.Engine.Kernels.Cpu;

/// <summary>Rotary embeddings and tiled causal attention.</summary>
public sealed unsafe partial class CpuKernels
{
    private const int KeyBlock = 64;
    private const int QueryBlock = 16;
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
        if (d > MaxHeadDim)
        {
            throw new ArgumentException($"head dimension {d} exceeds {MaxHeadDim}");
        }

        RequireLength(output, (long)bsz * tq * nh * d);
        RequireLength(query, (long)bsz * tq * nh * d);
        RequireLength(logSumExp, (long)bsz * nh * tq);
        RequireLength(key, (long)bsz * cap * nkv * d, atLeast: true);
        RequireLength(value, (long)bsz * cap * nkv * d, atLeast: true);
        float* o = Ptr(output), lse = Ptr(logSumExp), q = Ptr(query), k = Ptr(key), v = Ptr(value);
        float scale = 1f / MathF.Sqrt(d);
        int group = nh / nkv;
        int queryBlocks = (tq + QueryBlock - 1) / QueryBlock;
        int items = bsz * nh * queryBlocks;
        Action<int> body = item =>
        {
            int qb = item % queryBlocks, bh = item / queryBlocks, h = bh % nh, b = bh / nh;
            int kvh = h / group;
            float* scores = stackalloc float[KeyBlock];
            float* acc = stackalloc float[d];
            var accSpan = new Span<float>(acc, d);
            for (int i = qb * QueryBlock; i < Math.Min(tq, (qb + 1) * QueryBlock); i++)
            {
                int position = tk - tq + i;
                var qi = new ReadOnlySpan<float>(q + (((long)b * tq + i) * nh + h) * d, d);
                float max = float.NegativeInfinity, sum = 0f;
                accSpan.Clear();
                // Online softmax over blocks of keys: only KeyBlock scores exist at any time.
                for (int j0 = 0; j0 <= position; j0 += KeyBlock)
                {
                    int count = Math.Min(KeyBlock, position + 1 - j0);
                    float blockMax = float.NegativeInfinity;
                    for (int j = 0; j < count; j++)
                    {
                        float* kj = k + (((long)b * cap + j0 + j) * nkv + kvh) * d;
                        float s = scale * TensorPrimitives.Dot(qi, new ReadOnlySpan<float>(kj, d));
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
                        float* vj = v + (((long)b * cap + j0 + j) * nkv + kvh) * d;
                        TensorPrimitives.MultiplyAdd(new ReadOnlySpan<float>(vj, d), pj, accSpan, accSpan);
                    }
                }

                TensorPrimitives.Multiply(accSpan, 1f / sum, new Span<float>(o + (((long)b * tq + i) * nh + h) * d, d));
                lse[((long)b * nh + h) * tq + i] = max + MathF.Log(sum);
            }
        };
        if ((long)tq * tk * nh * bsz * d < 1 << 16)
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

    /// <inheritdoc/>
    public void AttentionBackward(Tensor queryGrad, Tensor keyGrad, Tensor valueGrad, Tensor outputGrad, Tensor output, Tensor logSumExp,
        Tensor query, Tensor key, Tensor value, AttentionShape shape)
    {
        shape.Validate();
        (int bsz, int tq, int tk, int cap, int nh, int nkv, int d) = (shape.Batch, shape.QueryLength, shape.KeyLength, shape.KeyCapacity, shape.Heads, shape.KvHeads, shape.HeadDim);
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
        float* dq = Ptr(queryGrad), dk = Ptr(keyGrad), dv = Ptr(valueGrad), dout = Ptr(outputGrad), o = Ptr(output);
        float* lse = Ptr(logSumExp), q = Ptr(query), k = Ptr(key), v = Ptr(value);
        float scale = 1f / MathF.Sqrt(d);
        int group = nh / nkv;
        // One task per (sequence, key/value head): it owns that head's dK, dV and its query heads' dQ,
        // so every sum runs in one fixed order without locks. Probabilities are recomputed from the lse.
        Parallel.For(0, bsz * nkv, item =>
        {
            int b = item / nkv, kvh = item % nkv;
            for (int h = kvh * group; h < (kvh + 1) * group; h++)
            {
                for (int i = 0; i < tq; i++)
                {
                    int position = tk - tq + i;
                    long qOff = (((long)b * tq + i) * nh + h) * d;
                    var qi = new ReadOnlySpan<float>(q + qOff, d);
                    var doi = new ReadOnlySpan<float>(dout + qOff, d);
                    var dqi = new Span<float>(dq + qOff, d);
                    float rowLse = lse[((long)b * nh + h) * tq + i];
                    float delta = TensorPrimitives.Dot(doi, new ReadOnlySpan<float>(o + qOff, d));
                    for (int j = 0; j <= position; j++)
                    {
                        long kOff = (((long)b * cap + j) * nkv + kvh) * d;
                        var kj = new ReadOnlySpan<float>(k + kOff, d);
                        float pij = MathF.Exp(scale * TensorPrimitives.Dot(qi, kj) - rowLse);
                        float dp = TensorPrimitives.Dot(doi, new ReadOnlySpan<float>(v + kOff, d));
                        float ds = pij * (dp - delta) * scale;
                        TensorPrimitives.MultiplyAdd(kj, ds, dqi, dqi);
                        var dkj = new Span<float>(dk + kOff, d);
                        TensorPrimitives.MultiplyAdd(qi, ds, dkj, dkj);
                        var dvj = new Span<float>(dv + kOff, d);
                        TensorPrimitives.MultiplyAdd(doi, pij, dvj, dvj);
                    }
                }
            }
        });
    }
}
