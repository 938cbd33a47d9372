using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Model;
using JpegLm.Engine.Tests.Model;
using JpegLm.Engine.Training;
using JpegLm.TestSupport;
using static JpegLm.Engine.Tests.GradientCheck;

namespace JpegLm.Engine.Tests.Kernels;

/// <summary>
/// The optional bf16 GEMM against a float64 product of the bfloat16-rounded inputs (rounded here, independently
/// of the kernel), and against the float32 inputs: the kernel must sit on the first and measurably off the
/// second, which shows that it really multiplies bfloat16 values.
/// </summary>
public class Bf16GemmTests
{
    public static TheoryData<bool, bool, int, int, int, float> Shapes => new()
    {
        { false, true, 1, 300, 70, 0f },
        { false, false, 97, 33, 261, 1f },
        { true, false, 45, 290, 101, 0.5f },
        { true, true, 200, 17, 513, 0f },
        { false, true, 130, 520, 64, 1f },
        { false, true, 800, 70, 33, 0.5f },
        { true, false, 400, 600, 900, 0f }, // several parallel tiles and K slabs
        { false, true, 100, 700, 50, 0.5f }, // column tiles of a transposed B
        { true, true, 500, 300, 41, 1f },
    };

    private static Bf16Gemm Gemm()
    {
        Bf16Gemm? gemm = Bf16Gemm.TryCreate();
        Skip.If(gemm is null, "the bf16 kernel cannot run here: " + Bf16Gemm.LoadError);
        return gemm!;
    }

    /// <summary>Round to nearest even in the top 16 bits; zero and denormals become signed zero.</summary>
    private static float ToBf16(float x)
    {
        uint u = BitConverter.SingleToUInt32Bits(x);
        if ((u & 0x7f800000u) == 0)
        {
            return BitConverter.UInt32BitsToSingle(u & 0x80000000u);
        }

        u += 0x7fffu + ((u >> 16) & 1u);
        return BitConverter.UInt32BitsToSingle(u & 0xffff0000u);
    }

    private static unsafe float[] Run(Bf16Gemm gemm, bool ta, bool tb, int m, int n, int k, float beta, ulong seed)
    {
        float[] a = Random(m * k, seed), b = Random(k * n, seed + 1), c = Random(m * n, seed + 2);
        fixed (float* pa = a, pb = b, pc = c)
        {
            gemm.Sgemm(ta, tb, m, n, k, 0.75f, pa, ta ? m : k, pb, tb ? k : n, beta, pc, n);
        }

        return c;
    }

