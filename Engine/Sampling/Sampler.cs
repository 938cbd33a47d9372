using JpegLm.Engine.Model;

namespace JpegLm.Engine.Sampling;

/// <summary>How generation is done.</summary>
public sealed record SamplingOptions
{
    /// <summary>Softmax temperature; 0 means greedy (argmax).</summary>
    public float Temperature { get; init; } = 1f;

    /// <summary>Keep only the k most likely tokens (0 = all).</summary>
    public int TopK { get; init; }

    /// <summary>Keep the smallest set of most likely tokens whose probability reaches p (1 = all).</summary>
    public float TopP { get; init; } = 1f;

    /// <summary>New tokens per sample at most.</summary>
    public int MaxNewTokens { get; init; } = 256;

    /// <summary>Independent samples drawn for the prompt (decoded together as a batch).</summary>
    public int Samples { get; init; } = 1;

    /// <summary>Seed of the sampling random stream.</summary>
    public ulong Seed { get; init; } = 1;

    /// <summary>Stop a sample after this token (included in its output); null uses the config's eos_token_id.</summary>
    public int? EosTokenId { get; init; }

    /// <summary>
    /// Bytes the samples decoded together may use for their KV caches and work buffers; <see cref="Sampler.Generate"/>
    /// splits a larger <see cref="Samples"/> into batches that fit (default 2 GiB). Each sample draws from its own
    /// random stream, so the outputs do not depend on how the samples are batched.
    /// </summary>
    public long MemoryBudgetBytes { get; init; } = 2L << 30;

    /// <summary>
    /// Best-of-n: draw this many candidates per requested sample and keep the one the model finds most likely
    /// (<see cref="SampleResult.LogProbability"/>; finished candidates before unfinished ones). 1 = plain sampling.
    /// </summary>
    public int BestOf { get; init; } = 1;
}

/// <summary>Why a sample stopped.</summary>
public enum FinishReason
{
    /// <summary>It produced the end-of-sequence token.</summary>
    EndOfSequence,

    /// <summary>It reached <see cref="SamplingOptions.MaxNewTokens"/>.</summary>
    Length,

    /// <summary>The constraint allowed no token.</summary>
    Constraint,
}

/// <summary>One generated continuation.</summary>
/// <param name="Tokens">The new tokens (without the prompt).</param>
/// <param name="Reason">Why generation stopped.</param>
/// <param name="LogProbability">
/// The model's own log-likelihood of <paramref name="Tokens"/> (natural log, from the raw logits at temperature 1,
/// before any mask or truncation): what best-of-n ranks samples by.
/// </param>
public sealed record SampleResult(int[] Tokens, FinishReason Reason, double LogProbability = 0);

/// <summary>
/// Autoregressive generation with a <see cref="KvCache"/>: the prompt is run once per sample as one batch,
/// then every step feeds one token per unfinished sample. Token choice is temperature / top-k / top-p
/// sampling from a seeded <see cref="SplitMixRandom"/>, restricted by an optional <see cref="ITokenConstraint"/>.
/// </summary>
public sealed class Sampler(LlamaModel model)
{
    private readonly LlamaModel _model = model ?? throw new ArgumentNullException(nameof(model));

    /// <summary>Where this sampler's time went (forward passes, choosing, advancing), summed over its calls.</summary>
    public SamplerTimes Times { get; } = new();

    /// <summary>
    /// Generates <see cref="SamplingOptions.Samples"/> continuations of <paramref name="prompt"/> (non-empty token ids).
    /// A model with structure fields needs <paramref name="annotators"/> (one fresh annotator per sample).
    /// </summary>
    public IReadOnlyList<SampleResult> Generate(ReadOnlySpan<int> prompt, SamplingOptions options, Func<ITokenConstraint>? constraints = null,
        Func<ITokenAnnotator>? annotators = null, Action<int>? samplesDone = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        int capacity = prompt.Length + Math.Max(1, options.MaxNewTokens);
        int perBatch = (int)Math.Clamp(options.MemoryBudgetBytes / Math.Max(1, BytesPerSample(_model.Config, prompt.Length, capacity)), 1, Math.Max(1, options.Samples));
        var results = new List<SampleResult>(Math.Max(0, options.Samples));
        if (options.Samples <= 0 || options.BestOf <= 0)
        {
            throw new ArgumentException("sampling needs at least one sample and one candidate per sample");
        }

        if (options.BestOf > 1)
        {
            // Candidate j of sample i is draw i·n + j of one plain run, so the choice is as reproducible as the draws.
            int n = options.BestOf;
            IReadOnlyList<SampleResult> candidates = Generate(prompt, options with { Samples = options.Samples * n, BestOf = 1 }, constraints, annotators,
                samplesDone == null ? null : done => samplesDone(done / n));
            return [.. candidates.Chunk(n).Select(group => group
                .OrderByDescending(c => c.Reason == FinishReason.EndOfSequence)
                .ThenByDescending(c => c.LogProbability)
                .First())];
        }

        for (int first = 0; first < options.Samples; first += perBatch)
        {
            results.AddRange(GenerateBatch(prompt, options, first, Math.Min(perBatch, options.Samples - first), constraints, annotators));
            samplesDone?.Invoke(results.Count);
        }

        return results;
    }

