using System.Runtime.InteropServices;

namespace JpegLm.Cuda.Interop;

/// <summary>
/// The CUDA driver API entry points this project uses, as unmanaged function pointers taken from the loaded
/// <c>libcuda.so.1</c> with <see cref="NativeLibrary.GetExport"/> (no reflection, so trimming is safe). The
/// versioned names (<c>_v2</c>) are the ones the CUDA headers map the plain names to since CUDA 4 / 11.
/// Every wrapper checks the result and throws <see cref="CudaException"/> naming the call and the error.
/// </summary>
public sealed unsafe class DriverApi
{
    /// <summary>CUDA_SUCCESS.</summary>
    public const int Success = 0;

    /// <summary>CUDA_ERROR_STUB_LIBRARY: the library that loaded is the link-time stub.</summary>
    public const int ErrorStubLibrary = 34;

    private readonly delegate* unmanaged<int, byte**, int> _getErrorName;
    private readonly delegate* unmanaged<int, byte**, int> _getErrorString;

    internal readonly delegate* unmanaged<uint, int> CuInit;
    internal readonly delegate* unmanaged<int*, int> CuDriverGetVersion;
    internal readonly delegate* unmanaged<int*, int> CuDeviceGetCount;
    internal readonly delegate* unmanaged<int*, int, int> CuDeviceGet;
    internal readonly delegate* unmanaged<byte*, int, int, int> CuDeviceGetName;
    internal readonly delegate* unmanaged<int*, int, int, int> CuDeviceGetAttribute;
    internal readonly delegate* unmanaged<nuint*, int, int> CuDeviceTotalMem;
    internal readonly delegate* unmanaged<nint*, int, int> CuDevicePrimaryCtxRetain;
    internal readonly delegate* unmanaged<int, int> CuDevicePrimaryCtxRelease;
    internal readonly delegate* unmanaged<nint, int> CuCtxSetCurrent;
    internal readonly delegate* unmanaged<int> CuCtxSynchronize;
    internal readonly delegate* unmanaged<nuint*, nuint*, int> CuMemGetInfo;
    internal readonly delegate* unmanaged<ulong*, nuint, int> CuMemAlloc;
    internal readonly delegate* unmanaged<ulong, int> CuMemFree;
    internal readonly delegate* unmanaged<ulong, void*, nuint, nint, int> CuMemcpyHtoDAsync;
    internal readonly delegate* unmanaged<void*, ulong, nuint, nint, int> CuMemcpyDtoHAsync;
    internal readonly delegate* unmanaged<ulong, ulong, nuint, nint, int> CuMemcpyDtoDAsync;
    internal readonly delegate* unmanaged<ulong, uint, nuint, nint, int> CuMemsetD32Async;
    internal readonly delegate* unmanaged<nint*, uint, int> CuStreamCreate;
    internal readonly delegate* unmanaged<nint, int> CuStreamSynchronize;
    internal readonly delegate* unmanaged<nint, int> CuStreamDestroy;
    internal readonly delegate* unmanaged<nint*, uint, int> CuEventCreate;
    internal readonly delegate* unmanaged<nint, nint, int> CuEventRecord;
    internal readonly delegate* unmanaged<nint, int> CuEventSynchronize;
    internal readonly delegate* unmanaged<float*, nint, nint, int> CuEventElapsedTime;
    internal readonly delegate* unmanaged<nint, int> CuEventDestroy;
    internal readonly delegate* unmanaged<nint*, void*, int> CuModuleLoadData;
    internal readonly delegate* unmanaged<nint*, nint, byte*, int> CuModuleGetFunction;
    internal readonly delegate* unmanaged<nint, int> CuModuleUnload;
    internal readonly delegate* unmanaged<nint, int, int, int> CuFuncSetAttribute;
    internal readonly delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int> CuLaunchKernel;

    // Optional: present in recent drivers (resource report) and in the emulated device's library only.
    internal readonly delegate* unmanaged<int*, int, nint, int> CuFuncGetAttribute;
    internal readonly delegate* unmanaged<ulong, nuint, nint, int> EmuSetValidBytesAsync;
    private readonly delegate* unmanaged<byte*, nuint, int> _emuLastError;