    private static (double[] Value, double[] Magnitude) Reference(bool ta, bool tb, int m, int n, int k, float beta, ulong seed, bool round)
    {
        float[] a = Random(m * k, seed), b = Random(k * n, seed + 1), c = Random(m * n, seed + 2);
        Func<float, float> r = round ? ToBf16 : x => x;
        var value = new double[m * n];
        var magnitude = new double[m * n];
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                double s = 0, abs = 0;
                for (int p = 0; p < k; p++)
                {
                    double x = r(ta ? a[p * m + i] : a[i * k + p]), y = r(tb ? b[j * k + p] : b[p * n + j]);
                    s += x * y;
                    abs += Math.Abs(x * y);
                }

                value[i * n + j] = 0.75 * s + (beta == 0 ? 0 : beta * c[i * n + j]);
                magnitude[i * n + j] = 0.75 * abs + Math.Abs(beta * c[i * n + j]);
            }
        }

        return (value, magnitude);
    }

    [SkippableTheory]
    [MemberData(nameof(Shapes))]
    public void Matches_the_product_of_bf16_rounded_inputs_in_float32_accuracy(bool ta, bool tb, int m, int n, int k, float beta)
    {
        float[] actual = Run(Gemm(), ta, tb, m, n, k, beta, 70);
        (double[] rounded, double[] magnitude) = Reference(ta, tb, m, n, k, beta, 70, round: true);
        (double[] exact, _) = Reference(ta, tb, m, n, k, beta, 70, round: false);
        double worstRounded = 0, meanOffRounded = 0, meanOffExact = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            // float32 accumulation: a few units of 2^-24 of the summed magnitudes, growing like sqrt(k).
            worstRounded = Math.Max(worstRounded, Math.Abs(actual[i] - rounded[i]) / (magnitude[i] * Math.Sqrt(k)));
            meanOffRounded += Math.Abs(actual[i] - rounded[i]) / magnitude[i];
            meanOffExact += Math.Abs(actual[i] - exact[i]) / magnitude[i];
        }

        Assert.True(worstRounded < 1e-6, $"off the bf16-rounded product by {worstRounded:E2} of |a||b|·sqrt(k)");
        if (k > 1 && beta == 0)
        {
            // bfloat16 keeps 8 significant bits: rounding moves each product by up to 2^-9 of its size, far more
            // than float32 accumulation does, so the result must sit much nearer the bf16-rounded product
            // than the float32 one (the kernel is not quietly computing in float32).
            Assert.True(meanOffExact > 20 * meanOffRounded, $"mean distance to the float32 product {meanOffExact:E2}, to the bf16 one {meanOffRounded:E2}: inputs were not rounded to bf16");
        }
    }

    [SkippableFact]
    public void Is_deterministic()
    {
        Bf16Gemm gemm = Gemm();
        Assert.Equal(Run(gemm, false, true, 700, 300, 300, 0f, 60), Run(gemm, false, true, 700, 300, 300, 0f, 60));
    }

    [SkippableFact]
    public unsafe void Zero_depth_scales_c_and_beta_zero_never_reads_it()
    {
        Bf16Gemm gemm = Gemm();
        float[] c = [float.NaN, float.NaN, 2f, 4f];
        float[] a = [1f, 2f], b = [3f, 5f];
        fixed (float* pa = a, pb = b, pc = c)
        {
            gemm.Sgemm(false, false, 1, 2, 1, 1f, pa, 1, pb, 2, 0f, pc, 2); // row 0: 1·(3, 5), NaNs not read
            gemm.Sgemm(false, false, 1, 2, 0, 1f, pa, 1, pb, 2, 0.5f, pc + 2, 2); // row 1: k = 0 leaves beta·C
        }

        Assert.Equal([3f, 5f, 1f, 2f], c);
    }

    [SkippableFact]
    public void Training_with_bf16_gemms_follows_the_float32_run_and_keeps_float32_weights()
    {
        Bf16Gemm bf16 = Gemm();
        var options = new TrainerOptions { BatchSize = 2, SequenceLength = 16, MaxSteps = 30, WarmupSteps = 3, LearningRate = 1e-2f, MinLearningRate = 1e-3f, Seed = 3 };
        var losses = new List<float>[2];
        var weights = new float[2][];
        IGemm[] gemms = [new ManagedGemm(), bf16];
        for (int g = 0; g < 2; g++)
        {
            using var model = new LlamaModel(LlamaModelTests.Tiny(), new CpuKernels(gemms[g]));
            model.InitializeWeights(options.Seed);
            var rng = new SplitMixRandom(9);
            using var trainer = new Trainer(model, options, new InMemoryTokenSource([.. Enumerable.Range(0, 4000).Select(i => (int)((i % 7 + rng.NextInt64(2)) % 11))]));
            losses[g] = [];
            trainer.StepCompleted += r => losses[g].Add(r.Loss);
            trainer.Run(30);
            weights[g] = Get(model.Kernels, model.Weights);
        }

        // The same learning curve within bf16's precision, and it does learn the pattern.
        for (int s = 0; s < 30; s++)
        {
            Assert.True(Math.Abs(losses[0][s] - losses[1][s]) < 0.05, $"step {s}: float32 loss {losses[0][s]} vs bf16 {losses[1][s]}");
        }

        Assert.True(losses[1][^1] < losses[1][0] - 0.5f, $"bf16 run did not learn: {losses[1][0]} -> {losses[1][^1]}");

        // Master weights stay float32: small updates survive that bf16 storage would have rounded away.
        int offGrid = weights[1].Count(w => BitConverter.SingleToUInt32Bits(w) % 0x10000 != 0);
        Assert.True(offGrid > weights[1].Length * 9 / 10, $"only {offGrid} of {weights[1].Length} weights carry more than bf16's bits");
    }
}