    /// <summary>
    /// Memory one sample needs while it is decoded: its KV cache for <paramref name="capacity"/> positions and its share
    /// of the inference work buffers (the prompt pass dominates those), in bytes.
    /// </summary>
    public static long BytesPerSample(LlamaConfig config, int promptLength, int capacity)
    {
        ArgumentNullException.ThrowIfNull(config);
        long cache = 2L * config.NumHiddenLayers * capacity * config.KvWidth;
        long rowWidth = 1 + (3L * config.HiddenSize) + 2 + (2L * config.QueryWidth) + (2L * config.KvWidth) + config.NumAttentionHeads + (3L * config.IntermediateSize);
        long work = ((long)promptLength * rowWidth) + (2L * config.HiddenSize) + 1 + (2L * config.VocabSize);
        return 4 * (cache + work + (config.StructureFieldCount * (long)promptLength));
    }

    private List<SampleResult> GenerateBatch(ReadOnlySpan<int> prompt, SamplingOptions options, int firstSample, int b,
        Func<ITokenConstraint>? constraints, Func<ITokenAnnotator>? annotators)
    {
        LlamaConfig cfg = _model.Config;
        int vocab = cfg.VocabSize;
        if (prompt.IsEmpty || b <= 0 || options.MaxNewTokens < 0 || options.TopK < 0 || options.TopP <= 0 || options.Temperature < 0)
        {
            throw new ArgumentException("sampling needs a non-empty prompt, at least one sample and sane options");
        }

        foreach (int t in prompt)
        {
            if ((uint)t >= vocab)
            {
                throw new ArgumentOutOfRangeException(nameof(prompt), $"prompt token {t} is outside the vocabulary of {vocab}");
            }
        }

        int? eos = options.EosTokenId ?? cfg.EosTokenId;
        int capacity = prompt.Length + Math.Max(1, options.MaxNewTokens);
        using var cache = new KvCache(_model.Kernels, cfg, b, capacity);
        using var forward = new CachedForward(_model, b * prompt.Length, b);
        // One random stream per sample (sample 0 keeps the plain seed), so batching never changes what is drawn.
        SplitMixRandom[] rngs = [.. Enumerable.Range(firstSample, b).Select(i => new SplitMixRandom(options.Seed + (0x9E3779B97F4A7C15UL * (ulong)i)))];
        ITokenConstraint?[] rules = [.. Enumerable.Range(0, b).Select(_ => constraints?.Invoke())];
        foreach (ITokenConstraint? rule in rules)
        {
            foreach (int t in prompt)
            {
                rule?.Accept(t);
            }
        }

        int[] batchTokens = new int[b * prompt.Length];
        for (int s = 0; s < b; s++)
        {
            prompt.CopyTo(batchTokens.AsSpan(s * prompt.Length));
        }

        int fields = cfg.StructureFieldCount;
        if (fields > 0 && annotators == null)
        {
            throw new ArgumentException("this model embeds structure ids: pass annotators");
        }

        ITokenAnnotator[] notes = fields > 0 ? [.. Enumerable.Range(0, b).Select(_ => annotators!())] : [];
        int[] promptIds = new int[fields * batchTokens.Length], stepIds = new int[fields * b], one = new int[fields];
        for (int s = 0; s < notes.Length; s++)
        {
            for (int i = 0; i < prompt.Length; i++)
            {
                notes[s].Annotate(prompt[i], one);
                for (int f = 0; f < fields; f++)
                {
                    promptIds[(f * batchTokens.Length) + (s * prompt.Length) + i] = one[f];
                }
            }
        }

        float[] logits = new float[b * vocab];
        var picker = new TokenPicker(vocab);
        var outputs = Enumerable.Range(0, b).Select(_ => new List<int>()).ToArray();
        double[] logProbs = new double[b];
        var reasons = new FinishReason?[b];
        int[] next = new int[b];
        // active[r] is the sample in cache row r; finished samples leave the batch (the cache is compacted), so a
        // batch costs what its unfinished samples need, not what its longest sample needs times the batch.
        int[] active = [.. Enumerable.Range(0, b)];
        int rows = b;
        int[] keepRows = new int[b], ids = new int[fields * b]; // per-step scratch, allocated once

        // A step's masks depend only on the tokens accepted before it, so they are computed on another thread while the
        // forward pass that gives the step its logits runs: the grammar's cost hides behind the model's (on a GPU
        // entirely). Each row's mask is filled exactly as before, so what is drawn does not change.
        bool[] masks = rules.Any(x => x != null) ? new bool[b * vocab] : [];
        void FillMasks(int rowCount, int tokensLeft)
        {
            long start = System.Diagnostics.Stopwatch.GetTimestamp();
            for (int r = 0; r < rowCount; r++)
            {
                if (rules[active[r]] is { } rule)
                {
                    Span<bool> mask = masks.AsSpan(r * vocab, vocab);
                    mask.Fill(true);
                    rule.FillAllowed(mask, tokensLeft);
                }
            }

            Times.AddMasks(start);
        }

        int first = rows, cap = options.MaxNewTokens;
        Task? masksReady = masks.Length == 0 || cap <= 0 ? null : Task.Run(() => FillMasks(first, cap));
        long t0 = System.Diagnostics.Stopwatch.GetTimestamp();
        forward.Run(cache, batchTokens, logits, promptIds);
        Times.AddForward(t0);
        long decoding = System.Diagnostics.Stopwatch.GetTimestamp();
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            masksReady?.GetAwaiter().GetResult();
            Times.AddMaskWait(t0);
            for (int r = 0; r < rows; r++)
            {
                int s = active[r];
                t0 = System.Diagnostics.Stopwatch.GetTimestamp();
                int token = picker.Pick(logits.AsSpan(r * vocab, vocab), options, rules[s] == null ? default : masks.AsSpan(r * vocab, vocab), rngs[s]);
                Times.AddChoose(t0);
                if (token < 0)
                {
                    reasons[s] = FinishReason.Constraint;
                    continue;
                }

                t0 = System.Diagnostics.Stopwatch.GetTimestamp();

                outputs[s].Add(token);
                logProbs[s] += LogSoftmaxAt(logits.AsSpan(r * vocab, vocab), token);
                rules[s]?.Accept(token);
                next[r] = token;
                if (fields > 0)
                {
                    notes[s].Annotate(token, one);
                    for (int f = 0; f < fields; f++)
                    {
                        stepIds[(f * b) + r] = one[f];
                    }
                }

                Times.AddAdvance(t0);
                if (token == eos)
                {
                    reasons[s] = FinishReason.EndOfSequence;
                }
            }

            if (step + 1 == options.MaxNewTokens)
            {
                break;
            }

            int kept = 0;
            for (int r = 0; r < rows; r++)
            {
                if (reasons[active[r]] == null)
                {
                    keepRows[kept] = r;
                    active[kept] = active[r];
                    next[kept] = next[r];
                    for (int f = 0; f < fields; f++)
                    {
                        stepIds[(f * b) + kept] = stepIds[(f * b) + r];
                    }

                    kept++;
                }
            }

            if (kept == 0)
            {
                break;
            }

            if (kept < rows)
            {
                cache.Keep(keepRows.AsSpan(0, kept));
                rows = kept;
            }

            for (int f = 0; f < fields; f++)
            {
                Array.Copy(stepIds, f * b, ids, f * rows, rows);
            }

            int left = options.MaxNewTokens - step - 1, ready = rows;
            masksReady = masks.Length == 0 ? null : Task.Run(() => FillMasks(ready, left));
            t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            forward.Run(cache, next.AsSpan(0, rows), logits.AsSpan(0, rows * vocab), ids.AsSpan(0, fields * rows));
            Times.AddForward(t0);
        }

        masksReady?.GetAwaiter().GetResult(); // a batch that ended early may leave one mask pass running
        Times.AddDecoding(decoding);

        return [.. outputs.Select((o, s) => new SampleResult([.. o], reasons[s] ?? FinishReason.Length, logProbs[s]))];
    }

    private static double LogSoftmaxAt(ReadOnlySpan<float> logits, int token)
    {
        float max = float.NegativeInfinity;
        foreach (float x in logits)
        {
            max = MathF.Max(max, x);
        }

        double sum = 0;
        foreach (float x in logits)
        {
            sum += Math.Exp(x - max);
        }

        return logits[token] - max - Math.Log(sum);
    }
}
