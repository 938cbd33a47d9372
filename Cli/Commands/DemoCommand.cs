using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using JpegLm.Cli.Pipeline;
using JpegLm.Cli.Reporting;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.IO;
using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm demo</c>: the whole pipeline on embedded synthetic data, on the CPU, in a few minutes —
/// make images, prepare token shards, train a tiny Llama, complete half-images with grammar-constrained
/// sampling, and write an HTML page with the loss curve and the pictures.
/// </summary>
internal sealed class DemoCommand : CliCommand
{
    private readonly Option<string> _out = CliOptions.Text("--out", "DIR", "where everything goes", "demo-out");
    private readonly Option<int> _images = CliOptions.Number("--images", 3000, 50, 1_000_000, "synthetic 32x32 training images");
    private readonly Option<double> _minutes = CliOptions.Number("--minutes", 3.0, 0.05, 24 * 60, "training time cap (a checkpoint is saved when it is reached)", "M");
    private readonly Option<int> _steps = CliOptions.Number("--steps", 600, 1, int.MaxValue, "training steps");
    private readonly Option<string> _device = CliOptions.Device();
    private readonly Option<ulong> _seed = CliOptions.Number("--seed", 2024UL, 0UL, ulong.MaxValue, "seed of the images, the weights and the samples", "S");

