namespace JpegLm.Cuda.Interop;

/// <summary>The library a failing CUDA call belongs to.</summary>
public enum CudaLibrary
{
    /// <summary>The CUDA driver API (<c>libcuda.so.1</c>).</summary>
    Driver,

    /// <summary>cuBLAS (<c>libcublas.so.N</c>).</summary>
    Cublas,

    /// <summary>cuBLASLt (<c>libcublasLt.so.N</c>).</summary>
    CublasLt,

    /// <summary>The runtime compiler (<c>libnvrtc.so.N</c>).</summary>
    Nvrtc,

    /// <summary>Library resolution and kernel management in this project (no native status code).</summary>
    Loader,
}

/// <summary>
/// A failed CUDA call: names the call (e.g. <c>cuLaunchKernel(rmsnorm_forward)</c>), the numeric status, the
/// status' symbolic name (<c>CUDA_ERROR_OUT_OF_MEMORY</c>, <c>CUBLAS_STATUS_INVALID_VALUE</c>,
/// <c>NVRTC_ERROR_COMPILATION</c>) and, for a kernel that did not compile, the NVRTC log.
/// </summary>
public sealed class CudaException : Exception
{
    /// <summary>Creates an exception for a failed call.</summary>
    public CudaException(CudaLibrary library, string call, int status, string statusName, string? description = null, string? log = null)
        : base(Format(library, call, status, statusName, description, log))
    {
        Library = library;
        Call = call;
        Status = status;
        StatusName = statusName;
        Log = log;
    }

    /// <summary>Creates a loader error (no native status).</summary>
    public CudaException(string message)
        : base(message)
    {
        Library = CudaLibrary.Loader;
        Call = "";
        StatusName = "";
    }

    /// <summary>Creates a loader error wrapping another exception.</summary>
    public CudaException(string message, Exception inner)
        : base(message, inner)
    {
        Library = CudaLibrary.Loader;
        Call = "";
        StatusName = "";
    }

    /// <summary>Creates an empty exception (for serializers and analyzers; prefer the other constructors).</summary>
    public CudaException()
        : this("CUDA error")
    {
    }

    /// <summary>The library the call belongs to.</summary>
    public CudaLibrary Library { get; }

    /// <summary>The failing call, with the kernel or object it acted on where known.</summary>
    public string Call { get; }

    /// <summary>The numeric status the library returned.</summary>
    public int Status { get; }

    /// <summary>The symbolic name of <see cref="Status"/>.</summary>
    public string StatusName { get; }

    /// <summary>The NVRTC compile log, when the call was a compilation.</summary>
    public string? Log { get; }

    private static string Format(CudaLibrary library, string call, int status, string statusName, string? description, string? log)
    {
        string text = $"{library}: {call} failed with {statusName} ({status})";
        if (!string.IsNullOrEmpty(description) && description != statusName)
        {
            text += $": {description}";
        }

        if (!string.IsNullOrWhiteSpace(log))
        {
            text += $"{Environment.NewLine}{log.TrimEnd()}";
        }

        return text;
    }
}
