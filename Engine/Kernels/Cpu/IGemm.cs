namespace JpegLm.Engine.Kernels.Cpu;

/// <summary>
/// Single-precision GEMM on host memory, row-major, in the BLAS sense:
/// <c>C[M,N] = alpha · op(A)[M,K] · op(B)[K,N] + beta · C</c>, where <c>op(A)[i,p]</c> is <c>A[i·lda + p]</c>,
/// or <c>A[p·lda + i]</c> when transposeA; likewise for B. With <c>beta == 0</c>, C is
/// not read. Implementations must be deterministic (same bits for the same inputs).
/// </summary>
public interface IGemm
{
    /// <summary>A short name: <c>openblas</c> or <c>managed-avx512</c>.</summary>
    string Name { get; }

    /// <summary>Computes the product; see the type summary.</summary>
    unsafe void Sgemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);
}

/// <summary>
/// A GEMM that can also run one product wholly on the calling thread: what attention uses for its small tile
/// products, since it already runs one task per core. <see cref="CpuKernels"/> takes its tile GEMM from the
/// backend's GEMM when that implements this (the managed and the bf16 GEMM), else the managed one.
/// </summary>
public interface IThreadGemm : IGemm
{
    /// <summary>The product of <see cref="IGemm.Sgemm"/>, computed on the calling thread only.</summary>
    unsafe void SgemmOnThisThread(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);
}
