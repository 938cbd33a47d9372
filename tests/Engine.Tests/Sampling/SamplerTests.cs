using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Model;
using JpegLm.Engine.Sampling;
using JpegLm.Engine.Tests.Model;
using static JpegLm.Engine.Tests.GradientCheck;

namespace JpegLm.Engine.Tests.Sampling;

public class SamplerTests
{
    private static LlamaModel NewModel()
    {
        var model = new LlamaModel(LlamaModelTests.Tiny(kvHeads: 1) with { InitializerRange = 0.5f, MaxPositionEmbeddings = 64 }, new CpuKernels());
        model.InitializeWeights(21);
        return model;
    }

    private static float[] FullForwardLastLogits(LlamaModel model, int[] tokens)
    {
        model.Forward(tokens, default, 1, tokens.Length);
        float[] all = Get(model.Kernels, model.Logits);
        return all[((tokens.Length - 1) * model.Config.VocabSize)..];
    }

    [Fact]
    public void Cached_decoding_gives_the_logits_of_a_full_forward_at_every_position()
    {
        using LlamaModel model = NewModel();
        int[] tokens = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3];
        using var cache = new KvCache(model.Kernels, model.Config, 1, 16);
        using var forward = new CachedForward(model, 4, 1);
        float[] logits = new float[model.Config.VocabSize];
        forward.Run(cache, tokens.AsSpan(0, 4), logits); // a 4-token prefill, then one token at a time
        AssertClose(D(FullForwardLastLogits(model, tokens[..4])), logits, 1e-4);
        for (int t = 4; t < tokens.Length; t++)
        {
            forward.Run(cache, tokens.AsSpan(t, 1), logits);
            AssertClose(D(FullForwardLastLogits(model, tokens[..(t + 1)])), logits, 1e-4, $"position {t}");
        }
    }

    [Fact]
    public void Greedy_sampling_follows_the_argmax_of_full_forwards()
    {
        using LlamaModel model = NewModel();
        int[] prompt = [1, 2, 3];
        SampleResult r = new Sampler(model).Generate(prompt, new SamplingOptions { Temperature = 0, MaxNewTokens = 6 })[0];
        Assert.Equal(FinishReason.Length, r.Reason);
        var sequence = prompt.ToList();
        foreach (int token in r.Tokens)
        {
            float[] logits = FullForwardLastLogits(model, [.. sequence]);
            Assert.Equal(Array.IndexOf(logits, logits.Max()), token);
            sequence.Add(token);
        }

        // top-k = 1 and a tiny top-p are greedy too.
        Assert.Equal(r.Tokens, new Sampler(model).Generate(prompt, new SamplingOptions { TopK = 1, MaxNewTokens = 6, Seed = 9 })[0].Tokens);
        Assert.Equal(r.Tokens, new Sampler(model).Generate(prompt, new SamplingOptions { TopP = 1e-6f, MaxNewTokens = 6, Seed = 8 })[0].Tokens);
    }

    [Fact]
    public void Sampling_is_reproducible_for_a_seed_and_samples_differ()
    {
        using LlamaModel model = NewModel();
        var options = new SamplingOptions { Temperature = 1.5f, MaxNewTokens = 12, Samples = 3, Seed = 4 };
        var a = new Sampler(model).Generate([5], options);
        var b = new Sampler(model).Generate([5], options);
        Assert.Equal(3, a.Count);
        Assert.Equal(a.Select(s => s.Tokens), b.Select(s => s.Tokens));
        Assert.NotEqual(a[0].Tokens, a[1].Tokens);
        Assert.NotEqual(a[0].Tokens, new Sampler(model).Generate([5], options with { Seed = 5 })[0].Tokens);
    }

    [Fact]
    public void A_large_count_is_drawn_in_batches_that_fit_the_memory_budget_and_batching_changes_nothing()
    {
        using LlamaModel model = NewModel();
        var options = new SamplingOptions { Temperature = 1.2f, MaxNewTokens = 10, Samples = 10, Seed = 3 };
        long perSample = Sampler.BytesPerSample(model.Config, 1, 11);
        var done = new List<int>();
        var batched = new Sampler(model).Generate([5], options with { MemoryBudgetBytes = 3 * perSample }, samplesDone: done.Add);
        Assert.Equal([3, 6, 9, 10], done);
        var whole = new Sampler(model).Generate([5], options);
        Assert.Equal(whole.Select(s => s.Tokens), batched.Select(s => s.Tokens));
        Assert.Equal(10, batched.Select(s => string.Join(',', s.Tokens)).Distinct().Count());
    }

    [Fact]
    public void Best_of_n_keeps_the_candidate_the_model_finds_most_likely()
    {
        using LlamaModel model = NewModel();
        var options = new SamplingOptions { Temperature = 1.5f, MaxNewTokens = 6, Samples = 2, Seed = 11 };
        var plain = new Sampler(model).Generate([5], options with { Samples = 8 });
        var best = new Sampler(model).Generate([5], options with { BestOf = 4 });
        Assert.Equal(2, best.Count);
        Assert.Equal(plain.Take(4).MaxBy(c => c.LogProbability)!.Tokens, best[0].Tokens);
        Assert.Equal(plain.Skip(4).MaxBy(c => c.LogProbability)!.Tokens, best[1].Tokens);

        // The recorded likelihood is the model's own: scoring the tokens teacher-forced gives the same sum.
        SampleResult one = plain[0];
        ScoreResult score = Scorer.Score(model, [5, .. one.Tokens]);
        Assert.Equal(score.LogProbs.Sum(x => (double)x), one.LogProbability, 3);
    }

    [Fact]
    public void Samples_that_finish_early_leave_the_batch_without_changing_the_others()
    {
        using LlamaModel model = NewModel();
        var options = new SamplingOptions { Temperature = 1.5f, MaxNewTokens = 12, Samples = 6, Seed = 4 };
        var together = new Sampler(model).Generate([5], options, () => new StopAfterMultipleOfFive());
        Assert.Contains(together, r => r.Reason == FinishReason.Constraint && r.Tokens.Length < 12); // some stopped early...
        Assert.Contains(together, r => r.Tokens.Length > together.Min(x => x.Tokens.Length));     // ...while others went on
        for (int i = 0; i < together.Count; i++)
        {
            // Sample i draws from the stream seeded Seed + golden·i, so alone it is the same draw.
            var alone = new Sampler(model).Generate([5], options with { Samples = 1, Seed = 4 + (0x9E3779B97F4A7C15UL * (ulong)i) }, () => new StopAfterMultipleOfFive());
            Assert.Equal(alone[0].Tokens, together[i].Tokens);
            Assert.Equal(alone[0].Reason, together[i].Reason);
        }
    }

    /// <summary>Allows every token until one divisible by five was drawn, then none.</summary>
    private sealed class StopAfterMultipleOfFive : ITokenConstraint
    {
        private bool _stopped;

        public void FillAllowed(Span<bool> allowed, int tokensLeft)
        {
            if (_stopped)
            {
                allowed.Clear();
            }
        }

        public void Accept(int token) => _stopped |= token % 5 == 0 && token != 5;
    }

    private sealed class EvenTokensOnly : ITokenConstraint
    {
        public List<int> Seen { get; } = [];

        public void FillAllowed(Span<bool> allowed, int tokensLeft)
        {
            for (int i = 1; i < allowed.Length; i += 2)
            {
                allowed[i] = false;
            }

            if (Seen.Count >= 6)
            {
                allowed.Clear(); // nothing allowed after 6 tokens: the sample must stop
            }
        }

        public void Accept(int token) => Seen.Add(token);
    }

    [Fact]
    public void The_constraint_restricts_every_choice_sees_every_token_and_can_stop_a_sample()
    {
        using LlamaModel model = NewModel();
        var rules = new List<EvenTokensOnly>();
        var results = new Sampler(model).Generate([1, 3], new SamplingOptions { Temperature = 2f, MaxNewTokens = 20, Samples = 2 }, () =>
        {
            var rule = new EvenTokensOnly();
            rules.Add(rule);
            return rule;
        });
        for (int s = 0; s < 2; s++)
        {
            Assert.All(results[s].Tokens, t => Assert.Equal(0, t % 2));
            Assert.Equal(FinishReason.Constraint, results[s].Reason);
            Assert.Equal([1, 3, .. results[s].Tokens], rules[s].Seen);
            Assert.Equal(4, results[s].Tokens.Length);
        }
    }

    [Fact]
    public void Generation_stops_at_the_end_of_sequence_token()
    {
        using LlamaModel model = NewModel();
        SampleResult greedy = new Sampler(model).Generate([2, 7], new SamplingOptions { Temperature = 0, MaxNewTokens = 5 })[0];
        int eos = greedy.Tokens[2];
        int firstEos = Array.IndexOf(greedy.Tokens, eos);
        SampleResult stopped = new Sampler(model).Generate([2, 7], new SamplingOptions { Temperature = 0, MaxNewTokens = 5, EosTokenId = eos })[0];
        Assert.Equal(FinishReason.EndOfSequence, stopped.Reason);
        Assert.Equal(greedy.Tokens[..(firstEos + 1)], stopped.Tokens);
    }
}
