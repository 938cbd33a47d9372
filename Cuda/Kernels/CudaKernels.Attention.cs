using JpegLm.Engine.Kernels;

namespace JpegLm.Cuda.Kernels;

/// <summary>Causal flash-style attention (attention.cu): forward, and a backward split into dQ and dK/dV kernels.</summary>
public sealed unsafe partial class CudaKernels
{
    private const int AttentionRows = 64;    // ATT_ROWS in attention.cu
    private const int AttentionMaxHeadDim = 128;

    private readonly bool _forceFloat32Attention = Environment.GetEnvironmentVariable("JPEGLM_CUDA_ATTENTION") == "fp32";

    /// <inheritdoc/>
    public void AttentionForward(Tensor output, Tensor logSumExp, Tensor query, Tensor key, Tensor value, AttentionShape shape)
    {
        CheckAttention(shape, output, query, key, value);
        RequireLength(logSumExp, (long)shape.Batch * shape.Heads * shape.QueryLength);
        ulong o = Ptr(output), lse = Ptr(logSumExp), q = Ptr(query), k = Ptr(key), v = Ptr(value);
        (int b, int tq, int tk, int tcap, int h, int hkv, int d) = Unpack(shape);
        float scale = 1f / MathF.Sqrt(d);
        if (UsesTensorCoreAttention(shape))
        {
            ulong qb = ToBFloat16(query, "q"), kb = ToBFloat16(key, "k"), vb = ToBFloat16(value, "v");
            void** bf16 = stackalloc void*[] { &o, &lse, &qb, &kb, &vb, &b, &tq, &tk, &tcap, &h, &hkv, &scale };
            Launch("attention_bf16.cu", d == 64 ? "attention_forward_bf16_d64" : "attention_forward_bf16_d128", (Blocks(tq), (uint)h, (uint)b), bf16);
            return;
        }

        void** args = stackalloc void*[] { &o, &lse, &q, &k, &v, &b, &tq, &tk, &tcap, &h, &hkv, &d, &scale };
        Launch("attention.cu", "attention_forward_f32", (Blocks(tq), (uint)h, (uint)b), args);
    }

    /// <summary>
    /// Whether the forward runs on tensor cores (attention_bf16.cu): bf16 mode, head dimension 64 or 128, at least
    /// 16 query rows (decode steps of one token stay on the float32 kernel, which does not copy the whole KV
    /// cache to bf16), and <c>JPEGLM_CUDA_ATTENTION</c> not set to <c>fp32</c>. The backward runs in float32 on
    /// the same bf16-rounded Q, K, V, so its probabilities match the forward's saved log-sum-exp.
    /// </summary>
    public bool UsesTensorCoreAttention(AttentionShape shape)
        => Precision == CudaPrecision.BFloat16 && shape.HeadDim is 64 or 128 && shape.QueryLength >= 16 && !_forceFloat32Attention;

    /// <inheritdoc/>
    public void AttentionBackward(Tensor queryGrad, Tensor keyGrad, Tensor valueGrad, Tensor outputGrad, Tensor output, Tensor logSumExp,
        Tensor query, Tensor key, Tensor value, AttentionShape shape)
    {
        CheckAttention(shape, output, query, key, value);
        RequireLength(outputGrad, output.Length);
        RequireLength(queryGrad, query.Length);
        RequireLength(keyGrad, key.Length);
        RequireLength(valueGrad, value.Length);
        RequireLength(logSumExp, (long)shape.Batch * shape.Heads * shape.QueryLength);
        (int b, int tq, int tk, int tcap, int h, int hkv, int d) = Unpack(shape);
        float scale = 1f / MathF.Sqrt(d);
        ulong dq = Ptr(queryGrad), dk = Ptr(keyGrad), dv = Ptr(valueGrad), dout = Ptr(outputGrad), o = Ptr(output), lse = Ptr(logSumExp);
        ulong q = Ptr(query), k = Ptr(key), v = Ptr(value);
        if (UsesTensorCoreAttention(shape))
        {
            // The forward computed its scores and the saved log-sum-exp from bf16-rounded Q, K, V; recomputing the
            // probabilities from the unrounded values would not sum to one against that log-sum-exp.
            (q, k, v) = (RoundedToBFloat16(query, "q"), RoundedToBFloat16(key, "k"), RoundedToBFloat16(value, "v"));
        }

        ulong delta = _pool.Scratch("attention-delta", (long)b * h * tq * 4);
        void** deltaArgs = stackalloc void*[] { &delta, &dout, &o, &b, &tq, &h, &d };
        Launch("attention.cu", "attention_backward_delta", (long)b * tq * h, deltaArgs);
        void** queryArgs = stackalloc void*[] { &dq, &dout, &lse, &delta, &q, &k, &v, &b, &tq, &tk, &tcap, &h, &hkv, &d, &scale };
        Launch("attention.cu", "attention_backward_query_f32", (Blocks(tq), (uint)h, (uint)b), queryArgs);
        void** keyArgs = stackalloc void*[] { &dk, &dv, &dout, &lse, &delta, &q, &k, &v, &b, &tq, &tk, &tcap, &h, &hkv, &d, &scale };
        Launch("attention.cu", "attention_backward_key_value_f32", (Blocks(tk), (uint)hkv, (uint)b), keyArgs);
    }

    /// <summary>A float32 scratch copy of a tensor rounded to bfloat16 values (slot reused every call).</summary>
    private ulong RoundedToBFloat16(Tensor t, string slot)
    {
        ulong source = Ptr(t);
        ulong copy = _pool.Scratch("bf16-rounded-" + slot, t.Length * 4);
        long n = t.Length;
        void** args = stackalloc void*[] { &copy, &source, &n };
        Launch("pointwise.cu", "round_bf16_f32", n, args);
        return copy;
    }

    private static uint Blocks(int rows) => (uint)((rows + AttentionRows - 1) / AttentionRows);

    private static (int, int, int, int, int, int, int) Unpack(AttentionShape s)
        => (s.Batch, s.QueryLength, s.KeyLength, s.KeyCapacity, s.Heads, s.KvHeads, s.HeadDim);

    private static void CheckAttention(AttentionShape shape, Tensor output, Tensor query, Tensor key, Tensor value)
    {
        shape.Validate();
        if (shape.HeadDim > AttentionMaxHeadDim)
        {
            throw new ArgumentException($"head dimension {shape.HeadDim} exceeds the CUDA attention kernels' {AttentionMaxHeadDim}");
        }

        long q = (long)shape.Batch * shape.QueryLength * shape.Heads * shape.HeadDim;
        long kv = (long)shape.Batch * shape.KeyCapacity * shape.KvHeads * shape.HeadDim;
        RequireLength(output, q);
        RequireLength(query, q);
        RequireLength(key, kv);
        RequireLength(value, kv);
    }
}
