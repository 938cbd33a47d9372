using System.Globalization;
using JpegLm.Cli.Pipeline;
using JpegLm.Cli.Reporting;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Tokens;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cli.Commands;

/// <summary>
/// The video half of <c>jpeglm eval</c>: validation bits per byte and per clip, validity of constrained and
/// unconstrained samples (corrupt slices per video), and luma PSNR/SSIM of the generated frames of prompted
/// completions against the original clip.
/// </summary>
internal static class VideoEvaluation
{
    /// <summary>Evaluates a video run with <paramref name="options"/> (the run's settings and the command's); returns the exit code.</summary>
    public static int Run(string model, string data, int samples, int maxDocs, double ratio, SamplingOptions options, string device, bool json,
        TextWriter stdout, TextWriter stderr)
    {
        using var session = new AvcSamplingSession(model, device, stderr);
        ValidationResult v = EvalCommand.ScoreValidation(session.Model, session.Vocabulary, session.Profile, data, maxDocs);

        ulong seed = options.Seed;
        options = options with { MaxNewTokens = Math.Min(session.DefaultMaxTokens, session.Model.Config.MaxPositionEmbeddings) };
        IReadOnlyList<AvcSample> constrained = samples > 0 ? session.Complete([], samples, options, constrained: true) : [];
        var free = new List<AvcSample>();
        for (int i = 0; i < samples; i += 4)
        {
            // Unconstrained samples run as a batch; four at a time keeps the KV cache small for long videos.
            free.AddRange(session.Complete([], Math.Min(4, samples - i), options with { Seed = seed + 1 + (ulong)i }, constrained: false));
        }

        double psnr = 0, ssim = 0;
        int completions = 0, framesCompared = 0;
        foreach (int[] doc in v.Docs.Take(samples))
        {
            byte[] tokenBytes = session.Vocabulary.Decode([.. doc.Where(t => !BpeVocabulary.IsSpecial(t))]);
            IReadOnlyList<Yuv420Frame> original = session.Frames(tokenBytes);
            byte[] prefix = AvcSamplingSession.PromptPrefix(tokenBytes, ratio, out int promptFrames, out int totalFrames);
            if (promptFrames >= totalFrames || original.Count <= promptFrames)
            {
                continue; // nothing left to complete
            }

            AvcSample s = session.Complete(prefix, 1, options with { Seed = seed + 7 + (ulong)completions }, constrained: true, minFrames: totalFrames)[0];
            double p = 0, q = 0;
            int n = 0;
            for (int f = promptFrames; f < Math.Min(original.Count, s.Frames.Count); f++)
            {
                PixelImage a = original[f].LumaImage(), b = s.Frames[f].LumaImage();
                p += Math.Min(99, ImageMetrics.Psnr(a, b, 0, 0, a.Width, a.Height));
                q += ImageMetrics.Ssim(a, b, 0, 0, a.Width, a.Height);
                n++;
            }

            if (n > 0)
            {
                psnr += p / n;
                ssim += q / n;
                completions++;
                framesCompared += n;
            }
        }

        var inv = CultureInfo.InvariantCulture;
        var report = new EvalReport(model, data, "avc", v, "video", "slices", constrained, free, session.Unfinished);
        var completion = new CompletionSummary(completions, ratio, framesCompared, completions == 0 ? 0 : psnr / completions, completions == 0 ? 0 : ssim / completions);
        report.Add("completion", completion, w => w.WriteLine(string.Create(inv,
            $"completions ({completions}, prompt {ratio:P0} of frames): luma PSNR {completion.Psnr:F2} dB, SSIM {completion.Ssim:F3} on the generated frames")));
        report.Write(stdout, json);
        return 0;
    }
}
