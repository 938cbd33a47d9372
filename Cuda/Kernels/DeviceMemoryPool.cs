using JpegLm.Cuda.Interop;

namespace JpegLm.Cuda.Kernels;

/// <summary>
/// Device memory for one <see cref="CudaKernels"/>: allocations are rounded up to a size class and kept on
/// free lists when released, so a training loop that allocates its buffers once (or re-creates them each
/// step) calls <c>cuMemAlloc</c> only during the first step. Scratch space for the kernels themselves (bf16
/// copies, reduction partials) lives in named slots that only ever grow.
/// </summary>
internal sealed class DeviceMemoryPool : IDisposable
{
    private readonly CudaDevice _device;
    private readonly Dictionary<long, Stack<ulong>> _free = [];
    private readonly List<ulong> _all = [];
    private readonly Dictionary<string, (ulong Pointer, long Bytes)> _scratch = new(StringComparer.Ordinal);

    public DeviceMemoryPool(CudaDevice device) => _device = device;

    /// <summary>Bytes obtained from the driver so far.</summary>
    public long ReservedBytes { get; private set; }

    /// <summary>Number of <c>cuMemAlloc</c> calls so far (for the "no allocation per step" check).</summary>
    public int DriverAllocations { get; private set; }

    /// <summary>The size class of a request: 256-byte granules up to 1 MiB, then powers of two up to 64 MiB, then 2 MiB granules.</summary>
    public static long SizeClass(long bytes)
    {
        bytes = Math.Max(bytes, 256);
        if (bytes <= 1 << 20)
        {
            return (bytes + 255) & ~255L;
        }

        if (bytes <= 64L << 20)
        {
            return 1L << (int)Math.Ceiling(Math.Log2(bytes));
        }

        return (bytes + (2L << 20) - 1) & ~((2L << 20) - 1);
    }

    public ulong Rent(long bytes, out long sizeClass)
    {
        sizeClass = SizeClass(bytes);
        ulong pointer;
        if (_free.TryGetValue(sizeClass, out Stack<ulong>? stack) && stack.Count > 0)
        {
            pointer = stack.Pop();
        }
        else
        {
            pointer = _device.Allocate(sizeClass);
            _all.Add(pointer);
            ReservedBytes += sizeClass;
            DriverAllocations++;
        }

        _device.MarkValid(pointer, bytes);
        return pointer;
    }

    public void Return(ulong pointer, long sizeClass)
    {
        if (!_free.TryGetValue(sizeClass, out Stack<ulong>? stack))
        {
            _free[sizeClass] = stack = new Stack<ulong>();
        }

        stack.Push(pointer);
    }

    /// <summary>A scratch area of at least <paramref name="bytes"/>, reused across calls (contents not kept when it grows).</summary>
    public ulong Scratch(string slot, long bytes)
    {
        if (_scratch.TryGetValue(slot, out (ulong Pointer, long Bytes) s) && s.Bytes >= bytes)
        {
            _device.MarkValid(s.Pointer, bytes);
            return s.Pointer;
        }

        if (s.Pointer != 0)
        {
            _device.Synchronize(); // a kernel still queued may read the old area
            Return(s.Pointer, s.Bytes);
        }

        ulong pointer = Rent(bytes + bytes / 4, out long size); // headroom so slowly growing requests settle
        _device.MarkValid(pointer, bytes);
        _scratch[slot] = (pointer, size);
        return pointer;
    }

    public void Dispose()
    {
        foreach (ulong pointer in _all)
        {
            _device.Free(pointer);
        }

        _all.Clear();
        _free.Clear();
        _scratch.Clear();
    }
}
