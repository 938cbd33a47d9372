using JpegLm.Cli.Pipeline;
using JpegLm.Cli.Reporting;
using JpegLm.Codec.Avc;
using JpegLm.Codec.Imaging;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cli.Commands;

/// <summary>The video half of <c>jpeglm sample</c>: runs trained on an AVC profile write <c>.h264</c> files.</summary>
internal static class VideoSampling
{
    /// <summary>Samples <paramref name="count"/> videos per prompt (or unconditionally) and writes files and contact sheets.</summary>
    public static int Run(string model, int count, string output, string? prompt, double ratio, SamplingOptions options, int? maxTokens,
        bool unconstrained, string device, TextWriter stdout, TextWriter stderr)
    {
        List<string?> prompts = [];
        if (prompt == null)
        {
            prompts.Add(null);
        }
        else if (Directory.Exists(prompt))
        {
            prompts.AddRange(Directory.EnumerateFiles(prompt, "*", SearchOption.AllDirectories).Where(AvcSamplingSession.IsClip).Order(StringComparer.Ordinal));
        }
        else if (File.Exists(prompt) && AvcSamplingSession.IsClip(prompt))
        {
            prompts.Add(prompt);
        }
        else
        {
            stderr.WriteLine($"jpeglm sample: {prompt}: not a clip (Y4M or H.264) or a folder of clips");
            return 1;
        }

        if (prompts.Count == 0)
        {
            stderr.WriteLine($"jpeglm sample: no clips in {prompt}");
            return 1;
        }

        using var session = new AvcSamplingSession(model, device, stderr);
        options = options with { MaxNewTokens = maxTokens ?? session.DefaultMaxTokens };
        Directory.CreateDirectory(output);
        var tally = new SampleTally("videos", "slices");
        foreach (string? clip in prompts)
        {
            string name = clip == null ? "unconditional" : Path.GetFileNameWithoutExtension(clip);
            byte[] promptBytes = [];
            byte[] original = [];
            int promptFrames = 0, allFrames = session.Profile.Frames;
            if (clip != null)
            {
                try
                {
                    original = session.TokenBytesOfFile(clip);
                }
                catch (Exception e) when (e is IOException or FormatException or AvcFormatException or UnauthorizedAccessException)
                {
                    stderr.WriteLine($"jpeglm sample: prompt {clip}: {e.Message}");
                    return 1;
                }

                promptBytes = AvcSamplingSession.PromptPrefix(original, ratio, out promptFrames, out allFrames);
            }

            IReadOnlyList<AvcSample> samples = session.Complete(promptBytes, count, options, !unconstrained, minFrames: clip == null ? 1 : allFrames);
            var rows = new List<IReadOnlyList<PixelImage>>();
            if (clip != null)
            {
                rows.Add(Row(session.Frames(promptBytes), session, allFrames));
            }

            for (int i = 0; i < samples.Count; i++)
            {
                tally.Write(Path.Combine(output, $"{name}-{i}.h264"), samples[i], stdout, $"{samples[i].Frames.Count} frames");
                rows.Add(Row(samples[i].Frames, session, allFrames));
            }

            if (clip != null)
            {
                rows.Add(Row(session.Frames(original), session, allFrames));
                stdout.WriteLine($"{name}: prompt = first {promptFrames} of {allFrames} frames");
            }

            ImageFile.Save(Path.Combine(output, $"{name}-sheet.png"), ContactSheet.Compose(rows, gap: 4, scale: Math.Max(1, 96 / session.Profile.Height)));
        }

        stdout.WriteLine(tally.Summary(unconstrained));
        return 0;
    }

    // One sheet row: a video's frames left to right, missing ones grey, so rows line up frame by frame.
    private static List<PixelImage> Row(IReadOnlyList<Yuv420Frame> frames, AvcSamplingSession session, int columns)
    {
        var row = new List<PixelImage>();
        for (int i = 0; i < Math.Max(columns, frames.Count); i++)
        {
            if (i < frames.Count)
            {
                row.Add(frames[i].ToRgb());
            }
            else
            {
                var grey = new PixelImage(session.Profile.Width, session.Profile.Height, 3);
                grey.Pixels.AsSpan().Fill(128);
                row.Add(grey);
            }
        }

        return row;
    }
}
