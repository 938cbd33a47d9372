using JpegLm.Codec.Imaging;
using JpegLm.Codec.Tokens;
using JpegLm.Engine.Model;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cli.Pipeline;

/// <summary>
/// The pixel baseline run loaded for generation: a sample is exactly <c>Width × Height</c> byte tokens then EOS
/// (the length constraint below, the only grammar raw pixels have); prompts are whole pixel rows.
/// </summary>
internal sealed class PixelSamplingSession : IImageGenerator
{
    private readonly LoadedRun<PixelProfile> _run;

    public PixelSamplingSession(string runPath, string device, TextWriter log)
        => _run = new LoadedRun<PixelProfile>(runPath, device, log, "pixel", (_, vocabulary) =>
        {
            if (vocabulary.Size != BpeVocabulary.FirstMerge)
            {
                throw new FormatException($"{runPath}: a pixel run's vocabulary has no merges (one token per pixel value); vocab.json has {vocabulary.Size - BpeVocabulary.FirstMerge}");
            }
        });

    public CodecProfile Profile => _run.Profile;

    public BpeVocabulary Vocabulary => _run.Vocabulary;

    public LlamaModel Model => _run.Model;

    public int Width => _run.Profile.Width;

    public int Height => _run.Profile.Height;

    public string FileExtension => ".pgm";

    public int DefaultMaxTokens => _run.Profile.PixelCount + 1;

    public int Unfinished { get; private set; }

    public byte[] TokenBytesOf(PixelImage image) => _run.Profile.ToTokenBytes(_run.Profile.Encode(ImageCorpus.FitToProfile(image, _run.Profile)));

    public byte[] PromptOf(ReadOnlySpan<byte> tokenBytes, double ratio, out int promptUnits, out int totalUnits, out int firstFreeRow)
    {
        totalUnits = Height;
        promptUnits = (int)Math.Round(Math.Clamp(ratio, 0, 1) * Height, MidpointRounding.AwayFromZero);
        firstFreeRow = promptUnits;
        return tokenBytes[..Math.Min(tokenBytes.Length, promptUnits * Width)].ToArray();
    }

    public PixelImage Picture(ReadOnlySpan<byte> tokenBytes) => _run.Profile.ToImage(tokenBytes);

    public IReadOnlyList<JpegSample> Complete(byte[] promptBytes, int count, SamplingOptions options, bool constrained, Action<int>? samplesDone = null)
    {
        int[] prompt = [BpeVocabulary.Bos, .. promptBytes.Select(b => (int)b)];
        // The constraint is fed the prompt too (BOS and its pixels), so it counts the whole image.
        Func<ITokenConstraint>? rule = constrained ? () => new LengthConstraint(1 + _run.Profile.PixelCount) : null;
        IReadOnlyList<SampleResult> results = new Sampler(Model).Generate(prompt, options with { Samples = count, EosTokenId = BpeVocabulary.Eos }, rule, null, samplesDone);
        Unfinished += constrained ? results.Count(r => r.Reason != FinishReason.EndOfSequence) : 0;
        var samples = new List<JpegSample>(results.Count);
        foreach (SampleResult r in results)
        {
            byte[] pixels = [.. promptBytes, .. r.Tokens.TakeWhile(t => t != BpeVocabulary.Eos).Where(t => t < 256).Select(t => (byte)t)];
            bool whole = pixels.Length == _run.Profile.PixelCount && r.Reason == FinishReason.EndOfSequence;
            PixelImage image = _run.Profile.ToImage(pixels);
            samples.Add(new JpegSample(_run.Profile.Encode(image), whole, whole ? 0 : 1, 1, r.Reason, image));
        }

        return samples;
    }

    public void Dispose() => _run.Dispose();

    /// <summary>Exactly <c>n</c> tokens counting from the sequence's start (BOS, then pixel values 0..255), then EOS.</summary>
    internal sealed class LengthConstraint(int remaining) : ITokenConstraint
    {
        private int _left = remaining;

        public void FillAllowed(Span<bool> allowed, int tokensLeft)
        {
            for (int id = 0; id < allowed.Length; id++)
            {
                allowed[id] = _left > 0 ? id < 256 : id == BpeVocabulary.Eos;
            }
        }

        public void Accept(int token) => _left--;
    }
}
