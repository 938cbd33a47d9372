using JpegLm.Engine.Kernels;
using JpegLm.Engine.Model;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cuda.Checks;

/// <summary>A sampling run on two backends from the same weights.</summary>
/// <param name="CandidateTokens">The candidate's samples, concatenated.</param>
/// <param name="ReferenceTokens">The reference's samples, concatenated.</param>
/// <param name="WorstLogitError">The largest relative error of the logits over every step of the teacher-forced replay.</param>
/// <param name="WorstStep">The step (0 = the prompt) with that error.</param>
/// <param name="Steps">Steps replayed (the prompt, then one token at a time).</param>
public sealed record SamplingComparison(int[] CandidateTokens, int[] ReferenceTokens, double WorstLogitError, int WorstStep, int Steps)
{
    /// <summary>Whether both backends sampled the same tokens.</summary>
    public bool SameTokens => CandidateTokens.AsSpan().SequenceEqual(ReferenceTokens);
}

/// <summary>
/// The sampling path (KV cache, one-token steps, the engine's <see cref="Sampler"/>) on a candidate backend
/// against a reference: both sample with the same seed, then the reference's first sample is replayed
/// token by token through <see cref="CachedForward"/> on both and every step's logits are compared. In
/// float32 the sampled tokens agree exactly (a flip needs a logit difference at a random CDF boundary); in
/// bfloat16 only the logits are compared.
/// </summary>
public static class SamplingCheck
{
    /// <summary>Samples <paramref name="samples"/> continuations on both backends from the same initial weights and replays one.</summary>
    public static SamplingComparison Compare(IKernels candidate, IKernels reference, LlamaConfig config, int samples = 2, int newTokens = 24, ulong seed = 5)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(config);
        int[] prompt = [.. Enumerable.Range(0, 8).Select(i => (i * 37 + 11) % config.VocabSize)];
        var options = new SamplingOptions { TopK = 40, TopP = 0.95f, MaxNewTokens = newTokens, Samples = samples, Seed = 3, EosTokenId = -1 };
        using var a = new LlamaModel(config, candidate);
        using var b = new LlamaModel(config, reference);
        a.InitializeWeights(seed);
        b.InitializeWeights(seed);
        int[] tokensA = [.. new Sampler(a).Generate(prompt, options).SelectMany(r => r.Tokens)];
        int[] tokensB = [.. new Sampler(b).Generate(prompt, options).SelectMany(r => r.Tokens)];

        int[] replay = tokensB[..newTokens];
        int capacity = prompt.Length + replay.Length;
        using var cacheA = new KvCache(candidate, config, 1, capacity);
        using var cacheB = new KvCache(reference, config, 1, capacity);
        using var forwardA = new CachedForward(a, prompt.Length, 1);
        using var forwardB = new CachedForward(b, prompt.Length, 1);
        float[] logitsA = new float[config.VocabSize], logitsB = new float[config.VocabSize];
        double worst = 0;
        int worstStep = 0, steps = 0;
        for (int step = 0; step <= replay.Length - 1; step++)
        {
            ReadOnlySpan<int> feed = step == 0 ? prompt : replay.AsSpan(step - 1, 1);
            forwardA.Run(cacheA, feed, logitsA);
            forwardB.Run(cacheB, feed, logitsB);
            double error = KernelParity.RelativeError(logitsA, logitsB);
            if (double.IsNaN(error) || error > worst)
            {
                worst = double.IsNaN(error) ? double.NaN : error;
                worstStep = step;
            }

            steps++;
            if (double.IsNaN(worst))
            {
                break;
            }
        }

        return new SamplingComparison(tokensA, tokensB, worst, worstStep, steps);
    }
}
