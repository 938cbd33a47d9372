using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Model;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cli.Pipeline;

/// <summary>One generated image: the file, what the strict checker says of it, and its (tolerant) decode.</summary>
internal sealed record JpegSample(byte[] File, bool Valid, int CorruptPatches, int Patches, FinishReason Reason, PixelImage Image) : IGeneratedSample
{
    int IGeneratedSample.CorruptUnits => CorruptPatches;

    int IGeneratedSample.Units => Patches;
}

/// <summary>
/// A trained run loaded for generation: the model, its profile and vocabulary, and the shared token trie for
/// grammar-constrained sampling. Prompts are token bytes cut at patch positions (see <see cref="JpegTokenStreams"/>).
/// </summary>
internal sealed class JpegSamplingSession : IImageGenerator
{
    private readonly JpegTokenConstraint _tokenTable;
    private readonly BpeEncoder _encoder;
    private readonly byte[][] _tokenBytes;

    private readonly LoadedRun<JpegProfile> _run;

    public JpegSamplingSession(string runPath, string device, TextWriter log)
    {
        _run = new LoadedRun<JpegProfile>(runPath, device, log, "JPEG");
        _tokenTable = JpegGrammarConstraint.BuildTokenTable(Vocabulary);
        _tokenBytes = [.. Enumerable.Range(0, Vocabulary.Size).Select(id => BpeVocabulary.IsSpecial(id) ? [] : Vocabulary.TokenBytes(id).ToArray())];
        Annotators = TokenAnnotators.For(Model.Config, Profile, Vocabulary);
        _encoder = new BpeEncoder(Vocabulary);
        Grammar = Profile.TokenGrammar();
    }

    public JpegProfile Profile => _run.Profile;

    CodecProfile IImageGenerator.Profile => Profile;

    public int Width => Profile.Width;

    public int Height => Profile.Height;

    public string FileExtension => ".jpg";

    public BpeVocabulary Vocabulary => _run.Vocabulary;

    public IKernels Kernels => _run.Kernels;

    public LlamaModel Model => _run.Model;

    public JpegScanGrammar Grammar { get; }

    /// <summary>Per-sample structure annotators for a model with structure fields; null for a plain Llama.</summary>
    public Func<ITokenAnnotator>? Annotators { get; }

    /// <summary>New tokens allowed per patch by default (a token is at least one byte).</summary>
    public const int TokensPerPatch = 128;

    /// <summary>The least default cap on new tokens, for profiles with few patches.</summary>
    public const int MinMaxTokens = 512;

    /// <summary>A generous cap on new tokens: <see cref="TokensPerPatch"/> per patch, at least <see cref="MinMaxTokens"/>.</summary>
    public int DefaultMaxTokens => Math.Max(MinMaxTokens, Grammar.IntervalCount * TokensPerPatch);

    /// <summary>
    /// Constrained samples that did not end with EOS. The constraint refuses every token after which the
    /// rest of the stream would not fit the cap, so this stays 0; eval reports it to show that it does.
    /// </summary>
    public int Unfinished { get; private set; }

    /// <summary>The profile's token bytes for an image (fitted to the profile and encoded canonically).</summary>
    public byte[] TokenBytesOf(PixelImage image)
        => Profile.ToTokenBytes(new JpegEncoder(ImageCorpus.EncoderOptions(Profile)).Encode(ImageCorpus.FitToProfile(image, Profile)));

    /// <inheritdoc/>
    public byte[] PromptOf(ReadOnlySpan<byte> tokenBytes, double ratio, out int promptUnits, out int totalUnits, out int firstFreeRow)
    {
        byte[] prefix = JpegTokenStreams.PromptPrefix(Profile, tokenBytes, ratio, out promptUnits, out totalUnits);
        int mcu = Profile.Subsampling == JpegProfile.Yuv420 ? 16 : 8;
        int mcusPerRow = (Profile.Width + mcu - 1) / mcu;
        firstFreeRow = Math.Min(Profile.Height, (promptUnits * Profile.RestartInterval + mcusPerRow - 1) / mcusPerRow * mcu);
        return prefix;
    }

    /// <summary>Decodes token bytes tolerantly (missing or corrupt patches grey) — for pictures of prompts and broken samples.</summary>
    public PixelImage Picture(ReadOnlySpan<byte> tokenBytes)
        => JpegDecoder.DecodeDetailed(JpegTokenStreams.ToFullFile(Profile, tokenBytes), new JpegDecoderOptions { Tolerant = true }).Image;

    /// <summary>Generates <paramref name="count"/> completions of <paramref name="promptBytes"/> (empty: unconditional).</summary>
    public IReadOnlyList<JpegSample> Complete(byte[] promptBytes, int count, SamplingOptions options, bool constrained, Action<int>? samplesDone = null)
    {
        // Token healing: the prompt's last tokens are re-generated under a forced-bytes constraint, so merges that span
        // the cut (a restart marker and the patch after it) stay available to the model.
        int[] encoded = _encoder.Encode(promptBytes);
        (int keep, byte[] forced) = PromptHealing.Split(encoded, id => _tokenBytes[id]);
        int[] prompt = [BpeVocabulary.Bos, .. encoded.AsSpan(0, keep)];
        byte[] keptBytes = promptBytes[..(promptBytes.Length - forced.Length)];
        var sampler = new Sampler(Model);
        Func<ITokenConstraint>? rule = (constrained, forced.Length > 0) switch
        {
            (true, true) => () => new ForcedBytesConstraint(new JpegGrammarConstraint(_tokenTable, Grammar), forced, _tokenBytes),
            (true, false) => () => new JpegGrammarConstraint(_tokenTable, Grammar),
            (false, true) => () => new ForcedBytesConstraint(null, forced, _tokenBytes),
            _ => null,
        };
        if (constrained)
        {
            var start = new JpegGrammarConstraint(_tokenTable, Grammar);
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

        var results = sampler.Generate(prompt, options with { Samples = count, EosTokenId = BpeVocabulary.Eos }, rule, Annotators, samplesDone).ToList();
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
            byte[] bytes = [.. keptBytes, .. Vocabulary.Decode(body)];
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

    public void Dispose() => _run.Dispose();
}
