using System.Diagnostics;

namespace JpegLm.Engine.Kernels.Cpu;

/// <summary>
/// How fast an <see cref="IGemm"/> multiplies two square matrices (C = A·Bᵀ, the layout of a linear layer): the
/// figure the CPU backend states as its peak (<see cref="CpuKernels.PeakFlops"/>) and <c>jpeglm bench engine</c>
/// reports model FLOP/s against. A CPU has no datasheet number that its GEMM library reaches on this machine, under
/// this load, with these threads; the measured SGEMM is the most a training step's products could run at.
/// </summary>
public static class GemmRate
{
    /// <summary>The side of the measured matrices (1024³: 2.1 GFLOP, well past the cache blocking of either GEMM).</summary>
    public const int Size = 1024;

    /// <summary>FLOPs of one <paramref name="size"/>³ product (one multiply and one add per term).</summary>
    public static double Flops(int size) => 2.0 * size * size * size;

    /// <summary>
    /// The FLOP/s of the fastest of <paramref name="rounds"/> products after one warm-up (the first call pays for
    /// packing buffers and thread start-up): a peak, so the round least slowed by other processes decides it. On a
    /// loaded machine the figure still moves with the load, and a step that runs while the machine is quieter than
    /// during the measurement can show more than 100 % MFU.
    /// </summary>
    public static double Measure(IGemm gemm, int size = Size, int rounds = 3)
    {
        ArgumentNullException.ThrowIfNull(gemm);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        var operands = new Operands(size);
        double[] seconds = new double[rounds];
        Run(gemm, operands);
        for (int r = 0; r < rounds; r++)
        {
            long start = Stopwatch.GetTimestamp();
            Run(gemm, operands);
            seconds[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
        }

        return Flops(size) / seconds.Min();
    }

    /// <summary>One <see cref="Operands.Size"/>³ product C = A·Bᵀ.</summary>
    public static unsafe void Run(IGemm gemm, Operands operands)
    {
        ArgumentNullException.ThrowIfNull(gemm);
        ArgumentNullException.ThrowIfNull(operands);
        int n = operands.Size;
        fixed (float* a = operands.A, b = operands.B, c = operands.C)
        {
            gemm.Sgemm(false, true, n, n, n, 1f, a, n, b, n, 0f, c, n);
        }
    }

    /// <summary>Square matrices filled with small repeating values (no denormals, no zeros a GEMM could skip).</summary>
    public sealed class Operands
    {
        /// <summary>Allocates and fills A and B, <paramref name="size"/> × <paramref name="size"/>.</summary>
        public Operands(int size)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
            Size = size;
            A = new float[size * size];
            B = new float[size * size];
            C = new float[size * size];
            for (int i = 0; i < A.Length; i++)
            {
                A[i] = (i % 17) * 0.01f;
                B[i] = (i % 13) * 0.02f;
            }
        }

        /// <summary>The side of the matrices.</summary>
        public int Size { get; }

        /// <summary>The left operand.</summary>
        public float[] A { get; }

        /// <summary>The right operand (used transposed).</summary>
        public float[] B { get; }

        /// <summary>The product.</summary>
        public float[] C { get; }
    }
}
