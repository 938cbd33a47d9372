using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace JpegLm.Engine.Kernels.Cpu;

/// <summary>
/// A cache-blocked SGEMM in managed code (the Goto/BLIS scheme). C is cut into tiles of
/// <see cref="BlockRows"/> × <see cref="BlockColumns"/>, one Parallel.For task each, so every element of C
/// is owned by one thread and summed in a fixed order (deterministic). Inside a tile, K is walked in slabs
/// of <see cref="BlockDepth"/>: the task packs its slab of A into row strips of MR and of B into column
/// strips of NR (zero-padded, L2-resident), then an MR × NR register-blocked micro-kernel runs FMAs:
/// 8 × 32 with Vector512 (16 accumulators) or 6 × 16 with Vector256 (12 accumulators).
/// </summary>
public sealed unsafe class ManagedGemm : IThreadGemm
{
    /// <summary>Rows of C per task (a multiple of both micro-kernel heights).</summary>
    public const int BlockRows = 96;

    /// <summary>Columns of C per task (a multiple of both micro-kernel widths).</summary>
    public const int BlockColumns = 256;

    /// <summary>Rows of C per parallel task (several row blocks share one packed slab of B).</summary>
    public const int RowsPerTask = 4 * BlockRows;

    /// <summary>Depth of one packed slab.</summary>
    public const int BlockDepth = 256;

    [ThreadStatic]
    private static float[]? t_packA;

    [ThreadStatic]
    private static float[]? t_packB;

    private readonly bool _wide;
    private readonly int _mr;
    private readonly int _nr;

    /// <summary>Creates the GEMM; <paramref name="allowVector512"/> false forces the Vector256 kernel (for tests).</summary>
    public ManagedGemm(bool allowVector512 = true)
    {
        _wide = allowVector512 && Vector512.IsHardwareAccelerated;
        (_mr, _nr) = _wide ? (8, 32) : (6, 16);
        Name = _wide ? "managed-avx512" : "managed-vector256";
    }

    /// <inheritdoc/>
    public string Name { get; }

    /// <inheritdoc/>
    public void Sgemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
        => Run(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parallel: true);

