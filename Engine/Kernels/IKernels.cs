namespace JpegLm.Engine.Kernels;

/// <summary>
/// The seam between the Llama engine and a compute backend: memory management plus every layer's
/// forward and backward kernel. The engine (model, trainer, sampler) is written only against this
/// interface; <c>CpuKernels</c> implements it with SIMD + Parallel.For, a CUDA backend with device memory.
/// </summary>
/// <remarks>
/// <para><b>Memory.</b> All tensors live in <see cref="ITensorBuffer"/>s allocated by the same backend
/// (<see cref="Allocate"/>). Host data crosses only through <see cref="Upload(ReadOnlySpan{float}, Tensor)"/>,
/// <see cref="Upload(ReadOnlySpan{int}, TokenTensor)"/> and <see cref="Download"/>: once per step for the
/// batch's tokens, the per-row losses and (when clipping) one squared norm, and once per sampled token for
/// the last row's logits. Kernel calls may run asynchronously on a GPU; <see cref="Download"/> and
/// <see cref="Synchronize"/> wait for all earlier calls.</para>
/// <para><b>Layout.</b> Row-major, last dimension fastest. <c>N</c> is the number of token rows
/// (<c>batch × sequence</c>), <c>C</c> the model width, <c>V</c> the vocabulary size. Weight matrices are
/// stored as Hugging Face <c>nn.Linear</c> stores them: <c>[outFeatures, inFeatures]</c>.</para>
/// <para><b>Gradients accumulate.</b> Every backward kernel ADDS its results into the gradient tensors it
/// is given (parameter and activation gradients alike); the caller zeroes them when a new accumulation
/// begins. This makes gradient accumulation and the residual stream free. The two documented exceptions
/// transform a tensor in place: <see cref="RotaryBackward"/> and <see cref="CrossEntropyForwardBackward"/>.</para>
/// <para><b>Determinism.</b> For the same inputs a backend must return bit-identical results on every call
/// (fixed reduction order; no atomics whose order varies), so that training resumes exactly.</para>
/// <para>Output tensors never alias inputs unless a method says so.</para>
/// </remarks>
public interface IKernels : IDisposable
{
    /// <summary>A short name for logs and benchmark tables, e.g. <c>cpu(openblas)</c>.</summary>
    string Name { get; }

    /// <summary>
    /// The backend's peak dense FLOP/s for the precision its matrix products run in: the denominator of model FLOP/s
    /// utilization (MFU, see <c>TrainingFlops</c>). Null when the backend cannot tell (an unknown GPU, an emulator);
    /// callers then report FLOP/s without a utilization. May be measured on first use.
    /// </summary>
    double? PeakFlops => null;

    // ───────────────────────────── memory ─────────────────────────────

    /// <summary>Allocates a zero-filled buffer of <paramref name="length"/> 4-byte elements.</summary>
    ITensorBuffer Allocate(long length);

    /// <summary>Copies host floats into <paramref name="destination"/> (lengths must match).</summary>
    void Upload(ReadOnlySpan<float> source, Tensor destination);

    /// <summary>Copies host token ids into <paramref name="destination"/> (lengths must match).</summary>
    void Upload(ReadOnlySpan<int> source, TokenTensor destination);

    /// <summary>Waits for earlier kernels, then copies <paramref name="source"/> to host memory (lengths must match).</summary>
    void Download(Tensor source, Span<float> destination);

    /// <summary>Sets every element of <paramref name="tensor"/> to zero.</summary>
    void Zero(Tensor tensor);

    /// <summary>
    /// Strided copy of <paramref name="rows"/> rows of <paramref name="rowLength"/> elements: row <c>r</c> of
    /// the source starts at element <c>r · sourceStride</c> of <paramref name="source"/>, row <c>r</c> of the
    /// destination at <c>r · destinationStride</c> of <paramref name="destination"/> (a cudaMemcpy2D). Used
    /// to append keys/values to a KV cache and to gather the last position of each sequence.
    /// </summary>
    void Copy2D(Tensor destination, long destinationStride, Tensor source, long sourceStride, int rows, int rowLength);

    /// <summary>Waits until every kernel issued so far has finished (a no-op on the CPU).</summary>
    void Synchronize();

    // ───────────────────────────── embedding ─────────────────────────────

    /// <summary>
    /// <c>output[n, :] = table[tokens[n], :]</c>. Shapes: output <c>[N, C]</c>, tokens <c>[N]</c>, table <c>[V, C]</c>.
    /// </summary>
    void EmbeddingForward(Tensor output, TokenTensor tokens, Tensor table, int rows, int channels);

