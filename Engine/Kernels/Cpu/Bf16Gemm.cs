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
/// bfloat16 model. Attention's tile products run here too (<see cref="IThreadGemm"/>), in bf16 as the CUDA
/// bf16 backend runs them. C is cut into tiles of <see cref="RowsPerTask"/> × <see cref="ColumnsPerTask"/>, one
/// parallel task each, every element owned by one task and summed in a fixed order (deterministic).
/// </remarks>
public sealed unsafe class Bf16Gemm : IThreadGemm
{
    /// <summary>The library file the Engine build writes next to its assembly.</summary>
    public const string LibraryFile = "libjpeglm_bf16.so";

    /// <summary>Rows of C per parallel task.</summary>
    public const int RowsPerTask = 384;

    /// <summary>Columns of C per parallel task (the kernel's own column block).</summary>
    public const int ColumnsPerTask = 256;

    private static readonly Lazy<Bf16Gemm?> Shared = new(Load);

    private readonly delegate* unmanaged[Cdecl]<int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _gemm;
    private readonly delegate* unmanaged[Cdecl]<int, int, int, float*, int, int, int, uint*, void> _packA, _packB;
    private readonly delegate* unmanaged[Cdecl]<int, int, int, uint*, uint*, int, int, int, int, float, float, float*, int, void> _gemmPacked;
    private readonly int _stripRows, _stripColumns;

    // The packed copies of op(A) and op(B), one pair per calling thread (data-parallel ranks simulated in one
    // process call from several threads); they only grow, to the largest product that thread has run.
    [ThreadStatic]
    private static PackedBuffer? t_packedA;

    [ThreadStatic]
    private static PackedBuffer? t_packedB;

    private Bf16Gemm(IntPtr library, string path)
    {
        _gemm = (delegate* unmanaged[Cdecl]<int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)Export(library, "jpeglm_bf16_gemm");
        _packA = (delegate* unmanaged[Cdecl]<int, int, int, float*, int, int, int, uint*, void>)Export(library, "jpeglm_bf16_pack_a");
        _packB = (delegate* unmanaged[Cdecl]<int, int, int, float*, int, int, int, uint*, void>)Export(library, "jpeglm_bf16_pack_b");
        _gemmPacked = (delegate* unmanaged[Cdecl]<int, int, int, uint*, uint*, int, int, int, int, float, float, float*, int, void>)Export(library, "jpeglm_bf16_gemm_packed");
        _stripRows = ((delegate* unmanaged[Cdecl]<int>)Export(library, "jpeglm_bf16_strip_rows"))();
        _stripColumns = ((delegate* unmanaged[Cdecl]<int>)Export(library, "jpeglm_bf16_strip_columns"))();
        if (RowsPerTask % _stripRows != 0 || ColumnsPerTask % _stripColumns != 0)
        {
            throw new InvalidOperationException($"{path}: strips of {_stripRows} x {_stripColumns} do not divide the {RowsPerTask} x {ColumnsPerTask} tiles");
        }

        Library = path;
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
        if (tasks == 1 || k == 0 || (long)m * n * k < 64 * 64 * 64)
        {
            _gemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }

        // Convert and pack each operand once (row ranges of A and column ranges of B in parallel), then
        // multiply tile by tile from the shared copies.
        long pairs = (k + 1) / 2;
        uint* packedA = (t_packedA ??= new PackedBuffer()).Reserve(RoundUp(m, _stripRows) * pairs);
        uint* packedB = (t_packedB ??= new PackedBuffer()).Reserve(RoundUp(n, _stripColumns) * pairs);
        int ta = transposeA ? 1 : 0, tb = transposeB ? 1 : 0;

        // Pointers cannot be captured by a lambda; carry them as addresses.
        nint pa = (nint)a, pb = (nint)b, pc = (nint)c, qa = (nint)packedA, qb = (nint)packedB;
        Parallel.For(0, tileRows + tileCols, r =>
        {
            if (r < tileRows)
            {
                _packA(ta, m, k, (float*)pa, lda, r * RowsPerTask, RowsPerTask, (uint*)qa);
            }
            else
            {
                _packB(tb, n, k, (float*)pb, ldb, (r - tileRows) * ColumnsPerTask, ColumnsPerTask, (uint*)qb);
            }
        });
        Parallel.For(0, tasks, t =>
        {
            int i0 = t / tileCols * RowsPerTask, j0 = t % tileCols * ColumnsPerTask;
            _gemmPacked(m, n, k, (uint*)qa, (uint*)qb, i0, RowsPerTask, j0, ColumnsPerTask, alpha, beta, (float*)pc, ldc);
        });
    }

    /// <inheritdoc/>
    public void SgemmOnThisThread(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
        => _gemm(transposeA ? 1 : 0, transposeB ? 1 : 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);

    private static long RoundUp(int value, int multiple) => (value + multiple - 1L) / multiple * multiple;

    private static IntPtr Export(IntPtr library, string name)
        => NativeLibrary.TryGetExport(library, name, out IntPtr address) ? address : throw new EntryPointNotFoundException(name);

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

        if (!NativeLibrary.TryGetExport(handle, "jpeglm_bf16_supported", out IntPtr supported))
        {
            LoadError = $"{path} lacks the jpeglm_bf16_* exports";
            return null;
        }

        if (((delegate* unmanaged[Cdecl]<int>)supported)() == 0)
        {
            LoadError = "this CPU lacks AVX512-BF16 (vdpbf16ps)";
            return null;
        }

        try
        {
            return new Bf16Gemm(handle, path);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or InvalidOperationException)
        {
            LoadError = $"{path}: {e.Message} (a library from another version of this file?)";
            return null;
        }
    }

    /// <summary>A 64-byte-aligned native buffer that only grows (never freed: one per thread, bounded by its largest product).</summary>
    private sealed class PackedBuffer
    {
        private uint* _words;
        private long _capacity;

        public uint* Reserve(long words)
        {
            if (words > _capacity)
            {
                NativeMemory.AlignedFree(_words);
                _words = (uint*)NativeMemory.AlignedAlloc((nuint)(words * sizeof(uint)), 64);
                _capacity = words;
            }

            return _words;
        }
    }
}
