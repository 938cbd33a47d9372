using JpegLm.Cuda.Checks;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Kernels.Cpu;

namespace JpegLm.Cuda.Tests.Checks;

/// <summary>The parity harness itself, run CPU against CPU (no GPU needed): it must pass a correct backend and catch faulty ones.</summary>
public sealed class KernelParityTests
{
    [Fact]
    public void Cpu_against_cpu_passes_every_case_exactly()
    {
        using var a = new CpuKernels(new ManagedGemm());
        using var b = new CpuKernels(new ManagedGemm());
        IReadOnlyList<ParityResult> results = new KernelParity(a, b, 1e-5).RunAll();
        Assert.True(results.Count > 30, $"{results.Count} outputs compared");
        Assert.All(results, r => Assert.True(r.Passed && r.RelativeError == 0, $"{r.Operation} {r.Output}: {r.RelativeError}"));
        Assert.Contains(results, r => r.Operation.StartsWith("AttentionBackward", StringComparison.Ordinal) && r.Output == "keyGrad");
    }

    [Fact]
    public void An_output_left_unwritten_fails_as_nan()
    {
        using var cpu = new CpuKernels(new ManagedGemm());
        using var lazy = new SkipsAdd(new CpuKernels(new ManagedGemm()));
        IReadOnlyList<ParityResult> results = new KernelParity(lazy, cpu, 1e-5).RunAll();
        ParityResult add = Assert.Single(results, r => r.Operation.StartsWith("Add", StringComparison.Ordinal));
        Assert.True(double.IsNaN(add.RelativeError));
        Assert.False(add.Passed);
        Assert.All(results.Where(r => r != add), r => Assert.True(r.Passed, r.Operation));
    }

    [Theory]
    [InlineData(new float[] { 1, 2, 3 }, new float[] { 1, 2, 3 }, 0.0)]
    [InlineData(new float[] { 3, 0 }, new float[] { 0, 4 }, 1.25)]
    public void Relative_error_is_the_norm_ratio(float[] actual, float[] expected, double error)
        => Assert.Equal(error, KernelParity.RelativeError(actual, expected), 12);

    [Fact]
    public void Nan_never_passes()
    {
        Assert.True(double.IsNaN(KernelParity.RelativeError([float.NaN], [1f])));
        Assert.False(new ParityResult("x", "y", double.NaN, 1, true).Passed);
        Assert.False(new ParityResult("x", "y", 0, 1, Deterministic: false).Passed);
    }

    /// <summary>A backend whose Add writes nothing (the poisoned NaNs stay).</summary>
    private sealed class SkipsAdd(CpuKernels inner) : IKernels
    {
        public string Name => "skips-add";

        public ITensorBuffer Allocate(long length) => inner.Allocate(length);

        public void Upload(ReadOnlySpan<float> source, Tensor destination) => inner.Upload(source, destination);

        public void Upload(ReadOnlySpan<int> source, TokenTensor destination) => inner.Upload(source, destination);

        public void Download(Tensor source, Span<float> destination) => inner.Download(source, destination);

        public void Zero(Tensor tensor) => inner.Zero(tensor);

        public void Copy2D(Tensor destination, long destinationStride, Tensor source, long sourceStride, int rows, int rowLength)
            => inner.Copy2D(destination, destinationStride, source, sourceStride, rows, rowLength);

        public void Synchronize() => inner.Synchronize();

        public void EmbeddingForward(Tensor output, TokenTensor tokens, Tensor table, int rows, int channels) => inner.EmbeddingForward(output, tokens, table, rows, channels);

        public void EmbeddingBackward(Tensor tableGrad, Tensor outputGrad, TokenTensor tokens, int rows, int channels) => inner.EmbeddingBackward(tableGrad, outputGrad, tokens, rows, channels);

        public void MatMulForward(Tensor output, Tensor input, Tensor weight, int rows, int inFeatures, int outFeatures) => inner.MatMulForward(output, input, weight, rows, inFeatures, outFeatures);

        public void MatMulBackward(Tensor inputGrad, Tensor weightGrad, Tensor outputGrad, Tensor input, Tensor weight, int rows, int inFeatures, int outFeatures)
            => inner.MatMulBackward(inputGrad, weightGrad, outputGrad, input, weight, rows, inFeatures, outFeatures);

