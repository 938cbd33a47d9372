using System.Diagnostics;
using System.Globalization;
using JpegLm.Cli.Reporting;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.IO;
using JpegLm.Engine.Sampling;

namespace JpegLm.Cli.Pipeline;

/// <summary>What the sample-quality measure draws.</summary>
internal sealed record QualityRequest
{
    /// <summary>Unconditional samples (default 1,000).</summary>
    public int Samples { get; init; } = 1000;

    /// <summary>Half-image prompts per class: the first this many held-out images of each class (default 20).</summary>
    public int PromptsPerClass { get; init; } = 20;

    /// <summary>Completions drawn per prompt (default 1).</summary>
    public int CompletionsPerPrompt { get; init; } = 1;

    /// <summary>How much of each prompt image is kept (default half).</summary>
    public double PromptRatio { get; init; } = 0.5;

    /// <summary>Sampling settings of the unconditional samples (temperature, top-k/p, seed, token cap).</summary>
    public required SamplingOptions Options { get; init; }

    /// <summary>Sampling settings of the completions; null: <see cref="Options"/>.</summary>
    public SamplingOptions? CompletionOptions { get; init; }

    /// <summary>Grammar-constrained sampling (the default).</summary>
    public bool Constrained { get; init; } = true;

    /// <summary>Where every sample, completion and the two contact sheets are written; null writes nothing.</summary>
    public string? SaveDirectory { get; init; }

    /// <summary>
    /// The token bytes of each held-out document under the run's own profile, in the reference's order (so a JPEG run is
    /// prompted with the exact canonical streams and the pixel baseline with raw pixels); null encodes the reference's
    /// decoded images with the run's profile instead.
    /// </summary>
    public IReadOnlyList<byte[]>? PromptStreams { get; init; }
}

/// <summary>The sample-quality report: a model's rows beside the calibration rows, all at stated n.</summary>
internal sealed record QualityReport(string Reference, int TrainImages, int HeldOutImages, double ClassifierAccuracy,
    IReadOnlyList<QualityFigures> Unconditional, IReadOnlyList<QualityFigures> Completions, IReadOnlyList<double> CompletionMae,
    int SamplesValid, int SamplesDrawn, int Unfinished, double SampleSeconds, double CompletionSeconds,
    SamplingOptions SampleOptions, SamplingOptions CompletionOptions);