    /// <summary>The same product on the calling thread only (for callers that already run one task per core).</summary>
    public void SgemmOnThisThread(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
        => Run(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, parallel: false);

    private void Run(bool transposeA, bool transposeB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc, bool parallel)
    {
        if (m == 0 || n == 0)
        {
            return;
        }

        int tileRows = (m + RowsPerTask - 1) / RowsPerTask;
        int tileCols = (n + BlockColumns - 1) / BlockColumns;
        int tasks = tileRows * tileCols;
        var job = new Job(transposeA, transposeB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        if (!parallel || tasks == 1 || (long)m * n * k < 64 * 64 * 64)
        {
            for (int t = 0; t < tasks; t++)
            {
                RunTile(job, t / tileCols, t % tileCols);
            }
        }
        else
        {
            Parallel.For(0, tasks, t => RunTile(job, t / tileCols, t % tileCols));
        }
    }

    private readonly struct Job(bool transA, bool transB, int m, int n, int k, float alpha,
        float* a, int lda, float* b, int ldb, float beta, float* c, int ldc)
    {
        public readonly bool TransA = transA, TransB = transB;
        public readonly int M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc;
        public readonly float Alpha = alpha, Beta = beta;
        public readonly float* A = a, B = b, C = c;
    }

    // One task: rows [tileRow·RowsPerTask, +RowsPerTask) × columns [tileCol·BlockColumns, +BlockColumns).
    // The packed B slab is reused by every BlockRows-high block of the task's rows.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunTile(in Job job, int tileRow, int tileCol)
    {
        int rowEnd = Math.Min(job.M, (tileRow + 1) * RowsPerTask), j0 = tileCol * BlockColumns;
        int nc = Math.Min(BlockColumns, job.N - j0);
        t_packA ??= new float[BlockRows * BlockDepth + 64];
        t_packB ??= new float[BlockColumns * BlockDepth + 64];
        float* tile = stackalloc float[8 * 32];
        fixed (float* packA = t_packA, packB = t_packB)
        {
            if (job.K == 0)
            {
                for (int i = tileRow * RowsPerTask; i < rowEnd; i += BlockRows)
                {
                    ScaleTile(job, i, j0, Math.Min(BlockRows, rowEnd - i), nc);
                }

                return;
            }

            for (int p0 = 0; p0 < job.K; p0 += BlockDepth)
            {
                int kc = Math.Min(BlockDepth, job.K - p0);
                PackB(job, packB, j0, nc, p0, kc);
                bool first = p0 == 0;
                for (int i0 = tileRow * RowsPerTask; i0 < rowEnd; i0 += BlockRows)
                {
                int mc = Math.Min(BlockRows, rowEnd - i0);
                PackA(job, packA, i0, mc, p0, kc);
                for (int jr = 0; jr < nc; jr += _nr)
                {
                    int nr = Math.Min(_nr, nc - jr);
                    float* bStrip = packB + (jr / _nr) * _nr * kc;
                    for (int ir = 0; ir < mc; ir += _mr)
                    {
                        int mr = Math.Min(_mr, mc - ir);
                        float* aStrip = packA + (ir / _mr) * _mr * kc;
                        if (_wide)
                        {
                            Kernel8x32(aStrip, bStrip, kc, tile);
                        }
                        else
                        {
                            Kernel6x16(aStrip, bStrip, kc, tile);
                        }

                        StoreTile(job, tile, i0 + ir, j0 + jr, mr, nr, first);
                    }
                }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void StoreTile(in Job job, float* tile, int i, int j, int mr, int nr, bool first)
    {
        float alpha = job.Alpha;
        bool overwrite = first && job.Beta == 0f;
        float beta = first ? job.Beta : 1f;
        for (int r = 0; r < mr; r++)
        {
            float* cRow = job.C + (long)(i + r) * job.Ldc + j;
            float* tRow = tile + r * _nr;
            int q = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var va = Vector256.Create(alpha);
                var vb = Vector256.Create(beta);
                for (; q + 8 <= nr; q += 8)
                {
                    Vector256<float> t = Vector256.Load(tRow + q) * va;
                    (overwrite ? t : Vector256.FusedMultiplyAdd(vb, Vector256.Load(cRow + q), t)).Store(cRow + q);
                }
            }

            for (; q < nr; q++)
            {
                cRow[q] = overwrite ? alpha * tRow[q] : beta * cRow[q] + alpha * tRow[q];
            }
        }
    }

    private static void ScaleTile(in Job job, int i0, int j0, int mc, int nc)
    {
        for (int r = 0; r < mc; r++)
        {
            float* cRow = job.C + (long)(i0 + r) * job.Ldc + j0;
            for (int q = 0; q < nc; q++)
            {
                cRow[q] = job.Beta == 0f ? 0f : job.Beta * cRow[q];
            }
        }
    }

    // Packs op(A)[i0.., p0..] into strips of MR rows: strip s holds, for each p, MR consecutive values.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackA(in Job job, float* dst, int i0, int mc, int p0, int kc)
    {
        int mr = _mr;
        float** rowPtrs = stackalloc float*[8];
        for (int s = 0; s < mc; s += mr)
        {
            int rows = Math.Min(mr, mc - s);
            float* strip = dst + (s / mr) * mr * kc;
            if (!job.TransA)
            {
                for (int r = 0; r < mr; r++)
                {
                    rowPtrs[r] = r < rows ? job.A + (long)(i0 + s + r) * job.Lda + p0 : null;
                }

                for (int p = 0; p < kc; p++)
                {
                    float* d = strip + p * mr;
                    int r = 0;
                    for (; r < rows; r++)
                    {
                        d[r] = rowPtrs[r][p];
                    }

                    for (; r < mr; r++)
                    {
                        d[r] = 0f;
                    }
                }
            }
            else
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = job.A + (long)(p0 + p) * job.Lda + i0 + s;
                    float* d = strip + p * mr;
                    int r = 0;
                    for (; r < rows; r++)
                    {
                        d[r] = src[r];
                    }

                    for (; r < mr; r++)
                    {
                        d[r] = 0f;
                    }
                }
            }
        }
    }

    // Packs op(B)[p0.., j0..] into strips of NR columns: strip s holds, for each p, NR consecutive values.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void PackB(in Job job, float* dst, int j0, int nc, int p0, int kc)
    {
        int nr = _nr;
        float** rows = stackalloc float*[32];
        for (int s = 0; s < nc; s += nr)
        {
            int cols = Math.Min(nr, nc - s);
            float* strip = dst + (s / nr) * nr * kc;
            if (!job.TransB)
            {
                for (int p = 0; p < kc; p++)
                {
                    float* src = job.B + (long)(p0 + p) * job.Ldb + j0 + s;
                    float* d = strip + p * nr;
                    if (cols == nr)
                    {
                        Buffer.MemoryCopy(src, d, nr * sizeof(float), nr * sizeof(float));
                    }
                    else
                    {
                        int q = 0;
                        for (; q < cols; q++)
                        {
                            d[q] = src[q];
                        }

                        for (; q < nr; q++)
                        {
                            d[q] = 0f;
                        }
                    }
                }
            }
            else
            {
                // Row j of B is column j of op(B): walk p in the outer loop so the writes stay contiguous
                // and the NR source rows stream in parallel through L1.
                for (int q = 0; q < nr; q++)
                {
                    rows[q] = q < cols ? job.B + (long)(j0 + s + q) * job.Ldb + p0 : null;
                }

                for (int p = 0; p < kc; p++)
                {
                    float* d = strip + p * nr;
                    int q = 0;
                    for (; q < cols; q++)
                    {
                        d[q] = rows[q][p];
                    }

                    for (; q < nr; q++)
                    {
                        d[q] = 0f;
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel8x32(float* a, float* b, int kc, float* tile)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16);
            Vector512<float> x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            a += 8;
            b += 32;
        }

        c00.Store(tile); c01.Store(tile + 16); c10.Store(tile + 32); c11.Store(tile + 48);
        c20.Store(tile + 64); c21.Store(tile + 80); c30.Store(tile + 96); c31.Store(tile + 112);
        c40.Store(tile + 128); c41.Store(tile + 144); c50.Store(tile + 160); c51.Store(tile + 176);
        c60.Store(tile + 192); c61.Store(tile + 208); c70.Store(tile + 224); c71.Store(tile + 240);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Kernel6x16(float* a, float* b, int kc, float* tile)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8);
            Vector256<float> x = Vector256.Create(a[0]);
            c00 = Vector256.FusedMultiplyAdd(x, b0, c00); c01 = Vector256.FusedMultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Vector256.FusedMultiplyAdd(x, b0, c10); c11 = Vector256.FusedMultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = Vector256.FusedMultiplyAdd(x, b0, c20); c21 = Vector256.FusedMultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = Vector256.FusedMultiplyAdd(x, b0, c30); c31 = Vector256.FusedMultiplyAdd(x, b1, c31);
            x = Vector256.Create(a[4]);
            c40 = Vector256.FusedMultiplyAdd(x, b0, c40); c41 = Vector256.FusedMultiplyAdd(x, b1, c41);
            x = Vector256.Create(a[5]);
            c50 = Vector256.FusedMultiplyAdd(x, b0, c50); c51 = Vector256.FusedMultiplyAdd(x, b1, c51);
            a += 6;
            b += 16;
        }

        c00.Store(tile); c01.Store(tile + 8); c10.Store(tile + 16); c11.Store(tile + 24);
        c20.Store(tile + 32); c21.Store(tile + 40); c30.Store(tile + 48); c31.Store(tile + 56);
        c40.Store(tile + 64); c41.Store(tile + 72); c50.Store(tile + 80); c51.Store(tile + 88);
    }
}
