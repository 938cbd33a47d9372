using System.Runtime.InteropServices;

namespace JpegLm.Engine.Kernels.Cpu;

/// <summary>A host buffer of 4-byte elements, 64-byte aligned, owned by <see cref="CpuKernels"/>.</summary>
internal sealed unsafe class CpuTensorBuffer : ITensorBuffer
{
    private void* _memory;

    public CpuTensorBuffer(IKernels owner, long length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Owner = owner;
        Length = length;
        nuint bytes = (nuint)Math.Max(1, length) * sizeof(float);
        _memory = NativeMemory.AlignedAlloc(bytes, 64);
        NativeMemory.Clear(_memory, bytes);
    }

    ~CpuTensorBuffer() => Free();

    public long Length { get; }

    public IKernels Owner { get; }

    public float* Pointer => _memory != null ? (float*)_memory : throw new ObjectDisposedException(nameof(CpuTensorBuffer));

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        if (_memory != null)
        {
            NativeMemory.AlignedFree(_memory);
            _memory = null;
        }
    }
}
