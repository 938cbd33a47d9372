using System.Runtime.InteropServices;
using System.Text;

namespace JpegLm.Cuda.Interop;

/// <summary>
/// One GPU through the driver API: <c>cuInit</c>, the device's primary context (shared with cuBLAS, which uses
/// the runtime API), one blocking stream on which every copy, kernel and GEMM is issued in order, and typed
/// wrappers for memory, modules, launches and events. Every call is checked.
/// </summary>
public sealed unsafe class CudaDevice : IDisposable
{
    private const int AttributeMultiprocessors = 16;
    private const int AttributeMajor = 75;
    private const int AttributeMinor = 76;
    private const int AttributeSharedOptin = 97;

    [ThreadStatic]
    private static nint t_currentContext;

    private nint _context;
    private nint _stream;

    private CudaDevice(DriverApi api, int ordinal)
    {
        Api = api;
        Ordinal = ordinal;
        int device = 0;
        api.Check(api.CuDeviceGet(&device, ordinal), $"cuDeviceGet({ordinal})");
        Handle = device;
        byte* name = stackalloc byte[256];
        api.Check(api.CuDeviceGetName(name, 256, device), "cuDeviceGetName");
        Name = Marshal.PtrToStringUTF8((nint)name) ?? "?";
        ComputeCapability = (Attribute(AttributeMajor), Attribute(AttributeMinor));
        Multiprocessors = Attribute(AttributeMultiprocessors);
        MaxSharedMemoryPerBlockOptin = Attribute(AttributeSharedOptin);
        nuint total = 0;
        api.Check(api.CuDeviceTotalMem(&total, device), "cuDeviceTotalMem");
        TotalMemory = (long)total;
        int version = 0;
        api.Check(api.CuDriverGetVersion(&version), "cuDriverGetVersion");
        DriverVersion = new Version(version / 1000, version % 1000 / 10);
        nint context = 0;
        api.Check(api.CuDevicePrimaryCtxRetain(&context, device), "cuDevicePrimaryCtxRetain");
        _context = context;
        MakeCurrent();
        nint stream = 0;
        api.Check(api.CuStreamCreate(&stream, 0), "cuStreamCreate");
        _stream = stream;
    }

    /// <summary>The driver entry points.</summary>
    public DriverApi Api { get; }

    /// <summary>The device ordinal.</summary>
    public int Ordinal { get; }

    /// <summary>The CUdevice handle.</summary>
    public int Handle { get; }

    /// <summary>The device's marketing name.</summary>
    public string Name { get; }

    /// <summary>(major, minor) compute capability, e.g. (9, 0) for an H100/H200.</summary>
    public (int Major, int Minor) ComputeCapability { get; }

    /// <summary>The CUBIN architecture number: 10·major + minor (90 for sm_90).</summary>
    public int Arch => ComputeCapability.Major * 10 + ComputeCapability.Minor;

    /// <summary>Streaming multiprocessors.</summary>
    public int Multiprocessors { get; }

    /// <summary>Shared memory per block a kernel may opt into, in bytes.</summary>
    public int MaxSharedMemoryPerBlockOptin { get; }

    /// <summary>Device memory in bytes.</summary>
    public long TotalMemory { get; }

    /// <summary>The CUDA version the driver supports.</summary>
    public Version DriverVersion { get; }

    /// <summary>The stream every operation is issued on.</summary>
    public nint Stream => _stream;

    /// <summary>
    /// Initializes the driver and opens device <paramref name="ordinal"/>. Throws a <see cref="CudaException"/>
    /// naming what is missing (no driver library, the stub library, no device).
    /// </summary>
    public static CudaDevice Open(LoadedLibrary driver, int ordinal = 0)
    {
        var api = new DriverApi(driver);
        int init = api.CuInit(0);
        if (init == DriverApi.ErrorStubLibrary)
        {
            throw new CudaException($"{driver.Path} is the CUDA stub library, not a driver (CUDA_ERROR_STUB_LIBRARY); set JPEGLM_CUDA_DRIVER to the real libcuda.so.1");
        }

        api.Check(init, "cuInit");
        int count = 0;
        api.Check(api.CuDeviceGetCount(&count), "cuDeviceGetCount");
        if (ordinal >= count)
        {
            throw new CudaException($"CUDA device {ordinal} requested but the driver reports {count} device(s)");
        }

        return new CudaDevice(api, ordinal);
    }

