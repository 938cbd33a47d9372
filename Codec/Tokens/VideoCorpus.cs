using JpegLm.Codec.Avc.Encoder;
using JpegLm.Codec.Imaging;

namespace JpegLm.Codec.Tokens;

/// <summary>
/// The front of <c>jpeglm prepare</c> for video, reproducing the AVC-LM pipeline on Y4M input: frames
/// selected to the profile's rate (nearest source frame), scaled to fit the profile's size keeping the
/// aspect ratio (area down, bicubic up), padded with black, the first <see cref="AvcProfile.Frames"/>
/// frames kept, and encoded with the profile's encoder settings.
/// </summary>
public static class VideoCorpus
{
    /// <summary>Y4M files under <paramref name="directory"/> (recursive), sorted by ordinal path.</summary>
    public static IReadOnlyList<string> FindClips(string directory)
        => [.. Directory.EnumerateFiles(directory, "*.y4m", SearchOption.AllDirectories).Order(StringComparer.Ordinal)];

    /// <summary>Encodes one clip as the profile's canonical H.264 stream (reads only the frames it needs).</summary>
    public static byte[] EncodeClip(Y4mReader reader, AvcProfile profile)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(profile);
        double sourceFps = reader.Header.FramesPerSecond;
        var encoder = new AvcEncoder(profile.Width, profile.Height, profile.EncoderOptions());
        using var output = new MemoryStream();
        int sourceIndex = -1, written = 0;
        Yuv420Frame? current = null;
        for (int k = 0; k < profile.Frames; k++)
        {
            long wanted = (long)Math.Round(k * sourceFps / profile.Fps, MidpointRounding.AwayFromZero);
            while (sourceIndex < wanted)
            {
                Yuv420Frame? next = reader.ReadFrame();
                if (next == null)
                {
                    break;
                }

                current = next;
                sourceIndex++;
            }

            if (current == null || sourceIndex < wanted)
            {
                break; // the clip is shorter than the profile's duration: keep what there is
            }

            encoder.Encode(FitFrame(current, profile.Width, profile.Height), output);
            written++;
        }

        if (written == 0)
        {
            throw new ImageFormatException("the clip has no frames", 0);
        }

        return output.ToArray();
    }

    /// <summary>Scales a frame to fit inside width x height keeping its aspect ratio and pads it centred with black.</summary>
    public static Yuv420Frame FitFrame(Yuv420Frame frame, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(frame);
        double scale = Math.Min((double)width / frame.Width, (double)height / frame.Height);
        int w = Math.Max(2, (int)(frame.Width * scale) & ~1), h = Math.Max(2, (int)(frame.Height * scale) & ~1);
        w = Math.Min(w, width);
        h = Math.Min(h, height);
        var result = new Yuv420Frame(width, height);
        result.Y.AsSpan().Fill(16); // black in limited-range YUV, as ffmpeg's pad writes it
        result.U.AsSpan().Fill(128);
        result.V.AsSpan().Fill(128);
        int x0 = ((width - w) / 2) & ~1, y0 = ((height - h) / 2) & ~1; // even, so chroma lines up with luma
        Place(frame.Y, frame.Width, frame.Height, result.Y, width, w, h, x0, y0);
        Place(frame.U, frame.ChromaWidth, frame.ChromaHeight, result.U, result.ChromaWidth, w / 2, h / 2, x0 / 2, y0 / 2);
        Place(frame.V, frame.ChromaWidth, frame.ChromaHeight, result.V, result.ChromaWidth, w / 2, h / 2, x0 / 2, y0 / 2);
        return result;
    }

    /// <summary>Encodes every Y4M clip under <paramref name="directory"/> (failures are listed, never fatal).</summary>
    public static CorpusResult EncodeFolder(string directory, AvcProfile profile, int threads, int limit = 0, Action<int, int>? progress = null)
    {
        IReadOnlyList<string> clips = FindClips(directory);
        int count = limit > 0 ? Math.Min(limit, clips.Count) : clips.Count;
        var files = new byte[count][];
        var errors = new string?[count];
        int done = 0;
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, threads) }, i =>
        {
            try
            {
                using var reader = new Y4mReader(File.OpenRead(clips[i]));
                files[i] = EncodeClip(reader, profile);
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                errors[i] = e.Message;
            }

            progress?.Invoke(Interlocked.Increment(ref done), count);
        });

        var sources = new List<string>();
        var good = new List<byte[]>();
        var failures = new List<CorpusFailure>();
        for (int i = 0; i < count; i++)
        {
            if (errors[i] is { } reason)
            {
                failures.Add(new CorpusFailure(clips[i], reason));
            }
            else
            {
                sources.Add(clips[i]);
                good.Add(files[i]);
            }
        }

        return new CorpusResult(sources, good, failures);
    }

    private static void Place(byte[] source, int sourceWidth, int sourceHeight, byte[] destination, int destinationStride, int w, int h, int x0, int y0)
    {
        PixelImage scaled = ImageResize.Resize(new PixelImage(sourceWidth, sourceHeight, 1, source), w, h);
        for (int y = 0; y < h; y++)
        {
            scaled.Row(y).CopyTo(destination.AsSpan(((y0 + y) * destinationStride) + x0, w));
        }
    }
}
