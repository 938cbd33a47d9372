using System.Runtime.InteropServices;

namespace JpegLm.Engine.Kernels.Cpu;

/// <summary>
/// <see cref="IGemm"/> in bfloat16 with float32 accumulation, through the optional native kernel
/// <c>libjpeglm_bf16.so</c> (Engine/Native/bf16_gemm.c: AVX512-BF16 <c>vdpbf16ps</c>, two multiply-adds per
/// float lane). .NET 10 has no intrinsics for that instruction, so this path exists only where the library
/// was built (the Engine project compiles it when gcc is present) and the CPU reports AVX512-BF16;
/// <see cref="TryCreate"/> says why not otherwise, and the float32 GEMMs stay the default.
/// </summary>
/// <remarks>
/// Inputs are rounded to bfloat16 (nearest even) as they are packed, so the model's weights, activations
/// and gradients stay float32 in memory: this is mixed precision with float32 master weights, not a
/// bfloat16 model. C is cut into tiles of <see cref="RowsPerTask"/> × <see cref="ColumnsPerTask"/>, one
/// parallel task each, every element owned by one task and summed in a fixed order (deterministic).
/// </remarks>
public sealed unsafe class Bf16Gemm : IGemm
{
    /// <summary>The library file the Engine build writes next to its assembly.</summary>
    public const string LibraryFile = "libjpeglm_bf16.so";

    /// <summary>Rows of C per parallel task.</summary>
    public const int RowsPerTask = 384;

    /// <summary>Columns of C per parallel task (the kernel's own column block).</summary>
    public const int ColumnsPerTask = 256;

    private static readonly Lazy<Bf16Gemm?> Shared = new(Load);

    private readonly delegate* unmanaged[Cdecl]<int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _gemm;

    private Bf16Gemm(IntPtr gemm, string library)
    {
        _gemm = (delegate* unmanaged[Cdecl]<int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)gemm;
        Library = library;
    }

    /// <summary>The library file that was loaded.</summary>
    public string Library { get; }

    /// <inheritdoc/>
    public string Name => "bf16-avx512";

    /// <summary>The process-wide kernel, or null (with <see cref="LoadError"/> set) when it cannot run here.</summary>
    public static Bf16Gemm? TryCreate() => Shared.Value;

    /// <summary>Why <see cref="TryCreate"/> returned null.</summary>
    public static string LoadError { get; private set; } = "";

    /// <inheritdoc/>
    public void Sgemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        int tileRows = (m + RowsPerTask - 1) / RowsPerTask;
        int tileCols = (n + ColumnsPerTask - 1) / ColumnsPerTask;
        int tasks = tileRows * tileCols;
        if (tasks == 1 || (long)m * n * k < 64 * 64 * 64)
        {
            _gemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }

        // Pointers cannot be captured by a lambda; carry them as addresses.
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c;
        Parallel.For(0, tasks, t =>
        {
            int i0 = t / tileCols * RowsPerTask, j0 = t % tileCols * ColumnsPerTask;
            int rows = Math.Min(RowsPerTask, m - i0), cols = Math.Min(ColumnsPerTask, n - j0);
            float* aTile = (float*)pa + (transposeA ? i0 : (long)i0 * lda);
            float* bTile = (float*)pb + (transposeB ? (long)j0 * ldb : j0);
            _gemm(transposeA ? 1 : 0, transposeB ? 1 : 0, rows, cols, k, alpha, aTile, lda, bTile, ldb, beta,
                (float*)pc + (long)i0 * ldc + j0, ldc);
        });
    }

    private static Bf16Gemm? Load()
    {
        string? overridePath = Environment.GetEnvironmentVariable("JPEGLM_BF16_LIBRARY");
        string path = string.IsNullOrEmpty(overridePath) ? Path.Combine(AppContext.BaseDirectory, LibraryFile) : overridePath;
        if (!File.Exists(path))
        {
            LoadError = $"{path} not found (the Engine build compiles Engine/Native/bf16_gemm.c when gcc is installed)";
            return null;
        }

        if (!NativeLibrary.TryLoad(path, out IntPtr handle))
        {
            LoadError = $"{path} could not be loaded";
            return null;
        }

        if (!NativeLibrary.TryGetExport(handle, "jpeglm_bf16_supported", out IntPtr supported)
            || !NativeLibrary.TryGetExport(handle, "jpeglm_bf16_gemm", out IntPtr gemm))
        {
            LoadError = $"{path} lacks the jpeglm_bf16_* exports";
            return null;
        }

        if (((delegate* unmanaged[Cdecl]<int>)supported)() == 0)
        {
            LoadError = "this CPU lacks AVX512-BF16 (vdpbf16ps)";
            return null;
        }

        return new Bf16Gemm(gemm, path);
    }
}