    public DemoCommand()
        : base("demo", "the whole pipeline on synthetic images in a few minutes (writes an HTML page)", """
            Writes DIR/index.html (loss curve, prompted completions, unconditional samples, figures),
            DIR/data (token shards), DIR/run (the model, Hugging Face layout) and DIR/samples (the .jpg files).

            Example:
              jpeglm demo --out demo-out --minutes 3
            """)
    {
        Add(_out, _images, _minutes, _steps, _device, _seed);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        string output = parsed.Value(_out);
        int images = parsed.Value(_images);
        double minutes = parsed.Value(_minutes);
        int steps = parsed.Value(_steps);
        string device = parsed.Value(_device);
        ulong seed = parsed.Value(_seed);
        var clock = System.Diagnostics.Stopwatch.StartNew();

        // 1. Data: deterministic synthetic images whose lower half follows from the upper half (vertical bars,
        // ramps), under a small grey profile with one patch per 8x8 MCU (16 patches).
        JpegProfile profile = JpegProfile.Standard("demo-32-q50-grey", 32, 32, 50, JpegProfile.Grey, 1);
        string data = Path.Combine(output, "data");
        stdout.WriteLine($"[1/4] making {images} synthetic 32x32 images and preparing token shards in {data}");
        CorpusResult corpus = ImageCorpus.Encode(images, i => $"synthetic#{i}", i => SyntheticImages.MakeContinuable(32, 32, seed, i), profile, Environment.ProcessorCount);
        DatasetPreparationResult prepared = DatasetPreparer.Prepare(corpus.Files, profile, data, new DatasetPreparationOptions
        {
            VocabularySize = 320,
            ValidationFraction = 0.05,
            Seed = (int)(seed % int.MaxValue),
        });
        long docs = prepared.TrainShard.DocumentCount + prepared.ValidationShard.DocumentCount;
        long tokens = prepared.TrainShard.TokenCount + prepared.ValidationShard.TokenCount;
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"      {docs} images, {prepared.TokenBytes} JPEG bytes -> {tokens} tokens ({tokens / (double)docs:F0} per image), vocabulary {prepared.Vocabulary.Size}"));

        // 2. Train a tiny model with a wall-clock cap; it sees where the JPEG parser stands after every token.
        string runPath = Path.Combine(output, "run");
        stdout.WriteLine($"[2/4] training a tiny Llama (4 x 128, {JpegScanStructure.Name} structure embeddings) for at most {minutes} minutes");
        using var cancel = new CancellationTokenSource(TimeSpan.FromMinutes(minutes));
        TrainingOutcome outcome = TrainingRun.Execute(new TrainingRequest
        {
            Data = data,
            ModelConfig = "tiny",
            Out = runPath,
            Device = device,
            Steps = steps,
            BatchTokens = 4096,
            SequenceLength = 512,
            LearningRate = 2e-3f,
            WarmupSteps = 30,
            ValidationInterval = 50,
            CheckpointInterval = 0,
            Seed = seed,
            Structure = JpegScanStructure.Name,
        }, stdout, stderr, cancel.Token);

        // 3. Completions of held-out images (never trained on), their error against the truth next to the trivial
        // fills, and unconditional samples.
        stdout.WriteLine($"[3/4] sampling: {HeldOutPrompts} held-out half-image prompts and unconditional samples (grammar-constrained)");
        string samplesDir = Path.Combine(output, "samples");
        Directory.CreateDirectory(samplesDir);
        new GenerationConfig { Temperature = Temperature }.Save(runPath); // the run samples as the demo did by default
        using IImageGenerator session = ImageGenerators.Open(runPath, device, stderr);
        var options = new SamplingOptions { Temperature = Temperature, TopK = 0, TopP = 1f, MaxNewTokens = session.DefaultMaxTokens, Seed = seed };
        var rows = new List<IReadOnlyList<PixelImage>>();
        int valid = 0, total = 0;
        double[] mae = new double[3]; // model, prompt mean, grey
        for (int p = 0; p < HeldOutPrompts; p++)
        {
            PixelImage original = ImageGenerators.Fit(profile, SyntheticImages.MakeContinuable(32, 32, seed, images + 1000 + p));
            byte[] tokenBytes = session.TokenBytesOf(original);
            PixelImage truth = session.Picture(tokenBytes).ToGray(); // the original after the profile's own round trip
            byte[] prefix = session.PromptOf(tokenBytes, 0.5, out _, out _, out int firstFree);
            int count = p < SheetRows ? 4 : 1;
            IReadOnlyList<JpegSample> samples = session.Complete(prefix, count, options with { Seed = seed + (ulong)p }, constrained: true);
            PixelImage meanFill = FillBelow(truth, firstFree, MeanAbove(truth, firstFree));
            mae[0] += QualityEvaluation.MeanAbsoluteError(samples[0].Image.ToGray(), truth, firstFree);
            mae[1] += QualityEvaluation.MeanAbsoluteError(meanFill, truth, firstFree);
            mae[2] += QualityEvaluation.MeanAbsoluteError(FillBelow(truth, firstFree, 128), truth, firstFree);
            for (int i = 0; i < samples.Count; i++)
            {
                valid += samples[i].Valid ? 1 : 0;
                total++;
                if (p < SheetRows)
                {
                    AtomicFile.WriteAllBytes(Path.Combine(samplesDir, $"prompt{p}-{i}.jpg"), samples[i].File);
                }
            }

            if (p < SheetRows)
            {
                rows.Add([session.Picture(prefix), .. samples.Select(s => s.Image), meanFill, truth]);
            }
        }

        for (int i = 0; i < mae.Length; i++)
        {
            mae[i] /= HeldOutPrompts;
        }

        IReadOnlyList<JpegSample> free = session.Complete([], 8, options with { Seed = seed + 99 }, constrained: true);
        IReadOnlyList<JpegSample> loose = session.Complete([], 8, options with { Seed = seed + 199 }, constrained: false);
        for (int i = 0; i < free.Count; i++)
        {
            AtomicFile.WriteAllBytes(Path.Combine(samplesDir, $"unconditional-{i}.jpg"), free[i].File);
        }

        valid += free.Count(s => s.Valid);
        total += free.Count;
        int looseValid = loose.Count(s => s.Valid);
        int looseCorrupt = loose.Sum(s => s.CorruptPatches), loosePatches = loose.Sum(s => s.Patches);

        // 4. The page.
        stdout.WriteLine("[4/4] writing the report");
        ImageFile.Save(Path.Combine(output, "completions.png"), ContactSheet.Compose(rows, gap: 4, scale: 4));
        ImageFile.Save(Path.Combine(output, "unconditional.png"), ContactSheet.Compose([free.Select(s => s.Image).ToList(), loose.Select(s => s.Image).ToList()], gap: 4, scale: 4));
        File.Copy(Path.Combine(runPath, "loss.png"), Path.Combine(output, "loss.png"), overwrite: true);
        var figures = new DemoFigures(docs, tokens, valid, total, looseValid, loose.Count, looseCorrupt, loosePatches, mae[0], mae[1], mae[2], clock.Elapsed);
        string html = Page(profile, prepared, outcome, figures);
        AtomicFile.WriteAllBytes(Path.Combine(output, "index.html"), Encoding.UTF8.GetBytes(html));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"done in {clock.Elapsed.TotalMinutes:F1} min: loss {outcome.FirstLoss:F3} -> {outcome.LastLoss:F3}; constrained samples valid {valid}/{total}; unconstrained {looseValid}/{loose.Count}"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"completed lower halves of {HeldOutPrompts} held-out images, mean absolute error: model {mae[0]:F1}, prompt-mean fill {mae[1]:F1}, grey fill {mae[2]:F1}"));
        stdout.WriteLine($"open {Path.GetFullPath(Path.Combine(output, "index.html"))}");
        return valid == total ? 0 : 1;
    }

    /// <summary>Held-out prompts whose completions the error is averaged over.</summary>
    internal const int HeldOutPrompts = 24;

    /// <summary>Prompts shown on the page, four completions each.</summary>
    private const int SheetRows = 6;

    /// <summary>The demo's sampling temperature (below 1: the tiny model's most likely continuations).</summary>
    private const float Temperature = 0.7f;

    private static byte MeanAbove(PixelImage image, int row)
    {
        long sum = 0;
        int n = Math.Max(1, row * image.Width);
        for (int i = 0; i < row * image.Width; i++)
        {
            sum += image.Pixels[i];
        }

        return (byte)((sum + (n / 2)) / n);
    }

    private static PixelImage FillBelow(PixelImage image, int row, byte value)
    {
        byte[] pixels = (byte[])image.Pixels.Clone();
        pixels.AsSpan(row * image.Width).Fill(value);
        return new PixelImage(image.Width, image.Height, 1, pixels);
    }

    /// <summary>What the page reports.</summary>
    private sealed record DemoFigures(long Docs, long Tokens, int Valid, int Total, int LooseValid, int LooseTotal, int LooseCorrupt, int LoosePatches,
        double ModelMae, double MeanFillMae, double GreyMae, TimeSpan Elapsed);

    private static string Page(JpegProfile profile, DatasetPreparationResult prepared, TrainingOutcome outcome, DemoFigures f)
    {
        string E(string s) => WebUtility.HtmlEncode(s);
        var inv = CultureInfo.InvariantCulture;
        string verdict = f.ModelMae < f.MeanFillMae ? "beats" : "does not beat";
        return string.Create(inv, $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>JpegLm demo</title>
            <style>body{font-family:sans-serif;max-width:960px;margin:2em auto;line-height:1.4}img{image-rendering:pixelated;max-width:100%}td,th{padding:2px 10px;text-align:left}.good{color:#060}.bad{color:#a00}</style></head>
            <body>
            <h1>JpegLm demo</h1>
            <p>A plain Llama model, trained from scratch for {{f.Elapsed.TotalMinutes:F1}} minutes on {{E(outcome.Backend)}}, writes the bytes of
            JPEG files. Data: {{f.Docs}} synthetic 32x32 images whose lower half follows from the upper half (vertical bars and ramps),
            under profile <code>{{E(profile.Name)}}</code> (quality {{profile.Quality}}, {{E(profile.Subsampling)}}, a restart marker after
            every 8x8 patch, header stripped). Beside each token the model sees where the JPEG parser stands ({{JpegScanStructure.Name}}).</p>
            <h2>Quality</h2>
            <table>
            <tr><th>completed lower halves of {{HeldOutPrompts}} held-out images</th><th>mean absolute error (0–255)</th></tr>
            <tr><td>the model (grammar-constrained, temperature {{Temperature}})</td><td class="{{(f.ModelMae < f.MeanFillMae ? "good" : "bad")}}"><b>{{f.ModelMae:F1}}</b></td></tr>
            <tr><td>trivial baseline: fill with the prompt's mean grey</td><td>{{f.MeanFillMae:F1}}</td></tr>
            <tr><td>fill with mid grey</td><td>{{f.GreyMae:F1}}</td></tr>
            </table>
            <p>The model {{verdict}} the trivial baseline.</p>
            <table>
            <tr><th>JPEG bytes → tokens</th><td>{{prepared.TokenBytes}} → {{f.Tokens}} (vocabulary {{prepared.Vocabulary.Size}}, {{f.Tokens / (double)f.Docs:F0}} tokens per image)</td></tr>
            <tr><th>training</th><td>{{outcome.Steps}} steps, loss {{outcome.FirstLoss:F3}} → {{outcome.LastLoss:F3}} nats/token{{(outcome.LastValidationLoss is float v ? $", validation {v.ToString("F3", inv)}" : "")}}, {{outcome.TokensPerSecond:F0}} tokens/s</td></tr>
            <tr><th>grammar-constrained samples valid</th><td>{{f.Valid}} / {{f.Total}}</td></tr>
            <tr><th>unconstrained samples valid</th><td>{{f.LooseValid}} / {{f.LooseTotal}} (corrupt patches {{f.LooseCorrupt}} / {{f.LoosePatches}})</td></tr>
            </table>
            <h2>Loss</h2><img src="loss.png" alt="loss curve">
            <h2>Half-image completions</h2>
            <p>Each row: the prompt (the first half of the patches; the rest shown grey) | four grammar-constrained completions |
            the trivial baseline (the prompt's mean below) | the original.</p>
            <img src="completions.png" alt="completions">
            <h2>Unconditional samples</h2>
            <p>Top: grammar-constrained. Bottom: unconstrained (corrupt patches decode grey).</p>
            <img src="unconditional.png" alt="unconditional samples">
            <p>The .jpg files are in <code>samples/</code>; the model in <code>run/</code> (Hugging Face layout).</p>
            </body></html>
            """);
    }
}