/// <summary>
/// The sample-quality measure of <c>jpeglm eval --quality</c>: unconditional samples and half-image completions of a
/// run, measured against a labelled data set's held-out images by <see cref="QualityReference"/>, with the calibration
/// rows printed beside them at the same n — training images (the floor), uniform noise, the prompt with a grey or a
/// mean-filled lower half (the trivial baselines) and the originals (the classifier's own accuracy on the prompts).
/// </summary>
internal static class QualityEvaluation
{
    public static QualityReport Run(IImageGenerator generator, QualityReference reference, QualityRequest request, TextWriter log)
    {
        LabelledImages test = reference.Test, train = reference.Train;
        if (generator.Width != test.Width || generator.Height != test.Height)
        {
            throw new NotSupportedException($"the run makes {generator.Width}x{generator.Height} images; the reference data holds {test.Width}x{test.Height}");
        }

        int n = request.Samples, d = test.PixelsPerImage;
        string? save = request.SaveDirectory;
        if (request.PromptStreams != null && request.PromptStreams.Count != test.Count)
        {
            throw new NotSupportedException($"the run's data holds {request.PromptStreams.Count} held-out documents, the reference {test.Count}: they must be the same images");
        }

        if (save != null)
        {
            Directory.CreateDirectory(Path.Combine(save, "unconditional"));
            Directory.CreateDirectory(Path.Combine(save, "completions"));
        }

        // Unconditional samples.
        var clock = Stopwatch.StartNew();
        var bar = new ConsoleProgress(log, n, "samples");
        IReadOnlyList<JpegSample> samples = n > 0 ? generator.Complete([], n, request.Options, request.Constrained, done => bar.Report(done)) : [];
        double sampleSeconds = clock.Elapsed.TotalSeconds;
        byte[] samplePixels = Flatten(samples.Select(s => s.Image.ToGray()), d);
        var unconditional = new List<QualityFigures>();
        if (n >= 2)
        {
            unconditional.Add(reference.Measure($"model: {(request.Constrained ? "constrained" : "unconstrained")} samples", samplePixels, n));
            var rng = new Random(12345);
            int[] pick = [.. Enumerable.Range(0, train.Count).OrderBy(_ => rng.Next()).Take(n)];
            unconditional.Add(reference.Measure("training images (the floor)", Flatten(pick.Select(train.Picture), d), n));
            byte[] noise = new byte[n * d];
            rng.NextBytes(noise);
            unconditional.Add(reference.Measure("uniform noise", noise, n));
        }

        // Half-image completions of the first prompts of each class.
        clock.Restart();
        var prompts = new List<int>();
        for (int c = 0; c < test.Classes; c++)
        {
            prompts.AddRange(Enumerable.Range(0, test.Count).Where(i => test.Labels[i] == c).Take(request.PromptsPerClass));
        }

        int k = request.CompletionsPerPrompt;
        var completed = new List<PixelImage>();
        var grey = new List<PixelImage>();
        var meanFill = new List<PixelImage>();
        var originals = new List<PixelImage>();
        var expected = new List<byte>();
        var sheetRows = new List<List<PixelImage>>();
        double[] mae = new double[3];
        var promptBar = new ConsoleProgress(log, prompts.Count, "prompts");
        for (int p = 0; p < prompts.Count; p++)
        {
            int index = prompts[p];
            PixelImage original = test.Picture(index);
            byte[] tokenBytes = request.PromptStreams?[index] ?? generator.TokenBytesOf(original);
            byte[] prefix = generator.PromptOf(tokenBytes, request.PromptRatio, out _, out _, out int firstFree);
            SamplingOptions completion = request.CompletionOptions ?? request.Options;
            IReadOnlyList<JpegSample> outs = generator.Complete(prefix, k, completion with { Seed = request.Options.Seed + 7919 + (ulong)p }, request.Constrained);
            PixelImage greyHalf = Filled(original, firstFree, 128);
            PixelImage mean = Filled(original, firstFree, MeanAbove(original, firstFree));
            for (int j = 0; j < outs.Count; j++)
            {
                PixelImage image = outs[j].Image.ToGray();
                completed.Add(image);
                grey.Add(greyHalf);
                meanFill.Add(mean);
                originals.Add(original);
                expected.Add(test.Labels[index]);
                mae[0] += MeanAbsoluteError(image, original, firstFree);
                mae[1] += MeanAbsoluteError(greyHalf, original, firstFree);
                mae[2] += MeanAbsoluteError(mean, original, firstFree);
                if (save != null)
                {
                    AtomicFile.WriteAllBytes(Path.Combine(save, "completions", $"{test.Labels[index]}_{index}-{j}{generator.FileExtension}"), outs[j].File);
                }
            }

            int slot = p % Math.Max(1, request.PromptsPerClass);
            while (sheetRows.Count <= slot)
            {
                sheetRows.Add([]);
            }

            sheetRows[slot].AddRange([generator.Picture(prefix).ToGray(), outs[0].Image.ToGray(), original]);
            promptBar.Report(p + 1);
        }

        double completionSeconds = clock.Elapsed.TotalSeconds;
        var completionRows = new List<QualityFigures>();
        int m = completed.Count;
        if (m >= 2)
        {
            byte[] labels = [.. expected];
            completionRows.Add(reference.Measure("model: completions", Flatten(completed, d), m, labels));
            completionRows.Add(reference.Measure("prompt + grey lower half", Flatten(grey, d), m, labels));
            completionRows.Add(reference.Measure("prompt + mean-grey fill (trivial)", Flatten(meanFill, d), m, labels));
            completionRows.Add(reference.Measure("originals (classifier accuracy)", Flatten(originals, d), m, labels));
        }

        if (save != null)
        {
            for (int i = 0; i < samples.Count; i++)
            {
                AtomicFile.WriteAllBytes(Path.Combine(save, "unconditional", $"{i:D4}{generator.FileExtension}"), samples[i].File);
            }

            int columns = Math.Max(1, (int)Math.Ceiling(Math.Sqrt(samples.Count * 1.6)));
            var grid = samples.Select(s => s.Image.ToGray()).Chunk(columns).Select(r => (IReadOnlyList<PixelImage>)r).ToList();
            if (grid.Count > 0)
            {
                ImageFile.Save(Path.Combine(save, "unconditional-sheet.png"), ContactSheet.Compose(grid, gap: 2, scale: 1));
            }

            if (sheetRows.Count > 0)
            {
                ImageFile.Save(Path.Combine(save, "completions-sheet.png"), ContactSheet.Compose([.. sheetRows.Select(r => (IReadOnlyList<PixelImage>)r)], gap: 2, scale: 1));
            }
        }

        return new QualityReport(reference.Data, train.Count, test.Count, reference.TestAccuracy, unconditional, completionRows,
            m == 0 ? [] : [.. mae.Select(x => x / m)], samples.Count(s => s.Valid), samples.Count, generator.Unfinished, sampleSeconds, completionSeconds,
            request.Options, request.CompletionOptions ?? request.Options);
    }

