using JpegLm.Codec.Avc;
using JpegLm.Codec.Tokens;
using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Model;
using JpegLm.Engine.Sampling;
using JpegLm.Engine.Tests.Model;
using JpegLm.TestSupport;
using static JpegLm.Engine.Tests.GradientCheck;

namespace JpegLm.Engine.Tests.Sampling;

public class BacktrackingSamplerTests
{
    private static LlamaModel NewModel()
    {
        var model = new LlamaModel(LlamaModelTests.Tiny(kvHeads: 1) with { InitializerRange = 0.5f, MaxPositionEmbeddings = 64 }, new CpuKernels());
        model.InitializeWeights(21);
        return model;
    }

    [Fact]
    public void A_truncated_cache_continues_as_if_the_dropped_tokens_never_came()
    {
        using LlamaModel model = NewModel();
        using var cache = new KvCache(model.Kernels, model.Config, 1, 16);
        using var forward = new CachedForward(model, 4, 1);
        float[] logits = new float[model.Config.VocabSize];
        forward.Run(cache, [3, 1, 4], logits);
        forward.Run(cache, [7], logits);
        forward.Run(cache, [8], logits);
        cache.Truncate(3);
        forward.Run(cache, [5], logits);

        using var fresh = new KvCache(model.Kernels, model.Config, 1, 16);
        float[] expected = new float[model.Config.VocabSize];
        forward.Run(fresh, [3, 1, 4], expected);
        forward.Run(fresh, [5], expected);
        AssertClose(D(expected), logits, 1e-5);
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Truncate(5));
    }

    // Accepts even tokens only; the first time 4 tokens are out it calls a dead end and backs up to 2;
    // EOS (token 1 in these tests) only after 6 tokens.
    private sealed class EvenRule : IBacktrackingConstraint
    {
        public List<int> Tokens { get; } = [];

        public int Backtracks { get; private set; }

        public TokenVerdict Propose(int token)
        {
            if (Tokens.Count == 4 && Backtracks == 0)
            {
                return TokenVerdict.DeadEnd;
            }

            if (token == 1)
            {
                return Tokens.Count >= 6 ? Accept(token) : TokenVerdict.Rejected;
            }

            return token % 2 == 0 ? Accept(token) : TokenVerdict.Rejected;
        }

        public int Backtrack()
        {
            Backtracks++;
            Tokens.RemoveRange(2, Tokens.Count - 2);
            return 2;
        }

        private TokenVerdict Accept(int token)
        {
            Tokens.Add(token);
            return TokenVerdict.Accepted;
        }
    }

    [Fact]
    public void Output_follows_the_rule_through_rejections_and_a_backtrack()
    {
        using LlamaModel model = NewModel();
        var sampler = new BacktrackingSampler(model);
        var rule = new EvenRule();
        SampleResult r = sampler.Generate([2, 4], new SamplingOptions { MaxNewTokens = 40, Seed = 5, EosTokenId = 1 }, rule);
        Assert.Equal(FinishReason.EndOfSequence, r.Reason);
        Assert.Equal(rule.Tokens, r.Tokens);
        Assert.Equal(1, r.Tokens[^1]);
        Assert.True(r.Tokens.Length >= 7);
        Assert.All(r.Tokens[..^1], t => Assert.Equal(0, t % 2));
        Assert.Equal(1, sampler.Backtracks);
        Assert.True(sampler.Rejections > 0);
    }

    [Fact]
    public void Avc_rule_accepts_a_real_stream_token_by_token_and_backs_up_to_a_broken_slice()
    {
        byte[] data = File.ReadAllBytes(TestPaths.Data("avc", "x264", "pan_kodim01.264"));
        int header = AvcProfile.ParameterSetsLength(data);
        var bytes = new BpeVocabulary([]);

        var rule = new AvcGrammarConstraint(bytes, data.AsSpan(0, header));
        for (int i = header; i < data.Length; i++)
        {
            Assert.Equal(TokenVerdict.Accepted, rule.Propose(data[i]));
        }

        Assert.Equal(TokenVerdict.Accepted, rule.Propose(BpeVocabulary.Eos));
        Assert.True(rule.Bytes.SequenceEqual(data));

        // Now the same stream with one slice's payload damaged: the byte that completes it (the next start
        // code's 01) is refused, and backing up returns to the start of that slice.
        int damagedUnit = IndexOf(data, header + 5000, [0, 0, 1]);
        int nextUnit = IndexOf(data, damagedUnit + 3, [0, 0, 1]);
        byte[] broken = [.. data];
        for (int i = damagedUnit + 5; i < nextUnit - 1; i++)
        {
            broken[i] = 0xFF;
        }

        rule = new AvcGrammarConstraint(bytes, broken.AsSpan(0, header)) { TokenBacktracksPerSlice = 0 };
        TokenVerdict verdict = TokenVerdict.Accepted;
        int at = header;
        for (; at <= nextUnit + 2 && verdict == TokenVerdict.Accepted; at++)
        {
            verdict = rule.Propose(broken[at]);
        }

        Assert.NotEqual(TokenVerdict.Accepted, verdict);
        Assert.InRange(at, damagedUnit + 6, nextUnit + 3); // refused inside the damaged slice, or at the byte that ends it
        string before = $"at {at}, units {damagedUnit}..{nextUnit}, verdict {verdict}, stream {rule.Bytes.Length}";
        int keep = rule.Backtrack();
        Assert.True(header + keep >= damagedUnit - 1 && header + keep <= damagedUnit, $"backed up to {header + keep}; {before}");
        Assert.Equal(header + keep, rule.Bytes.Length);
        for (int i = header + keep; i < data.Length; i++)
        {
            Assert.Equal(TokenVerdict.Accepted, rule.Propose(data[i]));
        }

        Assert.Equal(TokenVerdict.Accepted, rule.Propose(BpeVocabulary.Eos));
        Assert.Throws<AvcFormatException>(() => new AvcGrammarConstraint(bytes, [0, 0, 0, 1, 0xE7, 1, 2, 0, 0, 1]));
    }

    [Fact]
    public void Avc_rule_accepts_a_small_profile_stream_token_by_token()
    {
        AvcProfile profile = AvcProfile.Create("t", 32, 32, fps: 3, frames: 4, qp: 30, refs: 1, sliceMaxMbs: 1);
        byte[] tokens = profile.ToTokenBytes(AvcTestClips.Encode(profile, 4, (f, frame) =>
        {
            for (int i = 0; i < frame.Y.Length; i++)
            {
                frame.Y[i] = (byte)((i * 7) + (f * 13) + ((i / 32) * 5));
            }

            frame.U.AsSpan().Fill((byte)(100 + (f * 9)));
            frame.V.AsSpan().Fill(140);
        }));
        var rule = new AvcGrammarConstraint(new BpeVocabulary([]), profile.FromTokenBytes([]), new AvcValidatorOptions { MaxPictures = 4, MinPictures = 4 });
        for (int i = 0; i < tokens.Length; i++)
        {
            Assert.True(rule.Propose(tokens[i]) == TokenVerdict.Accepted, $"byte {i} of {tokens.Length} refused: {rule.LastRefusal}");
        }

        Assert.Equal(TokenVerdict.Accepted, rule.Propose(BpeVocabulary.Eos));
    }

    [Fact]
    public void Avc_rule_accepts_real_streams_in_bpe_tokens()
    {
        AvcProfile profile = AvcProfile.Create("t", 32, 32, fps: 3, frames: 4, qp: 30, refs: 1, sliceMaxMbs: 1);
        var streams = new List<byte[]>();
        for (int clip = 0; clip < 12; clip++)
        {
            int c = clip;
            streams.Add(profile.ToTokenBytes(AvcTestClips.Encode(profile, 4, (f, frame) =>
            {
                for (int i = 0; i < frame.Y.Length; i++)
                {
                    frame.Y[i] = (byte)((i * (c + 3)) + (f * 13) + ((i / 32) * c));
                }

                frame.U.AsSpan().Fill((byte)(100 + (f * 9) + c));
                frame.V.AsSpan().Fill((byte)(140 - c));
            })));
        }

        BpeVocabulary vocabulary = BpeTrainer.Train(streams, 320).Vocabulary;
        var bpe = new BpeEncoder(vocabulary);
        foreach (byte[] tokenBytes in streams)
        {
            var rule = new AvcGrammarConstraint(vocabulary, profile.FromTokenBytes([]), new AvcValidatorOptions { MaxPictures = 4 });
            int[] tokens = bpe.Encode(tokenBytes);
            for (int i = 0; i < tokens.Length; i++)
            {
                Assert.True(rule.Propose(tokens[i]) == TokenVerdict.Accepted,
                    $"token {i} of {tokens.Length} ({Convert.ToHexString(vocabulary.TokenBytes(tokens[i]))}) refused: {rule.LastRefusal}");
            }

            Assert.Equal(TokenVerdict.Accepted, rule.Propose(BpeVocabulary.Eos));
        }
    }

    private static int IndexOf(byte[] d, int from, byte[] pattern) => from + d.AsSpan(from).IndexOf(pattern);
}
