using JpegLm.Codec.Avc;
using JpegLm.Codec.Avc.Encoder;
using JpegLm.Codec.Bitstream;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.IO;
using JpegLm.Codec.Tokens;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Model;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cli.Pipeline;

/// <summary>One generated video: the Annex B file, what the checker says of it, and its (tolerant) decode.</summary>
internal sealed record AvcSample(byte[] File, bool Valid, int CorruptSlices, int Slices, FinishReason Reason, IReadOnlyList<Yuv420Frame> Frames) : IGeneratedSample
{
    int IGeneratedSample.CorruptUnits => CorruptSlices;

    int IGeneratedSample.Units => Slices;
}

/// <summary>
/// A trained video run loaded for generation (the AVC counterpart of <see cref="JpegSamplingSession"/>).
/// Samples are drawn as one batch; constrained ones under an <see cref="AvcStreamConstraint"/>, which masks
/// every token the profile's slice grammar or the token budget rules out, so every constrained sample ends
/// with whole, valid pictures within its cap. Prompts are cut at pictures: the first round(r · frames)
/// pictures of the clip's canonical stream.
/// </summary>
internal sealed class AvcSamplingSession : IDisposable
{
    private readonly BpeEncoder _encoder;
    private readonly Codec.Grammar.GrammarTokenConstraint<Codec.Avc.Grammar.AvcStreamState> _tokenTable;

    private readonly LoadedRun<AvcProfile> _run;

    public AvcSamplingSession(string runPath, string device, TextWriter log)
    {
        _run = new LoadedRun<AvcProfile>(runPath, device, log, "video");
        _encoder = new BpeEncoder(Vocabulary);
        _tokenTable = AvcStreamConstraint.BuildTokenTable(Vocabulary);
    }

    public AvcProfile Profile => _run.Profile;

    public BpeVocabulary Vocabulary => _run.Vocabulary;

    public IKernels Kernels => _run.Kernels;

    public LlamaModel Model => _run.Model;

    /// <summary>Macroblocks per picture.</summary>
    public int MacroblocksPerFrame => MacroblocksIn(Profile);

    /// <summary>New tokens allowed per macroblock of every frame by default (a QP-37 macroblock slice is ~10 bytes).</summary>
    public const int TokensPerMacroblock = 24;

    /// <summary>The least default cap on new tokens.</summary>
    public const int MinMaxTokens = 1024;

    /// <summary>A generous cap on new tokens: <see cref="TokensPerMacroblock"/> per macroblock of every frame, at least <see cref="MinMaxTokens"/>.</summary>
    public int DefaultMaxTokens => DefaultMaxTokensFor(Profile);

    /// <summary>The <see cref="DefaultMaxTokens"/> of a run under <paramref name="profile"/>.</summary>
    public static int DefaultMaxTokensFor(AvcProfile profile)
        => Math.Max(MinMaxTokens, profile.Frames * MacroblocksIn(profile) * TokensPerMacroblock);

    private static int MacroblocksIn(AvcProfile profile) => ((profile.Width + 15) / 16) * ((profile.Height + 15) / 16);

    /// <summary>Constrained samples that did not end with EOS (the budget-aware mask keeps this at 0; eval reports it).</summary>
    public int Unfinished { get; private set; }

    /// <summary>
    /// The profile's token bytes for a clip: a Y4M file goes through the preparation pipeline (frame rate,
    /// fit and pad, first frames); an H.264 file is decoded and its frames re-encoded the same way.
    /// </summary>
    public byte[] TokenBytesOfFile(string path)
    {
        byte[] stream;
        if (MediaKind.Detect(path) == MediaKind.Y4m)
        {
            using var reader = new Y4mReader(File.OpenRead(path));
            stream = VideoCorpus.EncodeClip(reader, Profile);
        }
        else
        {
            List<Yuv420Frame> frames = AvcDecoder.DecodeFile(path);
            if (frames.Count == 0)
            {
                throw new AvcFormatException("the stream has no pictures", 0);
            }

            var encoder = new AvcEncoder(Profile.Width, Profile.Height, Profile.EncoderOptions());
            using var output = new MemoryStream();
            foreach (Yuv420Frame f in frames.Take(Profile.Frames))
            {
                encoder.Encode(AvcLmVideoPreparation.FitAndPad(f, Profile.Width, Profile.Height), output);
            }

            stream = output.ToArray();
        }

        return Profile.ToTokenBytes(stream);
    }