    /// <summary>
    /// <c>tableGrad[tokens[n], :] += outputGrad[n, :]</c> for every n, summed in increasing n.
    /// Shapes: tableGrad <c>[V, C]</c>, outputGrad <c>[N, C]</c>, tokens <c>[N]</c>.
    /// </summary>
    void EmbeddingBackward(Tensor tableGrad, Tensor outputGrad, TokenTensor tokens, int rows, int channels);

    // ───────────────────────────── linear layers ─────────────────────────────

    /// <summary>
    /// A bias-free linear layer, <c>output = input · weightᵀ</c>. Shapes: output <c>[N, OC]</c>,
    /// input <c>[N, IC]</c>, weight <c>[OC, IC]</c>. Overwrites <paramref name="output"/>.
    /// </summary>
    void MatMulForward(Tensor output, Tensor input, Tensor weight, int rows, int inFeatures, int outFeatures);

    /// <summary>
    /// Backward of <see cref="MatMulForward"/>: <c>inputGrad += outputGrad · weight</c> (<c>[N, IC]</c>) and
    /// <c>weightGrad += outputGradᵀ · input</c> (<c>[OC, IC]</c>). Shapes: outputGrad <c>[N, OC]</c>,
    /// input <c>[N, IC]</c>, weight <c>[OC, IC]</c>.
    /// </summary>
    void MatMulBackward(Tensor inputGrad, Tensor weightGrad, Tensor outputGrad, Tensor input, Tensor weight, int rows, int inFeatures, int outFeatures);

    // ───────────────────────────── normalization and pointwise ─────────────────────────────

    /// <summary>
    /// Llama RMSNorm per row: <c>rstd[n] = 1 / sqrt(mean(input[n, :]²) + eps)</c>,
    /// <c>output[n, c] = input[n, c] · rstd[n] · weight[c]</c>. Shapes: output, input <c>[N, C]</c>;
    /// rstd <c>[N]</c> (saved for the backward); weight <c>[C]</c>.
    /// </summary>
    void RmsNormForward(Tensor output, Tensor rstd, Tensor input, Tensor weight, int rows, int channels, float epsilon);

    /// <summary>
    /// Backward of <see cref="RmsNormForward"/> using the saved rstd: accumulates
    /// <c>inputGrad [N, C]</c> and <c>weightGrad [C]</c> (summed over rows in increasing order) from
    /// <c>outputGrad [N, C]</c>.
    /// </summary>
    void RmsNormBackward(Tensor inputGrad, Tensor weightGrad, Tensor outputGrad, Tensor input, Tensor weight, Tensor rstd, int rows, int channels);

    /// <summary><c>output = a + b</c> elementwise over <paramref name="count"/> elements (the residual connection); <paramref name="output"/> may be the same view as <paramref name="a"/>.</summary>
    void Add(Tensor output, Tensor a, Tensor b, long count);

    /// <summary>
    /// SwiGLU gating: <c>output = silu(gate) · up</c> with <c>silu(x) = x / (1 + e^-x)</c>. All three tensors hold
    /// <paramref name="count"/> elements (<c>[N, intermediate]</c>).
    /// </summary>
    void SwiGluForward(Tensor output, Tensor gate, Tensor up, long count);

    /// <summary>
    /// Backward of <see cref="SwiGluForward"/>: <c>gateGrad += outputGrad · up · silu'(gate)</c>,
    /// <c>upGrad += outputGrad · silu(gate)</c>.
    /// </summary>
    void SwiGluBackward(Tensor gateGrad, Tensor upGrad, Tensor outputGrad, Tensor gate, Tensor up, long count);

    // ───────────────────────────── rotary position embedding ─────────────────────────────

    /// <summary>
    /// Applies rotary position embeddings IN PLACE in the Hugging Face "rotate half" convention. <paramref name="x"/>
    /// is <c>[batch, length, heads, headDim]</c>; the token at sequence index <c>t</c> has position
    /// <c>p = positionOffset + t</c>. With <c>half = headDim / 2</c>, <c>invFreq[i] = theta^(-2i / headDim)</c>
    /// and <c>a = p · invFreq[i]</c> (computed in float32 as HF does):
    /// <c>x'[i] = x[i]·cos a − x[i+half]·sin a</c>, <c>x'[i+half] = x[i+half]·cos a + x[i]·sin a</c>.
    /// </summary>
    void RotaryForward(Tensor x, int batch, int length, int heads, int headDim, int positionOffset, float theta);

