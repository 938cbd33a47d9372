using JpegLm.Engine.Kernels;
using JpegLm.Engine.Model;

namespace JpegLm.Cuda.Checks;

/// <summary>The comparison of one full training step (forward, backward, clipping norm, AdamW) on two backends.</summary>
/// <param name="CandidateLoss">Mean loss on the candidate.</param>
/// <param name="ReferenceLoss">Mean loss on the reference.</param>
/// <param name="GradientError">Relative error of the whole gradient vector.</param>
/// <param name="NormError">Relative error of the squared gradient norm.</param>
/// <param name="WeightError">Relative error of the updated weights.</param>
/// <param name="UpdateError">Relative error of the weight change (updated − initial) itself.</param>
public sealed record StepComparison(float CandidateLoss, float ReferenceLoss, double GradientError, double NormError, double WeightError, double UpdateError);

/// <summary>Whole-model checks with the engine's <see cref="LlamaModel"/> on a given backend.</summary>
public static class TrainingCheck
{
    /// <summary>A small Llama for the checks (GQA, two layers, a byte vocabulary).</summary>
    public static LlamaConfig SmallConfig { get; } = new()
    {
        HiddenSize = 128,
        IntermediateSize = 344,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        VocabSize = 256,
        MaxPositionEmbeddings = 256,
    };

    /// <summary>AdamW settings of the checks.</summary>
    public static AdamWStep Step(int step, float gradientScale = 1f) => new(3e-3f, 0.9f, 0.95f, 1e-8f, 0.1f, step, gradientScale);

    /// <summary>
    /// One step from the same initial weights on both backends: the losses, the gradients, the gradient norm
    /// and the updated weights are compared.
    /// </summary>
    public static StepComparison CompareOneStep(IKernels candidate, IKernels reference, LlamaConfig config, int batch, int length, ulong seed = 7)
    {
        ArgumentNullException.ThrowIfNull(config);
        (int[] tokens, int[] targets) = Batch(config.VocabSize, batch, length, new Random((int)seed));
        using var a = new Trainer(candidate, config, seed);
        using var b = new Trainer(reference, config, seed);
        float[] initial = a.Download(a.Model.Weights);
        float lossA = a.ForwardBackward(tokens, targets, batch, length);
        float lossB = b.ForwardBackward(tokens, targets, batch, length);
        float[] gradA = a.Download(a.Model.Gradients), gradB = b.Download(b.Model.Gradients);
        float normA = a.SquaredNorm(), normB = b.SquaredNorm();
        a.Update(1);
        b.Update(1);
        float[] weightsA = a.Download(a.Model.Weights), weightsB = b.Download(b.Model.Weights);
        float[] deltaA = new float[initial.Length], deltaB = new float[initial.Length];
        for (int i = 0; i < initial.Length; i++)
        {
            deltaA[i] = weightsA[i] - initial[i];
            deltaB[i] = weightsB[i] - initial[i];
        }

        return new StepComparison(lossA, lossB, KernelParity.RelativeError(gradA, gradB),
            KernelParity.RelativeError([normA], [normB]), KernelParity.RelativeError(weightsA, weightsB), KernelParity.RelativeError(deltaA, deltaB));
    }

    /// <summary>
    /// Trains <paramref name="steps"/> AdamW steps on a tiny fixed data set (a few repeated byte patterns) and
    /// returns the loss of every step; a working backend drives it well below the starting ln(256) ≈ 5.5.
    /// </summary>
    public static float[] TrainTiny(IKernels kernels, LlamaConfig config, int steps, int batch = 4, int length = 64, ulong seed = 11)
    {
        ArgumentNullException.ThrowIfNull(config);
        byte[] text = "JFIF baseline DCT, Huffman coded; 8x8 blocks zig-zag ordered. "u8.ToArray();
        using var trainer = new Trainer(kernels, config, seed);
        float[] losses = new float[steps];
        int[] tokens = new int[batch * length], targets = new int[batch * length];
        for (int step = 0; step < steps; step++)
        {
            for (int b = 0; b < batch; b++)
            {
                int start = (step * 7 + b * 13) % text.Length;
                for (int t = 0; t < length; t++)
                {
                    tokens[b * length + t] = text[(start + t) % text.Length];
                    targets[b * length + t] = text[(start + t + 1) % text.Length];
                }
            }

            losses[step] = trainer.ForwardBackward(tokens, targets, batch, length);
            trainer.Update(step + 1);
        }

        return losses;
    }

    /// <summary>Random tokens with next-token targets; the last target of each row is ignored (−1).</summary>
    public static (int[] Tokens, int[] Targets) Batch(int vocab, int batch, int length, Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        int[] tokens = new int[batch * length], targets = new int[batch * length];
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = random.Next(vocab);
        }

        for (int i = 0; i < tokens.Length; i++)
        {
            targets[i] = (i + 1) % length == 0 ? -1 : tokens[i + 1];
        }

        return (tokens, targets);
    }

    /// <summary>A model with its AdamW moments on one backend: the minimal training loop of the checks.</summary>
    public sealed class Trainer : IDisposable
    {
        private readonly ITensorBuffer _first;
        private readonly ITensorBuffer _second;
        private readonly ITensorBuffer _scalar;

        /// <summary>Creates and initializes a model from <paramref name="seed"/>.</summary>
        public Trainer(IKernels kernels, LlamaConfig config, ulong seed)
        {
            ArgumentNullException.ThrowIfNull(kernels);
            Model = new LlamaModel(config, kernels);
            Model.InitializeWeights(seed);
            _first = kernels.Allocate(Model.Layout.Length);
            _second = kernels.Allocate(Model.Layout.Length);
            _scalar = kernels.Allocate(1);
        }

        /// <summary>The model.</summary>
        public LlamaModel Model { get; }

        /// <summary>Zeroes the gradients, runs the forward with the fused loss gradient and the backward; returns the mean loss.</summary>
        public float ForwardBackward(ReadOnlySpan<int> tokens, ReadOnlySpan<int> targets, int batch, int length)
        {
            int counted = 0;
            foreach (int t in targets)
            {
                counted += t >= 0 ? 1 : 0;
            }

            Model.ZeroGradients();
            float loss = Model.Forward(tokens, targets, batch, length, training: true, gradientScale: 1f / Math.Max(1, counted));
            Model.Backward();
            return loss;
        }

        /// <summary>The squared global gradient norm (downloaded).</summary>
        public float SquaredNorm()
        {
            Model.Kernels.SumOfSquares(Tensor.Of(_scalar), Model.Gradients);
            float[] r = new float[1];
            Model.Kernels.Download(Tensor.Of(_scalar), r);
            return r[0];
        }

        /// <summary>One AdamW step over every weight, with global-norm clipping at 1.</summary>
        public void Update(int step)
        {
            float norm = MathF.Sqrt(SquaredNorm());
            float scale = norm > 1f ? 1f / norm : 1f;
            Model.Kernels.AdamW(Model.Weights, Model.Gradients, Tensor.Of(_first), Tensor.Of(_second), Step(step, scale));
        }

        /// <summary>Copies a tensor to the host.</summary>
        public float[] Download(Tensor t)
        {
            float[] host = new float[t.Length];
            Model.Kernels.Download(t, host);
            return host;
        }

        /// <inheritdoc/>
        public void Dispose()
        {
            _first.Dispose();
            _second.Dispose();
            _scalar.Dispose();
            Model.Dispose();
        }
    }
}
