using JpegLm.Engine.Kernels.Cpu;
using static JpegLm.Engine.Tests.GradientCheck;

namespace JpegLm.Engine.Tests.Kernels;

public class GemmTests
{
    public static TheoryData<bool, bool, int, int, int, float> Shapes => new()
    {
        { false, true, 1, 300, 70, 0f },
        { false, false, 97, 33, 260, 1f },
        { true, false, 45, 290, 101, 0.5f },
        { true, true, 200, 17, 513, 0f },
        { false, true, 130, 520, 64, 1f },
        { false, true, 800, 70, 33, 0.5f }, // several row groups per column tile
    };

    private static unsafe float[] Run(IGemm gemm, bool ta, bool tb, int m, int n, int k, float beta, ulong seed)
    {
        float[] a = Random(m * k, seed), b = Random(k * n, seed + 1), c = Random(m * n, seed + 2);
        int lda = ta ? m : k, ldb = tb ? k : n;
        fixed (float* pa = a, pb = b, pc = c)
        {
            gemm.Sgemm(ta, tb, m, n, k, 0.75f, pa, lda, pb, ldb, beta, pc, n);
        }

        return c;
    }

    private static double[] Naive(bool ta, bool tb, int m, int n, int k, float beta, ulong seed)
    {
        float[] a = Random(m * k, seed), b = Random(k * n, seed + 1), c = Random(m * n, seed + 2);
        double[] r = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                {
                    s += (double)(ta ? a[p * m + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * n + j]);
                }

                r[i * n + j] = 0.75 * s + (beta == 0 ? 0 : beta * c[i * n + j]);
            }
        }

        return r;
    }

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Managed_gemm_matches_a_float64_product(bool ta, bool tb, int m, int n, int k, float beta)
    {
        double[] expected = Naive(ta, tb, m, n, k, beta, 40);
        foreach (var gemm in new[] { new ManagedGemm(), new ManagedGemm(allowVector512: false) })
        {
            float[] actual = Run(gemm, ta, tb, m, n, k, beta, 40);
            for (int i = 0; i < expected.Length; i++)
            {
                Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-4 * Math.Sqrt(k) * 4, $"{gemm.Name} element {i}: {expected[i]} vs {actual[i]}");
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void Managed_gemm_agrees_with_openblas(bool ta, bool tb, int m, int n, int k, float beta)
    {
        OpenBlasGemm? blas = OpenBlasGemm.TryCreate();
        Skip.If(blas is null, "OpenBLAS is not installed: " + OpenBlasGemm.LoadError);
        float[] expected = Run(blas!, ta, tb, m, n, k, beta, 50);
        float[] actual = Run(new ManagedGemm(), ta, tb, m, n, k, beta, 50);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-4 * Math.Sqrt(k) * 4, $"element {i}: openblas {expected[i]} vs managed {actual[i]}");
        }
    }

    [SkippableFact]
    public unsafe void Openblas_runs_a_small_product_on_one_thread_and_restores_its_setting()
    {
        // Small products (a sampling step's) run on one OpenBLAS thread; the process-wide setting must come back, so
        // a training step's large product after it uses every thread again. Their values are checked against a
        // float64 product by the shapes above (the first and last are under the threshold).
        OpenBlasGemm? blas = OpenBlasGemm.TryCreate();
        Skip.If(blas is null, "OpenBLAS is not installed: " + OpenBlasGemm.LoadError);
        Skip.If(blas!.Threads <= 1, "OpenBLAS runs on one thread here (OPENBLAS_NUM_THREADS=1 or one core)");
        Assert.True(1L * 300 * 70 < OpenBlasGemm.SingleThreadMacs && 800L * 70 * 33 < OpenBlasGemm.SingleThreadMacs);
        float[] small = Run(blas, false, true, 16, 768, 256, 0f, 80);
        Assert.Equal(blas.Threads, blas.CurrentThreads);
        Assert.Equal(small, Run(blas, false, true, 16, 768, 256, 0f, 80));
    }

    [Fact]
    public void Managed_gemm_is_deterministic()
    {
        var gemm = new ManagedGemm();
        Assert.Equal(Run(gemm, false, true, 300, 300, 300, 0f, 60), Run(gemm, false, true, 300, 300, 300, 0f, 60));
    }
}