    /// <summary>Makes this device's primary context current on the calling thread (cheap when it already is).</summary>
    public void MakeCurrent()
    {
        if (t_currentContext != _context)
        {
            Api.Check(Api.CuCtxSetCurrent(_context), "cuCtxSetCurrent");
            t_currentContext = _context;
        }
    }

    /// <summary>Free and total device memory in bytes.</summary>
    public (long Free, long Total) MemoryInfo()
    {
        MakeCurrent();
        nuint free = 0, total = 0;
        Api.Check(Api.CuMemGetInfo(&free, &total), "cuMemGetInfo");
        return ((long)free, (long)total);
    }

    /// <summary>Allocates <paramref name="bytes"/> of device memory.</summary>
    public ulong Allocate(long bytes)
    {
        MakeCurrent();
        ulong pointer = 0;
        Api.Check(Api.CuMemAlloc(&pointer, (nuint)Math.Max(bytes, 4)), $"cuMemAlloc({bytes} bytes)");
        return pointer;
    }

    /// <summary>Frees device memory.</summary>
    public void Free(ulong pointer)
    {
        MakeCurrent();
        Api.Check(Api.CuMemFree(pointer), "cuMemFree");
    }

    /// <summary>Copies host memory to the device and waits for the copy (the host span may move after the call).</summary>
    public void CopyToDevice(ulong destination, ReadOnlySpan<byte> source)
    {
        if (source.IsEmpty)
        {
            return;
        }

        MakeCurrent();
        fixed (byte* p = source)
        {
            Api.Check(Api.CuMemcpyHtoDAsync(destination, p, (nuint)source.Length, _stream), "cuMemcpyHtoDAsync");
            Synchronize();
        }
    }

    /// <summary>Waits for earlier work, then copies device memory to the host.</summary>
    public void CopyToHost(Span<byte> destination, ulong source)
    {
        if (destination.IsEmpty)
        {
            Synchronize();
            return;
        }

        MakeCurrent();
        fixed (byte* p = destination)
        {
            Api.Check(Api.CuMemcpyDtoHAsync(p, source, (nuint)destination.Length, _stream), "cuMemcpyDtoHAsync");
            Synchronize();
        }
    }

    /// <summary>
    /// Tells the emulated device that only the first <paramref name="bytes"/> of the allocation at
    /// <paramref name="pointer"/> hold the tensor now using it (in stream order), so that a kernel touching the
    /// rest of a pooled block fails like an out-of-bounds access. Does nothing on a real driver.
    /// </summary>
    public void MarkValid(ulong pointer, long bytes)
    {
        if (Api.EmuSetValidBytesAsync != null)
        {
            MakeCurrent();
            Api.Check(Api.EmuSetValidBytesAsync(pointer, (nuint)bytes, _stream), "jpeglmEmuSetValidBytesAsync");
        }
    }

    /// <summary>Device-to-device copy on the stream.</summary>
    public void CopyOnDevice(ulong destination, ulong source, long bytes)
    {
        MakeCurrent();
        Api.Check(Api.CuMemcpyDtoDAsync(destination, source, (nuint)bytes, _stream), "cuMemcpyDtoDAsync");
    }

    /// <summary>Fills <paramref name="count"/> 4-byte words with <paramref name="value"/> on the stream.</summary>
    public void Fill32(ulong destination, uint value, long count)
    {
        MakeCurrent();
        Api.Check(Api.CuMemsetD32Async(destination, value, (nuint)count, _stream), "cuMemsetD32Async");
    }

    /// <summary>Waits for everything issued on the stream.</summary>
    public void Synchronize()
    {
        MakeCurrent();
        Api.Check(Api.CuStreamSynchronize(_stream), "cuStreamSynchronize");
    }

    /// <summary>Loads a CUBIN image into a module.</summary>
    public nint LoadModule(ReadOnlySpan<byte> cubin, string name)
    {
        MakeCurrent();
        nint module = 0;
        fixed (byte* p = cubin)
        {
            Api.Check(Api.CuModuleLoadData(&module, p), $"cuModuleLoadData({name})");
        }

        return module;
    }

