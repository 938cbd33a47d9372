using System.CommandLine;
using System.Globalization;
using JpegLm.Cli.Pipeline;
using JpegLm.Cli.Reporting;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.IO;
using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cli.Commands;

/// <summary><c>jpeglm sample</c>: generates JPEG files (or H.264 videos, for a video run) from a trained run, unconditionally or completing prompts.</summary>
internal sealed class SampleCommand : CliCommand
{
    private readonly Option<string> _model = CliOptions.Required("--model", "RUN", "the run folder written by jpeglm train");
    private readonly Option<int> _count = CliOptions.Number("--count", 4, 1, 1_000_000, "samples per prompt (or unconditional samples); drawn in batches that fit the memory budget");
    private readonly Option<string> _out = CliOptions.Required("--out", "DIR", "where the samples and contact sheets go");
    private readonly Option<string?> _prompt = CliOptions.Text("--prompt", "P", "an image, or a folder of images (each is one prompt); video runs take clips (Y4M or H.264) or a folder of them; omitted: unconditional");
    private readonly Option<double> _promptRatio = CliOptions.Number("--prompt-ratio", 0.5, 0, 1, "keep the first round(R x patches) restart intervals of each prompt; for video, the first round(R x frames) frames", "R");
    private readonly SamplingFlags _sampling = new();
    private readonly Option<ulong> _seed = CliOptions.Number("--seed", new SamplingOptions().Seed, 0UL, ulong.MaxValue, "sampling seed", "S");
    private readonly Option<int?> _maxTokens = CliOptions.OptionalNumber("--max-tokens", 1, int.MaxValue,
        $"cap on new tokens per sample (default: {JpegSamplingSession.TokensPerPatch} per patch, at least {JpegSamplingSession.MinMaxTokens}; video: {AvcSamplingSession.TokensPerMacroblock} per macroblock of every frame, at least {AvcSamplingSession.MinMaxTokens})");
    private readonly Option<bool> _unconstrained = CliOptions.Flag("--unconstrained", "sample freely and report the corrupt-patch rate instead of forbidding bad bytes");
    private readonly Option<string> _device = CliOptions.Device();

    public SampleCommand()
        : base("sample", "generate JPEGs or H.264 videos (grammar-constrained: every file opens), optionally completing prompts", """
            Writes DIR/<prompt>-<i>.jpg (complete files with their tables) and one contact sheet per prompt,
            DIR/<prompt>-sheet.png: prompt | samples | original. Prints the validity of every sample.
            Video runs write DIR/<prompt>-<i>.h264 (Annex B with the profile's SPS/PPS) and a sheet with one row
            of frames per video: prompt, samples, original. Constrained sampling masks every token that would break
            the stream or not leave room to finish it within --max-tokens, so every sample ends valid and whole.

            Example:
              jpeglm sample --model runs/small --count 4 --prompt photo.png --prompt-ratio 0.5 --top-p 0.9 --out samples/
            """)
    {
        Add([_model, _count, _out, _prompt, _promptRatio, .. _sampling.Options, _seed, _maxTokens, _unconstrained, _device]);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        string model = parsed.Value(_model);
        int count = parsed.Value(_count);
        string output = parsed.Value(_out);
        string? prompt = parsed.GetValue(_prompt);
        double ratio = parsed.Value(_promptRatio);
        SamplingOptions options = _sampling.Resolve(parsed, model, parsed.Value(_seed), prompted: prompt != null);
        int? maxTokens = parsed.GetValue(_maxTokens);
        bool unconstrained = parsed.Value(_unconstrained);
        string device = parsed.Value(_device);
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

        using IImageGenerator session = ImageGenerators.Open(model, device, stderr);
        options = options with { MaxNewTokens = maxTokens ?? session.DefaultMaxTokens };
        Directory.CreateDirectory(output);
        var tally = new SampleTally("samples", "patches");
        int scale = Math.Max(1, 128 / Math.Max(session.Width, session.Height));
        foreach ((string name, PixelImage? image) in prompts)
        {
            byte[] promptBytes = [];
            int promptUnits = 0, allUnits = 0;
            if (image != null)
            {
                promptBytes = session.PromptOf(session.TokenBytesOf(image), ratio, out promptUnits, out allUnits, out _);
            }

            var bar = count > 16 ? new ConsoleProgress(stderr, count, "samples") : null;
            IReadOnlyList<JpegSample> samples = session.Complete(promptBytes, count, options, !unconstrained, done => bar?.Report(done));
            var pictures = new List<PixelImage>();
            for (int i = 0; i < samples.Count; i++)
            {
                tally.Write(Path.Combine(output, $"{name}-{i}{session.FileExtension}"), samples[i], stdout);
                pictures.Add(samples[i].Image);
            }

            // One row per prompt (prompt | samples | original), wrapped every 16 samples so large counts stay viewable.
            var rows = pictures.Chunk(16).Select(chunk => new List<PixelImage>(chunk)).ToList();
            if (image != null)
            {
                rows[0].Insert(0, session.Picture(promptBytes));
                rows[0].Add(ImageGenerators.Fit(session.Profile, image));
            }

            ImageFile.Save(Path.Combine(output, $"{name}-sheet.png"), ContactSheet.Compose([.. rows.Select(r => (IReadOnlyList<PixelImage>)r)], gap: 4, scale: rows.Count > 4 ? 1 : scale));
            if (image != null)
            {
                stdout.WriteLine($"{name}: prompt = first {promptUnits} of {allUnits} {(session.Profile is PixelProfile ? "pixel rows" : "patches")}");
            }
        }

        stdout.WriteLine(tally.Summary(unconstrained));
        return 0;
    }
}