    private static string Settings(SamplingOptions o) => string.Create(CultureInfo.InvariantCulture,
        $"temperature {o.Temperature:0.###}, top-k {(o.TopK > 0 ? o.TopK.ToString(CultureInfo.InvariantCulture) : "off")}, top-p {o.TopP:0.###}, best of {o.BestOf}");

    /// <summary>The report as a plain-text table.</summary>
    public static void Print(QualityReport r, TextWriter w)
    {
        var inv = CultureInfo.InvariantCulture;
        w.WriteLine(string.Create(inv, $"sample quality against {r.Reference}: classifier (MLP) accuracy {r.ClassifierAccuracy:P1} on {r.HeldOutImages} held-out images; FD/KD in its features vs the held-out set"));
        w.WriteLine(string.Create(inv, $"unconditional: {r.SamplesValid}/{r.SamplesDrawn} valid, {r.SampleSeconds:F0} s ({Settings(r.SampleOptions)}); completions {r.CompletionSeconds:F0} s ({Settings(r.CompletionOptions)})"));
        Table(w, r.Unconditional);
        Table(w, r.Completions);
        if (r.CompletionMae.Count == 3)
        {
            w.WriteLine(string.Create(inv, $"completed rows, mean absolute error to the original: model {r.CompletionMae[0]:F1}, grey {r.CompletionMae[1]:F1}, mean-grey fill {r.CompletionMae[2]:F1}"));
        }
    }

    private static void Table(TextWriter w, IReadOnlyList<QualityFigures> rows)
    {
        if (rows.Count == 0)
        {
            return;
        }

        w.WriteLine("  set                                       n    FD-clf   KD-clf x1e3  conf  H(mean) bits  class match  NN/test-NN  near copies");
        foreach (QualityFigures f in rows)
        {
            w.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {f.Name,-38} {f.Count,5}  {f.Frechet,8:F2}  {f.Kernel,10:F2}  {f.MeanConfidence,5:F3}  {f.ClassEntropy,12:F3}  {(f.ClassMatch is double c ? c.ToString("P1", CultureInfo.InvariantCulture) : "-"),11}  {f.NearestRatio,10:F3}  {f.NearCopies,11:P1}"));
        }
    }

    private static byte[] Flatten(IEnumerable<PixelImage> images, int pixelsPerImage)
    {
        var all = new List<byte>();
        foreach (PixelImage image in images)
        {
            if (image.Pixels.Length != pixelsPerImage)
            {
                throw new InvalidOperationException($"an image of {image.Pixels.Length} pixels among images of {pixelsPerImage}");
            }

            all.AddRange(image.Pixels);
        }

        return [.. all];
    }

    private static byte MeanAbove(PixelImage image, int row)
    {
        long sum = 0;
        int count = Math.Max(1, row * image.Width);
        for (int i = 0; i < row * image.Width; i++)
        {
            sum += image.Pixels[i];
        }

        return (byte)((sum + (count / 2)) / count);
    }

    private static PixelImage Filled(PixelImage image, int firstRow, byte value)
    {
        byte[] pixels = (byte[])image.Pixels.Clone();
        pixels.AsSpan(firstRow * image.Width).Fill(value);
        return new PixelImage(image.Width, image.Height, 1, pixels);
    }

    /// <summary>Mean absolute pixel error over rows <paramref name="firstRow"/> and below.</summary>
    public static double MeanAbsoluteError(PixelImage a, PixelImage b, int firstRow)
    {
        long sum = 0;
        int start = firstRow * a.Width, count = a.Pixels.Length - start;
        for (int i = start; i < a.Pixels.Length; i++)
        {
            sum += Math.Abs(a.Pixels[i] - b.Pixels[i]);
        }

        return count == 0 ? 0 : (double)sum / count;
    }
}
