using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Model;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cli.Pipeline;

/// <summary>One generated image: the file, what the strict checker says of it, and its (tolerant) decode.</summary>
internal sealed record JpegSample(byte[] File, bool Valid, int CorruptPatches, int Patches, FinishReason Reason, PixelImage Image);

/// <summary>
/// A trained run loaded for generation: the model, its profile and vocabulary, and the shared token trie for
/// grammar-constrained sampling. Prompts are token bytes cut at patch positions (see <see cref="JpegTokenStreams"/>).
/// </summary>
internal sealed class JpegSamplingSession : IDisposable
{
    private readonly JpegTokenConstraint _tokenTable;
    private readonly BpeEncoder _encoder;

    public JpegSamplingSession(string runPath, string device, TextWriter log)
    {
        var run = new RunFolder(runPath);
        if (!run.HasModel)
        {
            throw new FileNotFoundException($"{runPath}: no config.json + model.safetensors (train a model with jpeglm train)");
        }

        (Profile, Vocabulary) = run.LoadCodec();
        Kernels = Backends.Open(device, log);
        Model = HfCheckpoint.Load(runPath, Kernels);
        if (Model.Config.VocabSize < Vocabulary.Size)
        {
            throw new FormatException($"{runPath}: the model's vocabulary ({Model.Config.VocabSize}) is smaller than vocab.json's ({Vocabulary.Size})");
        }

        _tokenTable = JpegGrammarConstraint.BuildTokenTable(Vocabulary);
        _encoder = new BpeEncoder(Vocabulary);
        Grammar = Profile.TokenGrammar();
    }

    public JpegProfile Profile { get; }

    public BpeVocabulary Vocabulary { get; }

    public IKernels Kernels { get; }

    public LlamaModel Model { get; }

    public JpegScanGrammar Grammar { get; }

    /// <summary>A generous cap on new tokens: 128 per patch (a token is at least one byte).</summary>
    public int DefaultMaxTokens => Math.Max(512, Grammar.IntervalCount * 128);

    /// <summary>
    /// Constrained samples that did not end with EOS. The constraint refuses every token after which the
    /// rest of the stream would not fit the cap, so this stays 0; eval reports it to show that it does.
    /// </summary>
    public int Unfinished { get; private set; }

    /// <summary>The profile's token bytes for an image (fitted to the profile and encoded canonically).</summary>
    public byte[] TokenBytesOf(PixelImage image)
        => Profile.ToTokenBytes(new JpegEncoder(ImageCorpus.EncoderOptions(Profile)).Encode(ImageCorpus.FitToProfile(image, Profile)));

    /// <summary>Decodes token bytes tolerantly (missing or corrupt patches grey) — for pictures of prompts and broken samples.</summary>
    public PixelImage Picture(ReadOnlySpan<byte> tokenBytes)
        => JpegDecoder.DecodeDetailed(JpegTokenStreams.ToFullFile(Profile, tokenBytes), new JpegDecoderOptions { Tolerant = true }).Image;

    /// <summary>Generates <paramref name="count"/> completions of <paramref name="promptBytes"/> (empty: unconditional).</summary>
    public IReadOnlyList<JpegSample> Complete(byte[] promptBytes, int count, SamplingOptions options, bool constrained)
    {
        int[] prompt = [BpeVocabulary.Bos, .. _encoder.Encode(promptBytes)];
        var sampler = new Sampler(Model);
        Func<ITokenConstraint>? rule = null;
        if (constrained)
        {
            rule = () => new JpegGrammarConstraint(_tokenTable, Grammar);
            var start = (JpegGrammarConstraint)rule();
            foreach (int t in prompt)
            {
                start.Accept(t);
            }

            // Below the shortest completion no sample could finish; say so instead of returning cut-off files.
            if (start.TokensToFinish > options.MaxNewTokens)
            {
                throw new UsageException($"--max-tokens {options.MaxNewTokens} is below the {start.TokensToFinish} tokens the shortest valid completion of this prompt takes");
            }
        }

        var results = sampler.Generate(prompt, options with { Samples = count, EosTokenId = BpeVocabulary.Eos }, rule).ToList();
        if (constrained)
        {
            Unfinished += results.Count(r => r.Reason != FinishReason.EndOfSequence);
        }

        var samples = new List<JpegSample>(results.Count);
        foreach (SampleResult r in results)
        {
            int n = r.Tokens.Length;
            while (n > 0 && BpeVocabulary.IsSpecial(r.Tokens[n - 1]))
            {
                n--;
            }

            // Specials inside an unconstrained sample carry no bytes; Decode skips nothing, so drop them here.
            int[] body = [.. r.Tokens.AsSpan(0, n).ToArray().Where(t => !BpeVocabulary.IsSpecial(t) && t < Vocabulary.Size)];
            byte[] bytes = [.. promptBytes, .. Vocabulary.Decode(body)];
            byte[] file = JpegTokenStreams.ToFullFile(Profile, bytes);
            (bool valid, int corrupt, int patches) = JpegTokenStreams.Check(file);
            PixelImage image;
            try
            {
                image = JpegDecoder.DecodeDetailed(file, new JpegDecoderOptions { Tolerant = true }).Image;
            }
            catch (JpegFormatException)
            {
                image = new PixelImage(Profile.Width, Profile.Height, Profile.Subsampling == JpegProfile.Grey ? 1 : 3);
                image.Pixels.AsSpan().Fill(128);
            }

            samples.Add(new JpegSample(file, valid, corrupt, patches, r.Reason, image));
        }

        return samples;
    }

    public void Dispose()
    {
        Model.Dispose();
        Kernels.Dispose();
    }
}
