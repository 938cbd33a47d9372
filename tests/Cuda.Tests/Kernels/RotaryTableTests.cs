using JpegLm.Cuda.Kernels;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Kernels.Cpu;

namespace JpegLm.Cuda.Tests.Kernels;

/// <summary>The rotary table the CUDA backend uploads is the CPU engine's own cos/sin, bit for bit, at every position.</summary>
public sealed class RotaryTableTests
{
    [Theory]
    [InlineData(64, 10000f, 300)]
    [InlineData(128, 500000f, 5000)]
    public void Table_equals_the_cpu_rotation_of_unit_vectors(int headDim, float theta, int positions)
    {
        int half = headDim / 2;
        float[] table = CudaKernels.RotaryTableValues(headDim, theta, positions);
        // Rotating x = (1, 0) per frequency gives (cos, sin) exactly: 1·c − 0·s and 0·c + 1·s.
        float[] x = new float[positions * headDim];
        for (int p = 0; p < positions; p++)
        {
            for (int i = 0; i < half; i++)
            {
                x[p * headDim + i] = 1f;
            }
        }

        using var cpu = new CpuKernels();
        using ITensorBuffer buffer = cpu.Allocate(x.Length);
        cpu.Upload(x, Tensor.Of(buffer));
        cpu.RotaryForward(Tensor.Of(buffer), 1, positions, 1, headDim, 0, theta);
        cpu.Download(Tensor.Of(buffer), x);
        for (int p = 0; p < positions; p++)
        {
            for (int i = 0; i < half; i++)
            {
                Assert.Equal(x[p * headDim + i], table[2 * (p * half + i)]);
                Assert.Equal(x[p * headDim + half + i], table[2 * (p * half + i) + 1]);
            }
        }
    }
}
