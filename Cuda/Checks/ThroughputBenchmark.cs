using System.Diagnostics;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Model;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cuda.Checks;

/// <summary>Training throughput of one configuration.</summary>
/// <param name="Label">e.g. <c>125M T=4096</c>.</param>
/// <param name="Parameters">All weights.</param>
/// <param name="Tokens">Tokens per step (batch × length).</param>
/// <param name="MedianStepSeconds">Median wall time of the timed steps.</param>
/// <param name="TokensPerSecond">Tokens / median step time.</param>
/// <param name="FlopsPerToken">Training FLOPs per token (<see cref="TrainingFlops.PerToken"/>: 6·N + 6·L·d·T, N the matrix weights).</param>
/// <param name="Mfu">Achieved FLOP/s over the backend's <see cref="IKernels.PeakFlops"/>; null when the backend states none (the emulated device).</param>
/// <param name="Loss">The loss of the last step (a sanity value).</param>
/// <param name="AllocationsInTimedSteps">Device allocations made by the timed steps (0 expected), −1 when not counted.</param>
public sealed record TrainingThroughput(string Label, long Parameters, int Tokens, double MedianStepSeconds, double TokensPerSecond, double FlopsPerToken, double? Mfu, float Loss,
    int AllocationsInTimedSteps);

/// <summary>Sampling throughput with a KV cache.</summary>
/// <param name="Label">e.g. <c>125M batch 1</c>.</param>
/// <param name="Batch">Sequences decoded together.</param>
/// <param name="Tokens">Positions decoded per sequence.</param>
/// <param name="TokensPerSecond">Batch × tokens / seconds (one logits download per step included).</param>
public sealed record DecodeThroughput(string Label, int Batch, int Tokens, double TokensPerSecond);

/// <summary>Training-step and KV-cache decoding throughput on any <see cref="IKernels"/> backend.</summary>
public static class ThroughputBenchmark
{
    /// <summary>A Llama of about 125M weights (GPT-2-small shape, SwiGLU, 32k vocabulary).</summary>
    public static LlamaConfig Llama125M(int maxLength) => new()
    {
        HiddenSize = 768, IntermediateSize = 2048, NumHiddenLayers = 12, NumAttentionHeads = 12, VocabSize = 32000,
        MaxPositionEmbeddings = maxLength, TieWordEmbeddings = false,
    };

    /// <summary>A Llama of about 350M weights.</summary>
    public static LlamaConfig Llama350M(int maxLength) => new()
    {
        HiddenSize = 1024, IntermediateSize = 2816, NumHiddenLayers = 24, NumAttentionHeads = 16, VocabSize = 32000,
        MaxPositionEmbeddings = maxLength, TieWordEmbeddings = false,
    };

    /// <summary>Times <paramref name="steps"/> training steps (forward, backward, AdamW) after one warm-up step.</summary>
    public static TrainingThroughput Train(IKernels kernels, LlamaConfig config, string label, int batch, int length, int steps, Action<string>? log = null,
        Func<int>? allocationCount = null)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(config);
        using var trainer = new TrainingCheck.Trainer(kernels, config, 5);
        (int[] tokens, int[] targets) = TrainingCheck.Batch(config.VocabSize, batch, length, new Random(3));
        float loss = trainer.ForwardBackward(tokens, targets, batch, length);
        trainer.Update(1);
        kernels.Synchronize();
        log?.Invoke($"{label}: warm-up loss {loss:F4}");
        int allocationsBefore = allocationCount?.Invoke() ?? 0;
        double[] seconds = new double[steps];
        for (int s = 0; s < steps; s++)
        {
            long start = Stopwatch.GetTimestamp();
            loss = trainer.ForwardBackward(tokens, targets, batch, length);
            trainer.Update(s + 2);
            kernels.Synchronize();
            seconds[s] = Stopwatch.GetElapsedTime(start).TotalSeconds;
            log?.Invoke($"{label}: step {s + 1} {seconds[s] * 1000:F1} ms loss {loss:F4}");
        }