    /// <summary>Whether <paramref name="path"/> holds a clip this session can read as a prompt: Y4M or H.264, by content (then extension).</summary>
    public static bool IsClip(string path)
    {
        MediaKind? kind = MediaKind.Detect(path);
        return kind == MediaKind.Y4m || kind == MediaKind.H264;
    }

    /// <summary>
    /// The first round(ratio · pictures) pictures of a stream's token bytes: cut just before the start code of
    /// the first slice (first_mb_in_slice = 0) of the next picture.
    /// </summary>
    public static byte[] PromptPrefix(ReadOnlySpan<byte> tokenBytes, double ratio, out int promptFrames, out int totalFrames)
    {
        List<int> starts = AnnexBStartCodes.PictureStarts(tokenBytes);
        totalFrames = starts.Count;
        promptFrames = (int)Math.Round(Math.Clamp(ratio, 0, 1) * totalFrames, MidpointRounding.AwayFromZero);
        return promptFrames >= totalFrames ? tokenBytes.ToArray() : tokenBytes[..starts[promptFrames]].ToArray();
    }

    /// <summary>Decodes a stream's token bytes tolerantly (broken slices concealed); empty when unreadable.</summary>
    public IReadOnlyList<Yuv420Frame> Frames(ReadOnlySpan<byte> tokenBytes)
    {
        try
        {
            return [.. new AvcDecoder(new AvcDecoderOptions { Tolerant = true }).Decode(new MemoryStream(Profile.FromTokenBytes(tokenBytes)))];
        }
        catch (AvcFormatException)
        {
            return [];
        }
    }

    /// <summary>
    /// Generates <paramref name="count"/> continuations of <paramref name="promptBytes"/> (empty: unconditional);
    /// constrained ones may only end once they hold <paramref name="minFrames"/> whole pictures.
    /// </summary>
    public IReadOnlyList<AvcSample> Complete(byte[] promptBytes, int count, SamplingOptions options, bool constrained, int minFrames = 1)
    {
        int[] prompt = [BpeVocabulary.Bos, .. _encoder.Encode(promptBytes)];
        var sampler = new Sampler(Model);
        options = options with { Samples = count, EosTokenId = BpeVocabulary.Eos };
        if (!constrained)
        {
            return [.. sampler.Generate(prompt, options).Select(r => Describe(promptBytes, r))];
        }

        var grammar = new Codec.Avc.Grammar.AvcStreamGrammar(Profile, minFrames, Math.Max(Profile.Frames, minFrames));
        byte[]? header = Profile.KeepHeaders ? Convert.FromHexString(Profile.ParameterSetsHex) : null;
        var start = new AvcStreamConstraint(_tokenTable, grammar, header);
        foreach (int t in prompt)
        {
            start.Accept(t);
        }

        if (start.IsFailed)
        {
            throw new FormatException("the prompt is not a stream of the profile's syntax");
        }

        // Below the completion the mask keeps in reach no sample could finish; say so instead of returning cut-off files.
        if (start.TokensToFinish > options.MaxNewTokens)
        {
            throw new UsageException($"--max-tokens {options.MaxNewTokens} is below the {start.TokensToFinish} tokens this prompt's completion may take");
        }

        IReadOnlyList<SampleResult> results = sampler.Generate(prompt, options, () => new AvcStreamConstraint(_tokenTable, grammar, header));
        Unfinished += results.Count(r => r.Reason != FinishReason.EndOfSequence);
        return [.. results.Select(r => Describe(promptBytes, r))];
    }

    private AvcSample Describe(byte[] promptBytes, SampleResult r)
    {
        // Specials inside an unconstrained sample carry no bytes: drop them.
        int[] body = [.. r.Tokens.Where(t => !BpeVocabulary.IsSpecial(t) && t < Vocabulary.Size)];
        byte[] tokenBytes = [.. promptBytes, .. Vocabulary.Decode(body)];
        byte[] file = Profile.FromTokenBytes(tokenBytes);
        bool valid;
        int corrupt, slices;
        try
        {
            AvcCheckResult check = AvcStreamChecker.Check(new MemoryStream(file));
            (valid, corrupt, slices) = (check.Valid && check.PatchCount > 0, check.Corrupt.Count, check.PatchCount);
        }
        catch (AvcFormatException)
        {
            (valid, corrupt, slices) = (false, 1, 1);
        }

        return new AvcSample(file, valid, corrupt, slices, r.Reason, Frames(tokenBytes));
    }

    public void Dispose() => _run.Dispose();
}
