namespace JpegLm.Engine.Kernels;

/// <summary>
/// A block of memory owned by one <see cref="IKernels"/> backend: host memory for the CPU backend,
/// device memory for a GPU backend. It holds 4-byte elements (float32 values or int32 token ids);
/// the engine never reads it directly, only through the backend's kernels and its explicit
/// <see cref="IKernels.Upload(ReadOnlySpan{float}, Tensor)"/> / <see cref="IKernels.Download"/> calls,
/// so a GPU backend keeps every activation, weight, gradient and optimizer moment on the device.
/// </summary>
public interface ITensorBuffer : IDisposable
{
    /// <summary>Number of 4-byte elements in the buffer.</summary>
    long Length { get; }

    /// <summary>The backend that allocated the buffer; kernels of another backend reject it.</summary>
    IKernels Owner { get; }
}

/// <summary>
/// A contiguous view of float32 elements inside an <see cref="ITensorBuffer"/>: the buffer, the first
/// element and the element count. Shapes are not stored: every kernel states the shape it expects
/// (row-major, last dimension fastest), the way llm.c passes B, T, C beside raw pointers.
/// </summary>
/// <param name="Buffer">The backing buffer.</param>
/// <param name="Offset">Index of the first element in the buffer.</param>
/// <param name="Length">Number of elements in the view.</param>
public readonly record struct Tensor(ITensorBuffer Buffer, long Offset, long Length)
{
    /// <summary>A view of a whole buffer.</summary>
    public static Tensor Of(ITensorBuffer buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        return new Tensor(buffer, 0, buffer.Length);
    }

    /// <summary>A sub-view of <paramref name="length"/> elements starting <paramref name="start"/> elements into this view.</summary>
    public Tensor Slice(long start, long length)
    {
        if (start < 0 || length < 0 || start + length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"slice [{start}, {start + length}) outside a tensor of {Length} elements");
        }

        return new Tensor(Buffer, Offset + start, length);
    }

    /// <summary>The same elements viewed as int32 token ids.</summary>
    public TokenTensor AsTokens() => new(Buffer, Offset, Length);
}

/// <summary>A contiguous view of int32 token ids inside an <see cref="ITensorBuffer"/>.</summary>
/// <param name="Buffer">The backing buffer.</param>
/// <param name="Offset">Index of the first element in the buffer.</param>
/// <param name="Length">Number of elements in the view.</param>
public readonly record struct TokenTensor(ITensorBuffer Buffer, long Offset, long Length)
{
    /// <summary>A sub-view of <paramref name="length"/> ids starting <paramref name="start"/> ids into this view.</summary>
    public TokenTensor Slice(long start, long length)
    {
        if (start < 0 || length < 0 || start + length > Length)
        {
            throw new ArgumentOutOfRangeException(nameof(start), $"slice [{start}, {start + length}) outside a token tensor of {Length} elements");
        }

        return new TokenTensor(Buffer, Offset + start, length);
    }
}

/// <summary>
/// The geometry of one causal attention call. Queries are laid out <c>[Batch, QueryLength, Heads, HeadDim]</c>;
/// keys and values <c>[Batch, KeyCapacity, KvHeads, HeadDim]</c> of which the first <see cref="KeyLength"/>
/// positions of each batch row are valid (training: <c>KeyCapacity == KeyLength == QueryLength</c>; sampling
/// with a KV cache: <c>KeyCapacity</c> is the cache length, <c>QueryLength</c> the new tokens). Query
/// <c>i</c> sits at absolute position <c>KeyLength - QueryLength + i</c> and attends keys <c>0..</c>that
/// position. Query head <c>h</c> reads key/value head <c>h / (Heads / KvHeads)</c> (grouped-query attention).
/// </summary>
/// <param name="Batch">Independent sequences.</param>
/// <param name="QueryLength">Query positions per sequence.</param>
/// <param name="KeyLength">Valid key positions per sequence (≥ QueryLength).</param>
/// <param name="KeyCapacity">Allocated key positions per sequence (≥ KeyLength): the batch stride of K and V.</param>
/// <param name="Heads">Query heads.</param>
/// <param name="KvHeads">Key/value heads; divides <paramref name="Heads"/>.</param>
/// <param name="HeadDim">Channels per head.</param>
public readonly record struct AttentionShape(int Batch, int QueryLength, int KeyLength, int KeyCapacity, int Heads, int KvHeads, int HeadDim)
{
    /// <summary>The training shape: <c>T</c> queries over the same <c>T</c> keys.</summary>
    public static AttentionShape Training(int batch, int length, int heads, int kvHeads, int headDim)
        => new(batch, length, length, length, heads, kvHeads, headDim);

    /// <summary>Throws when the fields are inconsistent.</summary>
    public void Validate()
    {
        if (Batch <= 0 || QueryLength <= 0 || HeadDim <= 0 || Heads <= 0 || KvHeads <= 0
            || KeyLength < QueryLength || KeyCapacity < KeyLength || Heads % KvHeads != 0)
        {
            throw new ArgumentException($"invalid attention shape {this}");
        }
    }
}

/// <summary>The hyper-parameters of one AdamW update (decoupled weight decay, bias-corrected moments).</summary>
/// <param name="LearningRate">Step size.</param>
/// <param name="Beta1">First-moment decay.</param>
/// <param name="Beta2">Second-moment decay.</param>
/// <param name="Epsilon">Added to the root of the second moment.</param>
/// <param name="WeightDecay">Decoupled decay: <c>p -= lr * wd * p</c>.</param>
/// <param name="Step">1-based step number used for bias correction.</param>
/// <param name="GradientScale">Multiplies every gradient before use (global-norm clipping factor).</param>
public readonly record struct AdamWStep(float LearningRate, float Beta1, float Beta2, float Epsilon, float WeightDecay, int Step, float GradientScale);
