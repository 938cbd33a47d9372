using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;
using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Model;
using JpegLm.Engine.Sampling;
using JpegLm.Engine.Tests.Model;

namespace JpegLm.Engine.Tests.Sampling;

/// <summary>Grammar-constrained sampling draws the same tokens whether its masks come from the cache or the trie walk.</summary>
public class ConstrainedSamplingTests
{
    [Fact]
    public void Constrained_samples_are_the_same_tokens_with_and_without_the_mask_cache_and_all_valid()
    {
        JpegProfile profile = JpegProfile.Standard("g", 16, 16, 25, JpegProfile.Grey, 1);
        var encoder = new JpegEncoder(ImageCorpus.EncoderOptions(profile));
        BpeVocabulary v = BpeTrainer.Train([.. Enumerable.Range(0, 8).Select(i => profile.ToTokenBytes(encoder.Encode(Painted(i))))], 300).Vocabulary;
        byte[][] bytes = [.. Enumerable.Range(0, v.Size).Select(i => BpeVocabulary.IsSpecial(i) ? [] : v.TokenBytes(i).ToArray())];
        using var model = new LlamaModel(LlamaModelTests.Tiny(kvHeads: 1) with { VocabSize = v.Size, InitializerRange = 0.5f, MaxPositionEmbeddings = 512 }, new CpuKernels());
        model.InitializeWeights(5);
        JpegScanGrammar grammar = profile.TokenGrammar();
        var options = new SamplingOptions { Samples = 12, MaxNewTokens = 300, Seed = 17, EosTokenId = BpeVocabulary.Eos, Temperature = 1.3f };
        IReadOnlyList<SampleResult> Draw(JpegTokenConstraint table, SamplingOptions o)
            => new Sampler(model).Generate([BpeVocabulary.Bos], o, () => new JpegGrammarConstraint(table, grammar));

        var cached = new JpegTokenConstraint(bytes, BpeVocabulary.Eos);
        var walked = new JpegTokenConstraint(bytes, BpeVocabulary.Eos, cacheMasks: false);
        // A generous cap, and a tight one at which the budget rule refuses tokens (cached masks are filtered by it).
        foreach (int cap in new[] { 300, (int)new JpegGrammarConstraint(walked, grammar).TokensToFinish + 4 })
        {
            IReadOnlyList<SampleResult> a = Draw(cached, options with { MaxNewTokens = cap }), b = Draw(walked, options with { MaxNewTokens = cap });
            for (int s = 0; s < a.Count; s++)
            {
                Assert.Equal(b[s].Tokens, a[s].Tokens);
                Assert.Equal(FinishReason.EndOfSequence, a[s].Reason);
                byte[] file = profile.FromTokenBytes(v.Decode([.. a[s].Tokens.Where(t => !BpeVocabulary.IsSpecial(t))]));
                Assert.True(JpegScanChecker.CheckFile(file, profile.HuffmanSpecs()).IsValid);
            }
        }

        Assert.True(cached.CacheCounts.Hits > 0);
    }

    private static PixelImage Painted(int seed)
    {
        var image = new PixelImage(16, 16, 1);
        var rng = new Random(seed);
        for (int i = 0; i < image.Pixels.Length; i++)
        {
            image.Pixels[i] = (byte)(((i % 16) * (seed + 3)) + ((i / 16) * 9) + rng.Next(60));
        }

        return image;
    }
}
