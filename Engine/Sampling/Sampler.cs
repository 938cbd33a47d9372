using JpegLm.Engine.Model;

namespace JpegLm.Engine.Sampling;

/// <summary>
/// Decides which tokens may come next, e.g. a JPEG grammar checker. One instance per sample: the sampler
/// calls <see cref="Accept"/> for every prompt token in order, then before each new token asks
/// <see cref="FillAllowed"/> and afterwards reports the chosen token through <see cref="Accept"/>.
/// </summary>
public interface ITokenConstraint
{
    /// <summary>
    /// Sets <c>allowed[id]</c> for every token id that may come next (the span arrives all true).
    /// <paramref name="tokensLeft"/> is how many tokens the sample may still produce, this one and EOS
    /// included, so a rule that knows its shortest completion can refuse tokens after which it cannot end in time.
    /// </summary>
    void FillAllowed(Span<bool> allowed, int tokensLeft);

    /// <summary>Advances the constraint's state past <paramref name="token"/>.</summary>
    void Accept(int token);
}

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
public sealed record SampleResult(int[] Tokens, FinishReason Reason);

/// <summary>
/// Autoregressive generation with a <see cref="KvCache"/>: the prompt is run once per sample as one batch,
/// then every step feeds one token per unfinished sample. Token choice is temperature / top-k / top-p
/// sampling from a seeded <see cref="SplitMixRandom"/>, restricted by an optional <see cref="ITokenConstraint"/>.
/// </summary>
public sealed class Sampler(LlamaModel model)
{
    private readonly LlamaModel _model = model ?? throw new ArgumentNullException(nameof(model));

    /// <summary>Generates <see cref="SamplingOptions.Samples"/> continuations of <paramref name="prompt"/> (non-empty token ids).</summary>
    public IReadOnlyList<SampleResult> Generate(ReadOnlySpan<int> prompt, SamplingOptions options, Func<ITokenConstraint>? constraints = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        LlamaConfig cfg = _model.Config;
        int b = options.Samples, vocab = cfg.VocabSize;
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
        var rng = new SplitMixRandom(options.Seed);
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

        float[] logits = new float[b * vocab];
        var picker = new TokenPicker(vocab);
        var outputs = Enumerable.Range(0, b).Select(_ => new List<int>()).ToArray();
        var reasons = new FinishReason?[b];
        int[] next = new int[b];
        forward.Run(cache, batchTokens, logits);
        for (int step = 0; step < options.MaxNewTokens; step++)
        {
            for (int s = 0; s < b; s++)
            {
                if (reasons[s] != null)
                {
                    continue; // a finished sample keeps a slot in the batch but its choices are ignored
                }

                int token = picker.Pick(logits.AsSpan(s * vocab, vocab), options, rules[s], rng, options.MaxNewTokens - step);
                if (token < 0)
                {
                    reasons[s] = FinishReason.Constraint;
                    continue;
                }

                outputs[s].Add(token);
                rules[s]?.Accept(token);
                next[s] = token;
                if (token == eos)
                {
                    reasons[s] = FinishReason.EndOfSequence;
                }
            }

            if (reasons.All(r => r != null) || step + 1 == options.MaxNewTokens)
            {
                break;
            }

            forward.Run(cache, next, logits);
        }

        return [.. outputs.Select((o, s) => new SampleResult([.. o], reasons[s] ?? FinishReason.Length))];
    }
}