        public void RmsNormForward(Tensor output, Tensor rstd, Tensor input, Tensor weight, int rows, int channels, float epsilon) => inner.RmsNormForward(output, rstd, input, weight, rows, channels, epsilon);

        public void RmsNormBackward(Tensor inputGrad, Tensor weightGrad, Tensor outputGrad, Tensor input, Tensor weight, Tensor rstd, int rows, int channels)
            => inner.RmsNormBackward(inputGrad, weightGrad, outputGrad, input, weight, rstd, rows, channels);

        public void Add(Tensor output, Tensor a, Tensor b, long count)
        {
        }

        public void SwiGluForward(Tensor output, Tensor gate, Tensor up, long count) => inner.SwiGluForward(output, gate, up, count);

        public void SwiGluBackward(Tensor gateGrad, Tensor upGrad, Tensor outputGrad, Tensor gate, Tensor up, long count) => inner.SwiGluBackward(gateGrad, upGrad, outputGrad, gate, up, count);

        public void RotaryForward(Tensor x, int batch, int length, int heads, int headDim, int positionOffset, float theta) => inner.RotaryForward(x, batch, length, heads, headDim, positionOffset, theta);

        public void RotaryBackward(Tensor xGrad, int batch, int length, int heads, int headDim, int positionOffset, float theta) => inner.RotaryBackward(xGrad, batch, length, heads, headDim, positionOffset, theta);

        public void AttentionForward(Tensor output, Tensor logSumExp, Tensor query, Tensor key, Tensor value, AttentionShape shape) => inner.AttentionForward(output, logSumExp, query, key, value, shape);

        public void AttentionBackward(Tensor queryGrad, Tensor keyGrad, Tensor valueGrad, Tensor outputGrad, Tensor output, Tensor logSumExp, Tensor query, Tensor key, Tensor value, AttentionShape shape)
            => inner.AttentionBackward(queryGrad, keyGrad, valueGrad, outputGrad, output, logSumExp, query, key, value, shape);

        public void CrossEntropyForward(Tensor losses, Tensor logits, TokenTensor targets, int rows, int vocab) => inner.CrossEntropyForward(losses, logits, targets, rows, vocab);

        public void CrossEntropyForwardBackward(Tensor losses, Tensor logits, TokenTensor targets, float gradientScale, int rows, int vocab)
            => inner.CrossEntropyForwardBackward(losses, logits, targets, gradientScale, rows, vocab);

        public void SumOfSquares(Tensor result, Tensor x) => inner.SumOfSquares(result, x);

        public void AdamW(Tensor parameters, Tensor gradients, Tensor firstMoment, Tensor secondMoment, AdamWStep step) => inner.AdamW(parameters, gradients, firstMoment, secondMoment, step);

        public void Dispose() => inner.Dispose();
    }
}

/// <summary>The whole-model checks, CPU against CPU (the harness must report exact agreement and learning).</summary>
public sealed class TrainingCheckTests
{
    [Fact]
    public void One_step_on_identical_backends_agrees_exactly()
    {
        using var a = new CpuKernels(new ManagedGemm());
        using var b = new CpuKernels(new ManagedGemm());
        StepComparison s = TrainingCheck.CompareOneStep(a, b, TrainingCheck.SmallConfig, 2, 32);
        Assert.Equal(s.ReferenceLoss, s.CandidateLoss);
        Assert.InRange(s.ReferenceLoss, 5.0f, 6.0f); // about ln 256 at initialization
        Assert.Equal(0, s.GradientError);
        Assert.Equal(0, s.WeightError);
        Assert.Equal(0, s.UpdateError);
    }

    [Fact]
    public void Tiny_training_lowers_the_loss()
    {
        using var cpu = new CpuKernels();
        float[] losses = TrainingCheck.TrainTiny(cpu, TrainingCheck.SmallConfig, 20, batch: 2, length: 32);
        Assert.True(losses[^1] < 0.8f * losses[0], $"loss {losses[0]} -> {losses[^1]}");
    }
}