    /// <summary>
    /// Backward of <see cref="RotaryForward"/> IN PLACE: the rotation is orthogonal, so the gradient is rotated
    /// by <c>−a</c>. Turns the gradient with respect to the rotated tensor into the gradient with respect to
    /// its input (overwrites, does not accumulate). Same shape arguments as the forward.
    /// </summary>
    void RotaryBackward(Tensor xGrad, int batch, int length, int heads, int headDim, int positionOffset, float theta);

    // ───────────────────────────── attention ─────────────────────────────

    /// <summary>
    /// Causal scaled-dot-product attention with softmax scale <c>1/sqrt(HeadDim)</c>, computed in tiles with an
    /// online softmax so memory is linear in the sequence length (no <c>T×T</c> score matrix). Shapes (see
    /// <see cref="AttentionShape"/>): output and query <c>[B, Tq, H, D]</c>; key and value
    /// <c>[B, KeyCapacity, Hkv, D]</c>; logSumExp <c>[B, H, Tq]</c> receives each query row's log-sum-exp of
    /// its scaled scores, saved for the backward. Overwrites output and logSumExp.
    /// </summary>
    void AttentionForward(Tensor output, Tensor logSumExp, Tensor query, Tensor key, Tensor value, AttentionShape shape);

    /// <summary>
    /// Backward of <see cref="AttentionForward"/>, recomputing the probabilities tile by tile from the saved
    /// logSumExp: accumulates <c>queryGrad [B, Tq, H, D]</c>, <c>keyGrad</c> and <c>valueGrad</c>
    /// <c>[B, KeyCapacity, Hkv, D]</c> (grouped heads summed in increasing head order) from
    /// <c>outputGrad [B, Tq, H, D]</c>. <paramref name="output"/> is the forward's output.
    /// </summary>
    void AttentionBackward(Tensor queryGrad, Tensor keyGrad, Tensor valueGrad, Tensor outputGrad, Tensor output, Tensor logSumExp,
        Tensor query, Tensor key, Tensor value, AttentionShape shape);

    // ───────────────────────────── loss ─────────────────────────────

    /// <summary>
    /// Softmax cross-entropy per row without touching the logits: <c>losses[n] = logsumexp(logits[n, :]) −
    /// logits[n, targets[n]]</c> (so <c>−losses[n]</c> is the log-probability of the target), or 0 where
    /// <c>targets[n] &lt; 0</c> (ignored). Shapes: losses <c>[N]</c>, logits <c>[N, V]</c>, targets <c>[N]</c>.
    /// </summary>
    void CrossEntropyForward(Tensor losses, Tensor logits, TokenTensor targets, int rows, int vocab);

    /// <summary>
    /// The fused classifier of llm.c: computes <c>losses</c> as <see cref="CrossEntropyForward"/> does, then
    /// OVERWRITES <paramref name="logits"/> with the gradient of <c>gradientScale · Σ losses</c>:
    /// <c>gradientScale · (softmax(logits[n]) − onehot(targets[n]))</c>, zero on ignored rows. Probabilities
    /// are never stored.
    /// </summary>
    void CrossEntropyForwardBackward(Tensor losses, Tensor logits, TokenTensor targets, float gradientScale, int rows, int vocab);

    // ───────────────────────────── optimizer ─────────────────────────────

    /// <summary>
    /// Writes <c>Σ x²</c> over all of <paramref name="x"/> into <c>result[0]</c> (float32 result, accumulated in
    /// a fixed order with at least float32 partial sums) — the global gradient norm for clipping.
    /// </summary>
    void SumOfSquares(Tensor result, Tensor x);

    /// <summary>
    /// One AdamW step over parallel tensors of equal length: with <c>g = gradients · GradientScale</c>,
    /// <c>m = β1·m + (1−β1)·g</c>, <c>v = β2·v + (1−β2)·g²</c>, <c>m̂ = m/(1−β1^t)</c>, <c>v̂ = v/(1−β2^t)</c>,
    /// <c>p −= lr · (m̂ / (sqrt(v̂) + ε) + wd · p)</c>. Updates parameters and both moments in place.
    /// </summary>
    void AdamW(Tensor parameters, Tensor gradients, Tensor firstMoment, Tensor secondMoment, AdamWStep step);
}