        Array.Sort(seconds);
        double median = seconds[steps / 2];
        int tokensPerStep = batch * length;
        double flops = TrainingFlops.PerToken(config, length);
        double tps = tokensPerStep / median;
        int allocations = allocationCount == null ? -1 : allocationCount() - allocationsBefore;
        return new TrainingThroughput(label, trainer.Model.Layout.Length, tokensPerStep, median, tps, flops, TrainingFlops.Utilization(flops * tps, kernels.PeakFlops),
            loss, allocations);
    }

    /// <summary>
    /// Sampling with the engine's own <see cref="Sampler"/> (KV cache, top-k 50, top-p 0.95, temperature 1, no
    /// EOS): <paramref name="samples"/> continuations of <paramref name="newTokens"/> tokens after a 16-token
    /// prompt, after one short warm-up generation. Tokens per second count generated tokens only.
    /// </summary>
    public static DecodeThroughput Sample(IKernels kernels, LlamaConfig config, string label, int samples, int newTokens)
    {
        ArgumentNullException.ThrowIfNull(config);
        using var model = new LlamaModel(config, kernels);
        model.InitializeWeights(13);
        var sampler = new Sampler(model);
        int[] prompt = [.. Enumerable.Range(1, 16)];
        var options = new SamplingOptions { TopK = 50, TopP = 0.95f, MaxNewTokens = newTokens, Samples = samples, Seed = 3, EosTokenId = -1 };
        _ = sampler.Generate(prompt, options with { MaxNewTokens = 4 });
        long start = Stopwatch.GetTimestamp();
        IReadOnlyList<SampleResult> results = sampler.Generate(prompt, options);
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        int generated = results.Sum(r => r.Tokens.Length);
        return new DecodeThroughput(label, samples, newTokens, generated / seconds);
    }

    /// <summary>
    /// Greedy decoding of <paramref name="tokens"/> positions per sequence with a KV cache, written against
    /// <see cref="IKernels"/> the way a sampler runs: per token and layer, RMSNorm, Q/K/V projections, rotary at
    /// the current position, <see cref="IKernels.Copy2D"/> of the new key and value into the cache, attention
    /// of one query over the cache, output projection, MLP; then the LM head and one logits download.
    /// </summary>
    public static DecodeThroughput Decode(IKernels kernels, LlamaConfig config, string label, int batch, int tokens)
    {
        ArgumentNullException.ThrowIfNull(kernels);
        ArgumentNullException.ThrowIfNull(config);
        using var model = new LlamaModel(config, kernels);
        model.InitializeWeights(9);
        int c = config.HiddenSize, f = config.IntermediateSize, qw = config.QueryWidth, kw = config.KvWidth, v = config.VocabSize;
        int layers = config.NumHiddenLayers, capacity = tokens;
        var buffers = new List<ITensorBuffer>();
        Tensor New(long n)
        {
            ITensorBuffer b = kernels.Allocate(n);
            buffers.Add(b);
            return Tensor.Of(b);
        }

        try
        {
            Tensor x = New((long)batch * c), norm = New((long)batch * c), rstd = New(batch), q = New((long)batch * qw), k = New((long)batch * kw),
                val = New((long)batch * kw), att = New((long)batch * qw), lse = New((long)batch * config.NumAttentionHeads), proj = New((long)batch * c),
                mid = New((long)batch * c), gate = New((long)batch * f), up = New((long)batch * f), hidden = New((long)batch * f), logits = New((long)batch * v);
            TokenTensor ids = New(batch).AsTokens();
            var keyCache = new Tensor[layers];
            var valueCache = new Tensor[layers];
            for (int l = 0; l < layers; l++)
            {
                keyCache[l] = New((long)batch * capacity * kw);
                valueCache[l] = New((long)batch * capacity * kw);
            }

            int[] next = new int[batch];
            float[] host = new float[batch * v];
            long start = 0;
            for (int pos = 0; pos < tokens; pos++)
            {
                if (pos == 1)
                {
                    start = Stopwatch.GetTimestamp(); // position 0 compiles and warms up
                }

                kernels.Upload(next, ids);
                kernels.EmbeddingForward(x, ids, model.Layout.Embedding(model.Weights), batch, c);
                var shape = new AttentionShape(batch, 1, pos + 1, capacity, config.NumAttentionHeads, config.KvHeads, config.HeadDim);
                for (int l = 0; l < layers; l++)
                {
                    BlockWeights w = model.Layout.Block(model.Weights, l);
                    kernels.RmsNormForward(norm, rstd, x, w.InputNorm, batch, c, config.RmsNormEps);
                    kernels.MatMulForward(q, norm, w.Query, batch, c, qw);
                    kernels.MatMulForward(k, norm, w.Key, batch, c, kw);
                    kernels.MatMulForward(val, norm, w.Value, batch, c, kw);
                    kernels.RotaryForward(q, batch, 1, config.NumAttentionHeads, config.HeadDim, pos, config.RopeTheta);
                    kernels.RotaryForward(k, batch, 1, config.KvHeads, config.HeadDim, pos, config.RopeTheta);
                    Tensor slotK = keyCache[l].Slice((long)pos * kw, keyCache[l].Length - (long)pos * kw);
                    Tensor slotV = valueCache[l].Slice((long)pos * kw, valueCache[l].Length - (long)pos * kw);
                    kernels.Copy2D(slotK, (long)capacity * kw, k, kw, batch, kw);
                    kernels.Copy2D(slotV, (long)capacity * kw, val, kw, batch, kw);
                    kernels.AttentionForward(att, lse, q, keyCache[l], valueCache[l], shape);
                    kernels.MatMulForward(proj, att, w.Output, batch, qw, c);
                    kernels.Add(mid, x, proj, (long)batch * c);
                    kernels.RmsNormForward(norm, rstd, mid, w.PostAttentionNorm, batch, c, config.RmsNormEps);
                    kernels.MatMulForward(gate, norm, w.Gate, batch, c, f);
                    kernels.MatMulForward(up, norm, w.Up, batch, c, f);
                    kernels.SwiGluForward(hidden, gate, up, (long)batch * f);
                    kernels.MatMulForward(proj, hidden, w.Down, batch, f, c);
                    kernels.Add(x, mid, proj, (long)batch * c);
                }

                kernels.RmsNormForward(norm, rstd, x, model.Layout.FinalNorm(model.Weights), batch, c, config.RmsNormEps);
                kernels.MatMulForward(logits, norm, model.Layout.LmHead(model.Weights), batch, c, v);
                kernels.Download(logits, host);
                for (int b = 0; b < batch; b++)
                {
                    int best = 0;
                    for (int i = 1; i < v; i++)
                    {
                        if (host[b * v + i] > host[b * v + best])
                        {
                            best = i;
                        }
                    }

                    next[b] = best;
                }
            }

            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            return new DecodeThroughput(label, batch, tokens, batch * (tokens - 1) / seconds);
        }
        finally
        {
            foreach (ITensorBuffer b in buffers)
            {
                b.Dispose();
            }
        }
    }
}