    /// <summary>Binds every entry point from a loaded driver library.</summary>
    public DriverApi(LoadedLibrary library)
    {
        Library = library;
        nint h = library.Handle;
        _getErrorName = (delegate* unmanaged<int, byte**, int>)Export(h, "cuGetErrorName");
        _getErrorString = (delegate* unmanaged<int, byte**, int>)Export(h, "cuGetErrorString");
        CuInit = (delegate* unmanaged<uint, int>)Export(h, "cuInit");
        CuDriverGetVersion = (delegate* unmanaged<int*, int>)Export(h, "cuDriverGetVersion");
        CuDeviceGetCount = (delegate* unmanaged<int*, int>)Export(h, "cuDeviceGetCount");
        CuDeviceGet = (delegate* unmanaged<int*, int, int>)Export(h, "cuDeviceGet");
        CuDeviceGetName = (delegate* unmanaged<byte*, int, int, int>)Export(h, "cuDeviceGetName");
        CuDeviceGetAttribute = (delegate* unmanaged<int*, int, int, int>)Export(h, "cuDeviceGetAttribute");
        CuDeviceTotalMem = (delegate* unmanaged<nuint*, int, int>)Export(h, "cuDeviceTotalMem_v2");
        CuDevicePrimaryCtxRetain = (delegate* unmanaged<nint*, int, int>)Export(h, "cuDevicePrimaryCtxRetain");
        CuDevicePrimaryCtxRelease = (delegate* unmanaged<int, int>)Export(h, "cuDevicePrimaryCtxRelease_v2");
        CuCtxSetCurrent = (delegate* unmanaged<nint, int>)Export(h, "cuCtxSetCurrent");
        CuCtxSynchronize = (delegate* unmanaged<int>)Export(h, "cuCtxSynchronize");
        CuMemGetInfo = (delegate* unmanaged<nuint*, nuint*, int>)Export(h, "cuMemGetInfo_v2");
        CuMemAlloc = (delegate* unmanaged<ulong*, nuint, int>)Export(h, "cuMemAlloc_v2");
        CuMemFree = (delegate* unmanaged<ulong, int>)Export(h, "cuMemFree_v2");
        CuMemcpyHtoDAsync = (delegate* unmanaged<ulong, void*, nuint, nint, int>)Export(h, "cuMemcpyHtoDAsync_v2");
        CuMemcpyDtoHAsync = (delegate* unmanaged<void*, ulong, nuint, nint, int>)Export(h, "cuMemcpyDtoHAsync_v2");
        CuMemcpyDtoDAsync = (delegate* unmanaged<ulong, ulong, nuint, nint, int>)Export(h, "cuMemcpyDtoDAsync_v2");
        CuMemsetD32Async = (delegate* unmanaged<ulong, uint, nuint, nint, int>)Export(h, "cuMemsetD32Async");
        CuStreamCreate = (delegate* unmanaged<nint*, uint, int>)Export(h, "cuStreamCreate");
        CuStreamSynchronize = (delegate* unmanaged<nint, int>)Export(h, "cuStreamSynchronize");
        CuStreamDestroy = (delegate* unmanaged<nint, int>)Export(h, "cuStreamDestroy_v2");
        CuEventCreate = (delegate* unmanaged<nint*, uint, int>)Export(h, "cuEventCreate");
        CuEventRecord = (delegate* unmanaged<nint, nint, int>)Export(h, "cuEventRecord");
        CuEventSynchronize = (delegate* unmanaged<nint, int>)Export(h, "cuEventSynchronize");
        CuEventElapsedTime = (delegate* unmanaged<float*, nint, nint, int>)Export(h, "cuEventElapsedTime");
        CuEventDestroy = (delegate* unmanaged<nint, int>)Export(h, "cuEventDestroy_v2");
        CuModuleLoadData = (delegate* unmanaged<nint*, void*, int>)Export(h, "cuModuleLoadData");
        CuModuleGetFunction = (delegate* unmanaged<nint*, nint, byte*, int>)Export(h, "cuModuleGetFunction");
        CuModuleUnload = (delegate* unmanaged<nint, int>)Export(h, "cuModuleUnload");
        CuFuncSetAttribute = (delegate* unmanaged<nint, int, int, int>)Export(h, "cuFuncSetAttribute");
        CuLaunchKernel = (delegate* unmanaged<nint, uint, uint, uint, uint, uint, uint, uint, nint, void**, void**, int>)Export(h, "cuLaunchKernel");
        CuFuncGetAttribute = (delegate* unmanaged<int*, int, nint, int>)OptionalExport(h, "cuFuncGetAttribute");
        EmuSetValidBytesAsync = (delegate* unmanaged<ulong, nuint, nint, int>)OptionalExport(h, "jpeglmEmuSetValidBytesAsync");
        _emuLastError = (delegate* unmanaged<byte*, nuint, int>)OptionalExport(h, "jpeglmEmuLastError");
    }

    /// <summary>
    /// Whether the library is the emulated device (Cuda/Emulator), which describes each failure (kernel,
    /// thread, address) and is told which bytes of a pooled block a tensor uses.
    /// </summary>
    public bool IsEmulator => _emuLastError != null;

    /// <summary>The library the entry points came from.</summary>
    public LoadedLibrary Library { get; }

    /// <summary>Throws a <see cref="CudaException"/> naming <paramref name="call"/> unless <paramref name="result"/> is CUDA_SUCCESS.</summary>
    public void Check(int result, string call)
    {
        if (result != Success)
        {
            throw Error(result, call);
        }
    }

    /// <summary>The exception for a failed call: the name and description come from cuGetErrorName / cuGetErrorString.</summary>
    public CudaException Error(int result, string call)
    {
        (string name, string description) = Describe(result);
        if (_emuLastError != null)
        {
            // The emulator knows what a GPU would not say: which kernel, thread and address failed, and why.
            byte* text = stackalloc byte[1024];
            if (_emuLastError(text, 1024) == Success && text[0] != 0)
            {
                description += "; emulated device: " + Marshal.PtrToStringUTF8((nint)text);
            }
        }

        return new CudaException(CudaLibrary.Driver, call, result, name, description);
    }

    /// <summary>The symbolic name and the description of a CUresult.</summary>
    public (string Name, string Description) Describe(int result)
    {
        byte* name = null, text = null;
        string n = _getErrorName(result, &name) == Success && name != null ? Marshal.PtrToStringUTF8((nint)name) ?? "" : $"CUDA_ERROR_{result}";
        string d = _getErrorString(result, &text) == Success && text != null ? Marshal.PtrToStringUTF8((nint)text) ?? "" : "unknown error";
        return (n, d);
    }

    private static nint OptionalExport(nint handle, string name)
        => NativeLibrary.TryGetExport(handle, name, out nint address) ? address : 0;

    private static nint Export(nint handle, string name)
        => NativeLibrary.TryGetExport(handle, name, out nint address)
            ? address
            : throw new CudaException($"the CUDA driver library has no export {name} (driver too old?)");
}
