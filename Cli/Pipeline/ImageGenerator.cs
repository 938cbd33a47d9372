using JpegLm.Codec.Imaging;
using JpegLm.Codec.Tokens;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cli.Pipeline;

/// <summary>
/// A trained image run (JPEG or raw pixels) loaded for generation: how prompts are cut, how samples are drawn
/// and turned into files and pictures. <c>sample</c>, <c>eval</c> and the quality measure work through it, so the
/// JPEG model and the pixel baseline are sampled and measured the same way.
/// </summary>
internal interface IImageGenerator : IDisposable
{
    /// <summary>The run's profile.</summary>
    CodecProfile Profile { get; }

    /// <summary>The run's tokenizer.</summary>
    BpeVocabulary Vocabulary { get; }

    /// <summary>The model.</summary>
    Engine.Model.LlamaModel Model { get; }

    /// <summary>Image width in pixels.</summary>
    int Width { get; }

    /// <summary>Image height in pixels.</summary>
    int Height { get; }

    /// <summary>Extension of the files samples are written as (<c>.jpg</c>, <c>.pgm</c>).</summary>
    string FileExtension { get; }

    /// <summary>The default cap on new tokens per sample.</summary>
    int DefaultMaxTokens { get; }

    /// <summary>Constrained samples that did not end with EOS (the JPEG grammar keeps this at 0; eval reports it).</summary>
    int Unfinished { get; }

    /// <summary>The token bytes of an image under the profile (fitted and encoded canonically).</summary>
    byte[] TokenBytesOf(PixelImage image);

    /// <summary>
    /// The prompt of an image's token bytes: the first round(<paramref name="ratio"/> · units) units (restart intervals,
    /// or pixel rows), and the first pixel row the prompt does not cover.
    /// </summary>
    byte[] PromptOf(ReadOnlySpan<byte> tokenBytes, double ratio, out int promptUnits, out int totalUnits, out int firstFreeRow);

    /// <summary>A picture of (possibly partial) token bytes: what is missing is grey.</summary>
    PixelImage Picture(ReadOnlySpan<byte> tokenBytes);

    /// <summary>Draws <paramref name="count"/> completions of <paramref name="promptBytes"/> (empty: unconditional), in memory-bounded batches.</summary>
    IReadOnlyList<JpegSample> Complete(byte[] promptBytes, int count, SamplingOptions options, bool constrained, Action<int>? samplesDone = null);
}

/// <summary>Opens the right <see cref="IImageGenerator"/> for a run folder.</summary>
internal static class ImageGenerators
{
    public static IImageGenerator Open(string runPath, string device, TextWriter log)
        => new RunFolder(runPath).LoadProfile().Profile is PixelProfile
            ? new PixelSamplingSession(runPath, device, log)
            : new JpegSamplingSession(runPath, device, log);

    /// <summary>Fits an image to a run's canvas the way its prompts are fitted (for sheets and references).</summary>
    public static PixelImage Fit(CodecProfile profile, PixelImage image) => profile switch
    {
        JpegProfile jpeg => ImageCorpus.FitToProfile(image, jpeg),
        PixelProfile pixels => ImageCorpus.FitToProfile(image, pixels),
        _ => throw new NotSupportedException($"{profile.Name} is not an image profile"),
    };
}
