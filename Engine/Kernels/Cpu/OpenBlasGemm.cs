using System.Runtime.InteropServices;

namespace JpegLm.Engine.Kernels.Cpu;

/// <summary>
/// <see cref="IGemm"/> through OpenBLAS's <c>cblas_sgemm</c>, loaded at run time with
/// <see cref="NativeLibrary.TryLoad(string, out IntPtr)"/> so the engine still runs where it is absent.
/// OpenBLAS reads <c>OPENBLAS_CORETYPE</c> when the library loads: a process that wants its AVX-512
/// kernels must start without that variable (see docs/engine.md).
/// </summary>
public sealed unsafe class OpenBlasGemm : IGemm
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    private static readonly Lazy<OpenBlasGemm?> Shared = new(Load);

    private readonly delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;

    private OpenBlasGemm(IntPtr sgemm, string library)
    {
        _sgemm = (delegate* unmanaged[Cdecl]<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)sgemm;
        Library = library;
    }

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

        _sgemm(RowMajor, transposeA ? Trans : NoTrans, transposeB ? Trans : NoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    }

    private static OpenBlasGemm? Load()
    {
        foreach (string name in new[] { "libopenblas.so.0", "libopenblas.so", "libopenblas", "openblas" })
        {
            if (NativeLibrary.TryLoad(name, out IntPtr handle))
            {
                if (NativeLibrary.TryGetExport(handle, "cblas_sgemm", out IntPtr sgemm))
                {
                    return new OpenBlasGemm(sgemm, name);
                }

                LoadError = $"{name} has no cblas_sgemm export";
                return null;
            }
        }

        LoadError = "libopenblas.so.0 not found (install libopenblas0-pthread)";
        return null;
    }
}
