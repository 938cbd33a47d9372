using System.Runtime.InteropServices;

namespace JpegLm.Engine.Kernels.Cpu;

/// <summary>
/// <see cref="IGemm"/> through OpenBLAS's <c>cblas_sgemm</c>, loaded at run time with
/// <see cref="NativeLibrary.TryLoad(string, out IntPtr)"/> so the engine still runs where it is absent.
/// OpenBLAS reads <c>OPENBLAS_CORETYPE</c> when the library loads: a process that wants its AVX-512
/// kernels must start without that variable (see docs/engine.md).
/// Small products (under <see cref="SingleThreadMacs"/> multiply-adds: a sampling step's GEMMs) run on one
/// OpenBLAS thread. Its worker threads wake for every threaded call and then spin, yielding, for a while after
/// it; for a product of a few microseconds that costs more than it saves and takes CPU from whatever else runs
/// (a sampler's grammar masks). A product's bits depend only on its shape, as before: OpenBLAS already chose
/// its thread count by size, and with some of its kernels (the Haswell ones) that count changes the rounding.
/// </summary>
public sealed unsafe class OpenBlasGemm : IGemm
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private static readonly Lazy<OpenBlasGemm?> Shared = new(Load);

    private readonly delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
    private readonly delegate* unmanaged[Cdecl]<int, void> _setThreads; // null when the library has no such export
    private readonly delegate* unmanaged[Cdecl]<int> _getThreads;
    private readonly int _threads;
    private readonly Lock _threadSetting = new();

    private OpenBlasGemm(IntPtr sgemm, IntPtr setThreads, IntPtr getThreads, string library)
    {
        _sgemm = (delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
        if (setThreads != IntPtr.Zero && getThreads != IntPtr.Zero)
        {
            _setThreads = (delegate* unmanaged[Cdecl]<int, void>)setThreads;
            _getThreads = (delegate* unmanaged[Cdecl]<int>)getThreads;
            _threads = _getThreads();
        }

        Library = library;
    }

    /// <summary>
    /// Products with fewer multiply-adds (m·n·k) than this run on one thread: the `small` preset's sampling steps at
    /// a batch of 16 (at most 3.1M) do; a 8 x 512 model's (16.8M) and every training step keep all threads.
    /// </summary>
    public const long SingleThreadMacs = 1L << 22;

    /// <summary>OpenBLAS's thread count for large products (1 when it cannot be changed per call).</summary>
    public int Threads => _setThreads == null ? 1 : _threads;

    /// <summary>OpenBLAS's thread setting right now (what a threaded product would use), or 1 when it cannot be read.</summary>
    public int CurrentThreads => _getThreads == null ? 1 : _getThreads();

    /// <summary>The library file that was loaded.</summary>
    public string Library { get; }

    /// <inheritdoc/>
    public string Name => "openblas";

    /// <summary>The process-wide OpenBLAS, or null (with <see cref="LoadError"/> set) when no library was found.</summary>
    public static OpenBlasGemm? TryCreate() => Shared.Value;

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

        int ta = transposeA ? Trans : NoTrans, tb = transposeB ? Trans : NoTrans;
        if (_setThreads == null || _threads <= 1 || (long)m * n * k >= SingleThreadMacs)
        {
            _sgemm(RowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }

        // The setting is process-wide: a large product started by another thread meanwhile runs on one thread
        // (slower, same bits); the lock keeps two small products from restoring it under each other.
        lock (_threadSetting)
        {
            _setThreads(1);
            try
            {
                _sgemm(RowMajor, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            }
            finally
            {
                _setThreads(_threads);
            }
        }
    }

    private static OpenBlasGemm? Load()
    {
        foreach (string name in new[] { "libopenblas.so.0", "libopenblas.so", "libopenblas", "openblas" })
        {
            if (NativeLibrary.TryLoad(name, out IntPtr handle))
            {
                if (NativeLibrary.TryGetExport(handle, "cblas_sgemm", out IntPtr sgemm))
                {
                    NativeLibrary.TryGetExport(handle, "openblas_set_num_threads", out IntPtr set);
                    NativeLibrary.TryGetExport(handle, "openblas_get_num_threads", out IntPtr get);
                    return new OpenBlasGemm(sgemm, set, get, name);
                }

                LoadError = $"{name} has no cblas_sgemm export";
                return null;
            }
        }

        LoadError = "libopenblas.so.0 not found (install libopenblas0-pthread)";
        return null;
    }
}
