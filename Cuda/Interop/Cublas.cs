using System.Runtime.InteropServices;

namespace JpegLm.Cuda.Interop;

/// <summary>cudaDataType_t values used here (library_types.h).</summary>
public enum CudaDataType
{
    /// <summary>CUDA_R_32F.</summary>
    Float32 = 0,

    /// <summary>CUDA_R_16BF.</summary>
    BFloat16 = 14,
}

/// <summary>
/// cuBLAS through function pointers from the loaded <c>libcublas.so.N</c>: a handle bound to one stream and
/// <c>cublasGemmEx</c> / <c>cublasGemmStridedBatchedEx</c> with float32 compute (bf16 or fp32 inputs, fp32
/// outputs). Matrices are column-major as BLAS expects; <see cref="Gemm"/>'s callers map row-major tensors.
/// </summary>
public sealed unsafe class Cublas : IDisposable
{
    private const int OpN = 0, OpT = 1;
    private const int ComputeFloat32 = 68; // CUBLAS_COMPUTE_32F: float32 accumulation, no TF32 down-conversion
    private const int GemmDefault = -1;    // CUBLAS_GEMM_DEFAULT
    private const int DefaultMath = 0;     // CUBLAS_DEFAULT_MATH: no TF32

    private readonly delegate* unmanaged<nint, int> _destroy;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, void*, void*, int, int, void*, int, int, void*, void*, int, int, int, int, int> _gemmEx;
    private readonly delegate* unmanaged<nint, int, int, int, int, int, void*, void*, int, int, long, void*, int, int, long, void*, void*, int, int, long, int, int, int, int> _gemmStridedBatchedEx;
    private nint _handle;

    /// <summary>Creates a handle on <paramref name="stream"/> with TF32 off.</summary>
    public Cublas(LoadedLibrary library, nint stream, LoadedLibrary? lt = null)
    {
        Library = library;
        nint h = library.Handle;
        var create = (delegate* unmanaged<nint*, int>)Export(h, "cublasCreate_v2");
        _destroy = (delegate* unmanaged<nint, int>)Export(h, "cublasDestroy_v2");
        var setStream = (delegate* unmanaged<nint, nint, int>)Export(h, "cublasSetStream_v2");
        var setMathMode = (delegate* unmanaged<nint, int, int>)Export(h, "cublasSetMathMode");
        var getVersion = (delegate* unmanaged<nint, int*, int>)Export(h, "cublasGetVersion_v2");
        _gemmEx = (delegate* unmanaged<nint, int, int, int, int, int, void*, void*, int, int, void*, int, int, void*, void*, int, int, int, int, int>)Export(h, "cublasGemmEx");
        _gemmStridedBatchedEx = (delegate* unmanaged<nint, int, int, int, int, int, void*, void*, int, int, long, void*, int, int, long, void*, void*, int, int, long, int, int, int, int>)Export(h, "cublasGemmStridedBatchedEx");
        nint handle = 0;
        Check(create(&handle), "cublasCreate");
        _handle = handle;
        Check(setStream(handle, stream), "cublasSetStream");
        Check(setMathMode(handle, DefaultMath), "cublasSetMathMode");
        int version = 0;
        Check(getVersion(handle, &version), "cublasGetVersion");
        Version = version;
        if (lt is { } ltLib && NativeLibrary.TryGetExport(ltLib.Handle, "cublasLtGetVersion", out nint ltVersion))
        {
            LtVersion = (long)((delegate* unmanaged<nuint>)ltVersion)();
        }
    }

    /// <summary>The library the entry points came from.</summary>
    public LoadedLibrary Library { get; }

    /// <summary>cuBLAS's version number (e.g. 130100 for 13.1.0).</summary>
    public int Version { get; }

    /// <summary>cuBLASLt's version number when it was loaded, else 0.</summary>
    public long LtVersion { get; }

    /// <summary>The symbolic name of a cublasStatus_t (cublas_api.h).</summary>
    public static string StatusName(int status) => status switch
    {
        0 => "CUBLAS_STATUS_SUCCESS",
        1 => "CUBLAS_STATUS_NOT_INITIALIZED",
        3 => "CUBLAS_STATUS_ALLOC_FAILED",
        7 => "CUBLAS_STATUS_INVALID_VALUE",
        8 => "CUBLAS_STATUS_ARCH_MISMATCH",
        11 => "CUBLAS_STATUS_MAPPING_ERROR",
        13 => "CUBLAS_STATUS_EXECUTION_FAILED",
        14 => "CUBLAS_STATUS_INTERNAL_ERROR",
        15 => "CUBLAS_STATUS_NOT_SUPPORTED",
        16 => "CUBLAS_STATUS_LICENSE_ERROR",
        _ => $"CUBLAS_STATUS_{status}",
    };

    /// <summary>
    /// Column-major <c>C[m,n] = alpha · op(A)[m,k] · op(B)[k,n] + beta · C</c> with float32 accumulation.
    /// A and B share <paramref name="inputType"/>; C is float32. Pointers are device addresses.
    /// </summary>
    public void Gemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha, ulong a, int lda, ulong b, int ldb,
        float beta, ulong c, int ldc, CudaDataType inputType, string what)
    {
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        Check(_gemmEx(_handle, transposeA ? OpT : OpN, transposeB ? OpT : OpN, m, n, k, &alpha, (void*)a, (int)inputType, lda,
            (void*)b, (int)inputType, ldb, &beta, (void*)c, (int)CudaDataType.Float32, ldc, ComputeFloat32, GemmDefault), $"cublasGemmEx({what})");
    }

    /// <summary>
    /// <see cref="Gemm"/> over <paramref name="batch"/> matrices at fixed element strides.
    /// </summary>
    public void GemmStridedBatched(bool transposeA, bool transposeB, int m, int n, int k, float alpha, ulong a, int lda, long strideA,
        ulong b, int ldb, long strideB, float beta, ulong c, int ldc, long strideC, int batch, CudaDataType inputType, string what)
    {
        ObjectDisposedException.ThrowIf(_handle == 0, this);
        Check(_gemmStridedBatchedEx(_handle, transposeA ? OpT : OpN, transposeB ? OpT : OpN, m, n, k, &alpha, (void*)a, (int)inputType, lda, strideA,
            (void*)b, (int)inputType, ldb, strideB, &beta, (void*)c, (int)CudaDataType.Float32, ldc, strideC, batch, ComputeFloat32, GemmDefault),
            $"cublasGemmStridedBatchedEx({what})");
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_handle != 0)
        {
            _ = _destroy(_handle);
            _handle = 0;
        }
    }

    private static void Check(int status, string call)
    {
        if (status != 0)
        {
            throw new CudaException(CudaLibrary.Cublas, call, status, StatusName(status));
        }
    }

    private static nint Export(nint handle, string name)
        => NativeLibrary.TryGetExport(handle, name, out nint address)
            ? address
            : throw new CudaException($"the cuBLAS library has no export {name}");
}
