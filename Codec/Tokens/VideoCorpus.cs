using JpegLm.Codec.Avc.Encoder;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.IO;

namespace JpegLm.Codec.Tokens;

/// <summary>
/// The front of <c>jpeglm prepare</c> for video, reproducing the AVC-LM pipeline on Y4M input: frames
/// selected to the profile's rate (nearest source frame), scaled to fit the profile's size keeping the
/// aspect ratio and padded with black (<see cref="AvcLmVideoPreparation.FitAndPad"/>), the first
/// <see cref="AvcProfile.Frames"/> frames kept, and encoded with the profile's encoder settings.
/// (<see cref="AvcLmVideoPreparation.Prepare"/> is the same pipeline with the paper's constants, also
/// returning the reconstruction.)
/// </summary>
public static class VideoCorpus
{
    /// <summary>Y4M files under <paramref name="directory"/> (recursive, by the extension in <see cref="MediaKind"/>), sorted by ordinal path.</summary>
    public static IReadOnlyList<string> FindClips(string directory)
        => [.. Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Where(p => MediaKind.FromExtension(p) == MediaKind.Y4m).Order(StringComparer.Ordinal)];

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

            encoder.Encode(AvcLmVideoPreparation.FitAndPad(current, profile.Width, profile.Height), output);
            written++;
        }

        if (written == 0)
        {
            throw new ImageFormatException("the clip has no frames", 0);
        }

        return output.ToArray();
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
}