    /// <summary>Looks up a <c>extern "C" __global__</c> function in a module.</summary>
    public nint GetFunction(nint module, string name)
    {
        MakeCurrent();
        nint function = 0;
        byte[] utf8 = Encoding.UTF8.GetBytes(name + "\0");
        fixed (byte* p = utf8)
        {
            Api.Check(Api.CuModuleGetFunction(&function, module, p), $"cuModuleGetFunction({name})");
        }

        return function;
    }

    /// <summary>Lets <paramref name="function"/> use up to <paramref name="bytes"/> of dynamic shared memory.</summary>
    public void SetMaxDynamicSharedMemory(nint function, int bytes, string name)
        => Api.Check(Api.CuFuncSetAttribute(function, 8 /* CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES */, bytes), $"cuFuncSetAttribute({name})");

    /// <summary>
    /// Launches a kernel on the stream. <paramref name="arguments"/> holds the address of each argument
    /// (the driver's <c>kernelParams</c> convention).
    /// </summary>
    public void Launch(nint function, string name, (uint X, uint Y, uint Z) grid, (uint X, uint Y, uint Z) block, uint sharedBytes, void** arguments)
    {
        MakeCurrent();
        if (grid.X == 0 || grid.Y == 0 || grid.Z == 0)
        {
            return;
        }

        Api.Check(Api.CuLaunchKernel(function, grid.X, grid.Y, grid.Z, block.X, block.Y, block.Z, sharedBytes, _stream, arguments, null), $"cuLaunchKernel({name})");
        if (SynchronizeEveryLaunch)
        {
            // Debugging aid: a faulting kernel is named by its own launch instead of by the next copy.
            Api.Check(Api.CuStreamSynchronize(_stream), $"{name} (JPEGLM_CUDA_SYNC: synchronized after launch)");
        }
    }

    /// <summary>Whether every launch waits for its kernel (<c>JPEGLM_CUDA_SYNC=1</c>), so errors name the faulting kernel.</summary>
    public bool SynchronizeEveryLaunch { get; set; } = Environment.GetEnvironmentVariable("JPEGLM_CUDA_SYNC") == "1";

    /// <summary>Creates an event (for timing).</summary>
    public nint CreateEvent()
    {
        MakeCurrent();
        nint e = 0;
        Api.Check(Api.CuEventCreate(&e, 0), "cuEventCreate");
        return e;
    }

    /// <summary>Records an event on the stream.</summary>
    public void Record(nint cudaEvent) => Api.Check(Api.CuEventRecord(cudaEvent, _stream), "cuEventRecord");

    /// <summary>Milliseconds between two recorded events (waits for the second).</summary>
    public float ElapsedMilliseconds(nint start, nint end)
    {
        Api.Check(Api.CuEventSynchronize(end), "cuEventSynchronize");
        float ms = 0;
        Api.Check(Api.CuEventElapsedTime(&ms, start, end), "cuEventElapsedTime");
        return ms;
    }

    /// <summary>Destroys an event.</summary>
    public void DestroyEvent(nint cudaEvent) => Api.Check(Api.CuEventDestroy(cudaEvent), "cuEventDestroy");

    /// <summary>Unloads a module.</summary>
    public void UnloadModule(nint module)
    {
        MakeCurrent();
        Api.Check(Api.CuModuleUnload(module), "cuModuleUnload");
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_context == 0)
        {
            return;
        }

        MakeCurrent();
        if (_stream != 0)
        {
            _ = Api.CuStreamSynchronize(_stream);
            _ = Api.CuStreamDestroy(_stream);
            _stream = 0;
        }

        // The primary context is deliberately not released: the CUDA runtime inside cuBLAS keeps per-process
        // state in it, and a release that destroyed it would break the next CudaKernels in this process.
        _context = 0;
        t_currentContext = 0;
    }

    private int Attribute(int attribute)
    {
        int value = 0;
        Api.Check(Api.CuDeviceGetAttribute(&value, attribute, Handle), $"cuDeviceGetAttribute({attribute})");
        return value;
    }
}
