using JpegLm.Engine.Kernels;
using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Model;

namespace JpegLm.Engine.Tests;

/// <summary>Helpers: host ↔ CPU-kernel tensors, random data, float64 finite differences.</summary>
internal static class GradientCheck
{
    public static float[] Random(int count, ulong seed, float scale = 1f)
    {
        var rng = new SplitMixRandom(seed);
        float[] a = new float[count];
        for (int i = 0; i < count; i++)
        {
            a[i] = scale * rng.NextGaussian();
        }

        return a;
    }

    public static Tensor Put(IKernels k, float[] data)
    {
        Tensor t = Tensor.Of(k.Allocate(Math.Max(1, data.Length))).Slice(0, data.Length);
        k.Upload(data, t);
        return t;
    }

    public static TokenTensor Put(IKernels k, int[] data)
    {
        TokenTensor t = Tensor.Of(k.Allocate(data.Length)).AsTokens();
        k.Upload(data, t);
        return t;
    }

    public static float[] Get(IKernels k, Tensor t)
    {
        float[] a = new float[t.Length];
        k.Download(t, a);
        return a;
    }

    public static double[] D(float[] a) => [.. a.Select(x => (double)x)];

    /// <summary>
    /// Central differences of a float64 scalar function with respect to every element of each input,
    /// compared with <paramref name="analytic"/> gradients (from the float32 kernels).
    /// </summary>
    public static void AssertGradients(Func<double[][], double> loss, double[][] inputs, float[][] analytic, double tolerance = 2e-3, string what = "")
    {
        const double h = 1e-5;
        for (int a = 0; a < inputs.Length; a++)
        {
            double[] x = inputs[a];
            double worst = 0;
            for (int i = 0; i < x.Length; i++)
            {
                double saved = x[i];
                x[i] = saved + h;
                double plus = loss(inputs);
                x[i] = saved - h;
                double minus = loss(inputs);
                x[i] = saved;
                double numeric = (plus - minus) / (2 * h);
                double err = Math.Abs(numeric - analytic[a][i]) / (1e-2 + Math.Abs(numeric));
                worst = Math.Max(worst, err);
                Assert.True(err < tolerance, $"{what} input {a} element {i}: analytic {analytic[a][i]} vs numeric {numeric}");
            }

            Assert.True(worst < tolerance);
        }
    }

    public static void AssertClose(double[] expected, float[] actual, double tolerance, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double err = Math.Abs(expected[i] - actual[i]) / (1e-3 + Math.Abs(expected[i]));
            Assert.True(err <= tolerance, $"{what} element {i}: expected {expected[i]}, got {actual[i]}");
        }
    }

    public static double Dot(double[] w, double[] y)
    {
        double s = 0;
        for (int i = 0; i < w.Length; i++)
        {
            s += w[i] * y[i];
        }

        return s;
    }

    public static CpuKernels NewKernels() => new(new ManagedGemm());
}
