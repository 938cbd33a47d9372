using JpegLm.Engine.Kernels;

namespace JpegLm.Cuda.Kernels;

/// <summary>A block of device memory of 4-byte elements owned by one <see cref="CudaKernels"/>; disposing returns it to the pool.</summary>
internal sealed class CudaTensorBuffer : ITensorBuffer
{
    private readonly CudaKernels _owner;

    public CudaTensorBuffer(CudaKernels owner, ulong pointer, long length, long bytes)
    {
        _owner = owner;
        Pointer = pointer;
        Length = length;
        Bytes = bytes;
    }

    /// <summary>The device address of element 0 (0 once disposed).</summary>
    public ulong Pointer { get; private set; }

    /// <summary>The pooled allocation size.</summary>
    public long Bytes { get; }

    public long Length { get; }

    public IKernels Owner => _owner;

    public void Dispose()
    {
        if (Pointer != 0)
        {
            _owner.Release(this, Pointer);
            Pointer = 0;
        }
    }
}
