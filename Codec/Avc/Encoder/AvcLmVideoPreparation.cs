using JpegLm.Codec.Imaging;

namespace JpegLm.Codec.Avc.Encoder;

/// <summary>The result of <see cref="AvcLmVideoPreparation.Prepare"/>: the H.264 stream and what it decodes to.</summary>
/// <param name="Stream">Annex B bytes (SPS, PPS, one slice NAL unit per macroblock by default).</param>
/// <param name="Reconstruction">The decoded frames every conforming decoder produces.</param>
/// <param name="SourceFrames">The selected, scaled and padded frames that were encoded.</param>
public sealed record PreparedVideo(byte[] Stream, IReadOnlyList<Yuv420Frame> Reconstruction, IReadOnlyList<Yuv420Frame> SourceFrames);

/// <summary>
/// The AVC-LM paper's video pipeline for one clip: keep 3 frames per second by frame selection,
/// scale each frame to fit 256x144 keeping its aspect ratio, pad to 256x144 with black, keep the
/// first 5 seconds (15 frames) and encode them with the paper's x264 settings
/// (<see cref="AvcEncoderOptions"/> defaults).
/// </summary>
public static class AvcLmVideoPreparation
{
    /// <summary>Output frame rate.</summary>
    public const int FramesPerSecond = 3;

    /// <summary>Output width.</summary>
    public const int Width = 256;

    /// <summary>Output height.</summary>
    public const int Height = 144;

    /// <summary>Seconds kept from the start.</summary>
    public const int Seconds = 5;

    // Black in limited-range YCbCr (what ffmpeg's pad filter writes into yuv420p).
    private const byte BlackY = 16;
    private const byte BlackC = 128;

    /// <summary>Runs the whole pipeline on a Y4M stream.</summary>
    public static PreparedVideo Prepare(Y4mReader reader, AvcEncoderOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        Y4mHeader h = reader.Header;
        var frames = new List<Yuv420Frame>();
        foreach (Yuv420Frame f in SelectFrames(reader.ReadAll(), h.FramesPerSecond))
        {
            frames.Add(FitAndPad(f, Width, Height));
        }

        options = (options ?? new AvcEncoderOptions()) with { FpsNumerator = FramesPerSecond, FpsDenominator = 1 };
        var encoder = new AvcEncoder(Width, Height, options);
        using var output = new MemoryStream();
        var recon = new List<Yuv420Frame>(frames.Count);
        foreach (Yuv420Frame f in frames)
        {
            recon.Add(encoder.Encode(f, output));
        }

        return new PreparedVideo(output.ToArray(), recon, frames);
    }

    /// <summary>
    /// Frame selection to <see cref="FramesPerSecond"/>: output frame k shows the input frame on
    /// screen at time k / 3 s (the last one starting at or before it), for the first
    /// <see cref="Seconds"/> seconds. Frames are pulled lazily; a short input gives fewer frames.
    /// </summary>
    public static IEnumerable<Yuv420Frame> SelectFrames(IEnumerable<Yuv420Frame> input, double inputFps)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!(inputFps > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(inputFps), "frame rate must be positive");
        }

        int k = 0, index = 0;
        int count = FramesPerSecond * Seconds;
        foreach (Yuv420Frame f in input)
        {
            // Input frame `index` covers [index / fps, (index + 1) / fps); emit it for every output time inside.
            while (k < count && k * inputFps < (index + 1) * (double)FramesPerSecond - 1e-9)
            {
                yield return f;
                k++;
            }

            if (k >= count)
            {
                yield break;
            }

            index++;
        }
    }

    /// <summary>Scales a frame to fit <paramref name="width"/> x <paramref name="height"/> keeping its aspect ratio (area averaging when shrinking, bicubic when growing) and pads it centred with black.</summary>
    public static Yuv420Frame FitAndPad(Yuv420Frame frame, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(frame);
        double scale = Math.Min((double)width / frame.Width, (double)height / frame.Height);
        // Multiples of 4 keep the chroma planes exactly half the luma ones, centring offsets included.
        int w = Math.Clamp((int)Math.Round(frame.Width * scale / 4) * 4, 4, width);
        int h = Math.Clamp((int)Math.Round(frame.Height * scale / 4) * 4, 4, height);
        var result = new Yuv420Frame(width, height);
        Place(frame.Y, frame.Width, frame.Height, w, h, result.Y, width, height, BlackY);
        Place(frame.U, frame.ChromaWidth, frame.ChromaHeight, w / 2, h / 2, result.U, result.ChromaWidth, result.ChromaHeight, BlackC);
        Place(frame.V, frame.ChromaWidth, frame.ChromaHeight, w / 2, h / 2, result.V, result.ChromaWidth, result.ChromaHeight, BlackC);
        return result;
    }

    // Resizes one plane to (w, h) and pads it to (outW, outH): the plane seen as a 1-channel image.
    private static void Place(byte[] plane, int pw, int ph, int w, int h, byte[] dst, int outW, int outH, byte background)
    {
        var image = new PixelImage(pw, ph, 1, plane);
        PixelImage scaled = ImageResize.Resize(image, w, h);
        PixelImage padded = ImageResize.PadCentered(scaled, outW, outH, background);
        padded.Pixels.AsSpan(0, outW * outH).CopyTo(dst);
    }
}
