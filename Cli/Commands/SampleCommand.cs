using System.Globalization;
using JpegLm.Cli.Pipeline;
using JpegLm.Cli.Reporting;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.IO;
using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cli.Commands;

/// <summary><c>jpeglm sample</c>: generates JPEG files from a trained run, unconditionally or completing prompts.</summary>
internal sealed class SampleCommand : ICliCommand
{
    public string Name => "sample";

    public string Summary => "generate JPEGs or H.264 videos (grammar-constrained: every file opens), optionally completing prompts";

    public string Usage => """
        jpeglm sample --model RUN --count N --out DIR [options]
          --prompt P           an image file, or a folder of images (each is one prompt); omitted: unconditional.
                               Video runs take clips (.y4m, .h264, .264) or a folder of them
          --prompt-ratio R     keep the first round(R x patches) restart intervals of each prompt (default 0.5);
                               for video, the first round(R x frames) frames (e.g. 0.67: 10 of 15)
          --temperature T      softmax temperature (default 1.0)
          --top-k K            keep the K most likely tokens (default 0: all)
          --top-p P            nucleus sampling (default 1.0: all)
          --seed S             sampling seed (default 1)
          --max-tokens N       cap on new tokens per sample (default 64 per patch)
          --unconstrained      sample freely and report the corrupt-patch rate instead of forbidding bad bytes
          --device D           auto, cpu or cuda (default auto)
        Writes DIR/<prompt>-<i>.jpg (complete files with their tables) and one contact sheet per prompt,
        DIR/<prompt>-sheet.png: prompt | samples | original. Prints the validity of every sample.
        Video runs write DIR/<prompt>-<i>.h264 (Annex B with the profile's SPS/PPS) and a sheet with one row
        of frames per video: prompt, samples, original. Constrained sampling masks every token that would break
        the stream or not leave room to finish it within --max-tokens, so every sample ends valid and whole.
        Example: jpeglm sample --model runs/small --count 4 --prompt photo.png --prompt-ratio 0.5 --top-p 0.9 --out samples/
        """;

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = new CliArgs(args, "unconstrained");
        string model = a.Required("model");
        int count = a.Int("count", 4, 1, 4096);
        string output = a.Required("out");
        string? prompt = a.String("prompt");
        double ratio = a.Double("prompt-ratio", 0.5, 0, 1);
        var options = new SamplingOptions
        {
            Temperature = (float)a.Double("temperature", 1.0, 0, 100),
            TopK = a.Int("top-k", 0, 0),
            TopP = (float)a.Double("top-p", 1.0, 1e-6, 1),
            Seed = (ulong)a.Long("seed", 1, 0),
        };
        int maxTokens = a.Int("max-tokens", 0, 0);
        bool unconstrained = a.Flag("unconstrained");
        string device = a.String("device") ?? "auto";
        a.EnsureAllUsed(0);
        if (new RunFolder(model).IsVideo)
        {
            return VideoSampling.Run(model, count, output, prompt, ratio, options, maxTokens, unconstrained, device, stdout, stderr);
        }

        List<(string Name, PixelImage? Image)> prompts = [];
        try
        {
            if (prompt == null)
            {
                prompts.Add(("unconditional", null));
            }
            else if (Directory.Exists(prompt))
            {
                prompts.AddRange(ImageCorpus.FindImages(prompt).Select(p => (Path.GetFileNameWithoutExtension(p), (PixelImage?)ImageFile.Load(p))));
            }
            else
            {
                prompts.Add((Path.GetFileNameWithoutExtension(prompt), ImageFile.Load(prompt)));
            }
        }
        catch (Exception e) when (e is IOException or ImageFormatException or JpegFormatException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"jpeglm sample: prompt {prompt}: {e.Message}");
            return 1;
        }

        if (prompts.Count == 0)
        {
            stderr.WriteLine($"jpeglm sample: no images in {prompt}");
            return 1;
        }

        using var session = new JpegSamplingSession(model, device, stderr);
        options = options with { MaxNewTokens = maxTokens > 0 ? maxTokens : session.DefaultMaxTokens };
        Directory.CreateDirectory(output);
        int valid = 0, total = 0, corruptPatches = 0, patches = 0;
        int scale = Math.Max(1, 128 / Math.Max(session.Profile.Width, session.Profile.Height));
        foreach ((string name, PixelImage? image) in prompts)
        {
            byte[] promptBytes = [];
            int promptPatches = 0, allPatches = session.Grammar.IntervalCount;
            if (image != null)
            {
                promptBytes = JpegTokenStreams.PromptPrefix(session.Profile, session.TokenBytesOf(image), ratio, out promptPatches, out allPatches);
            }

            IReadOnlyList<JpegSample> samples = session.Complete(promptBytes, count, options, !unconstrained);
            var row = new List<PixelImage>();
            if (image != null)
            {
                row.Add(session.Picture(promptBytes));
            }

            for (int i = 0; i < samples.Count; i++)
            {
                JpegSample s = samples[i];
                string file = Path.Combine(output, $"{name}-{i}.jpg");
                AtomicFile.WriteAllBytes(file, s.File);
                row.Add(s.Image);
                total++;
                valid += s.Valid ? 1 : 0;
                corruptPatches += s.CorruptPatches;
                patches += s.Patches;
                stdout.WriteLine($"{file}: {(s.Valid ? "valid" : $"CORRUPT ({s.CorruptPatches}/{s.Patches} patches)")}, {s.File.Length} bytes, stopped by {s.Reason}");
            }

            if (image != null)
            {
                row.Add(ImageCorpus.FitToProfile(image, session.Profile));
            }

            ImageFile.Save(Path.Combine(output, $"{name}-sheet.png"), ContactSheet.Compose([row], gap: 4, scale: scale));
            if (image != null)
            {
                stdout.WriteLine($"{name}: prompt = first {promptPatches} of {allPatches} patches");
            }
        }

        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{valid}/{total} samples valid ({(unconstrained ? "unconstrained" : "grammar-constrained")}); corrupt patches {corruptPatches}/{patches} ({100.0 * corruptPatches / Math.Max(1, patches):F1}%)"));
        return 0;
    }
}
