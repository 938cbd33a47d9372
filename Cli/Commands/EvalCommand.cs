using System.CommandLine;
using System.Globalization;
using JpegLm.Cli.Pipeline;
using JpegLm.Cli.Reporting;
using JpegLm.Codec.Imaging;
using JpegLm.Codec.Tokens;
using JpegLm.Engine.Model;
using JpegLm.Engine.Sampling;
using JpegLm.Engine.Training;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm eval</c>: validation loss in bits per byte and per image (next to a byte-unigram baseline),
/// validity of constrained and unconstrained samples, and PSNR/SSIM of prompted completions.
/// </summary>
internal sealed class EvalCommand : CliCommand
{
    private readonly Option<string> _model = CliOptions.Required("--model", "RUN", "the run folder written by jpeglm train");
    private readonly Option<string> _data = CliOptions.Required("--data", "DATA", "the prepared data set (its val.tok is scored)");
    private readonly Option<int> _samples = CliOptions.Number("--samples", 16, 0, 100_000, "samples drawn constrained and unconstrained, and prompts completed");
    private readonly Option<int> _maxDocs = CliOptions.Number("--max-docs", 500, 1, int.MaxValue, "validation documents scored");
    private readonly Option<double> _promptRatio = CliOptions.Number("--prompt-ratio", 0.5, 0, 1, "prompt length for completions, as a fraction of the patches (frames for video)", "R");
    private readonly Option<ulong> _seed = CliOptions.Number("--seed", 1UL, 0UL, ulong.MaxValue, "sampling seed", "S");
    private readonly SamplingFlags _sampling = new();
    private readonly Option<string> _device = CliOptions.Device();
    private readonly Option<bool> _json = CliOptions.Flag("--json", "print the report as one JSON object");
    private readonly Option<bool> _quality = CliOptions.Flag("--quality",
        "also measure sample quality against a labelled data set (Fashion-MNIST prepared by jpeglm prepare): a classifier trained on its training images (cached there) gives FD/KD-classifier of unconditional samples against the held-out images, class confidence and diversity, a nearest-neighbour memorisation check, and the class of completions of the first --per-class held-out images of each class; calibration rows (training images, noise, grey and mean-filled lower halves, originals) sit beside them");
    private readonly Option<int> _qualitySamples = CliOptions.Number("--quality-samples", 1000, 0, 1_000_000, "unconditional samples for --quality (0: completions only)");
    private readonly Option<int> _perClass = CliOptions.Number("--per-class", 20, 0, 10_000, "half-image prompts per class for --quality");
    private readonly Option<string?> _reference = CliOptions.Text("--reference", "DIR", "the labelled data set whose classifier and held-out images are the --quality yardstick (default: --data; give one yardstick to compare runs with different profiles)");
    private readonly Option<string?> _save = CliOptions.Text("--save", "DIR", "write every --quality sample and completion, and their contact sheets, to DIR");

    public EvalCommand()
        : base("eval", "measure a run: bits/byte, sample validity, completion PSNR/SSIM, and with --quality classifier FD/KD", """
            --json prints {"bitsPerByte":..,"bitsPerImage":..,"unigramBitsPerByte":..,"constrained":{"valid":..,"count":..},
            "unconstrained":{"valid":..,"count":..,"corruptPatchesPerImage":..},"completion":{"psnr":..,"ssim":..},...}
            (video runs: bitsPerVideo, corruptSlicesPerVideo, luma PSNR/SSIM of the generated frames).

            Example:
              jpeglm eval --model runs/fmnist --data data/fmnist --samples 200 --json
              jpeglm eval --model runs/fmnist --data data/fmnist --samples 0 --quality --save quality/
            """)
    {
        Add([_model, _data, _samples, _maxDocs, _promptRatio, _seed, .. _sampling.Options, _device, _json, _quality, _qualitySamples, _perClass, _reference, _save]);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        string model = parsed.Value(_model);
        string data = parsed.Value(_data);
        int samples = parsed.Value(_samples);
        int maxDocs = parsed.Value(_maxDocs);
        double ratio = parsed.Value(_promptRatio);
        ulong seed = parsed.Value(_seed);
        string device = parsed.Value(_device);
        bool json = parsed.Value(_json);

        SamplingOptions options = _sampling.Resolve(parsed, model, seed, prompted: false);
        if (new RunFolder(model).IsVideo)
        {
            return VideoEvaluation.Run(model, data, samples, maxDocs, ratio, options, device, json, stdout, stderr);
        }

        using IImageGenerator session = ImageGenerators.Open(model, device, stderr);
        ValidationResult v = ScoreValidation(session.Model, session.Vocabulary, session.Profile, data, maxDocs);

        // Samples: constrained and unconstrained, unconditional.
        options = options with { MaxNewTokens = session.DefaultMaxTokens };
        SamplingOptions completionOptions = _sampling.Resolve(parsed, model, seed, prompted: true) with { MaxNewTokens = session.DefaultMaxTokens };
        IReadOnlyList<JpegSample> constrained = samples > 0 ? session.Complete([], samples, options, constrained: true) : [];
        IReadOnlyList<JpegSample> free = samples > 0 ? session.Complete([], samples, options with { Seed = seed + 1 }, constrained: false) : [];

        // Prompted completions of validation images.
        double psnr = 0, ssim = 0;
        int completions = 0;
        foreach (int[] doc in v.Docs.Take(samples))
        {
            byte[] tokenBytes = session.Vocabulary.Decode([.. doc.Where(t => !BpeVocabulary.IsSpecial(t))]);
            PixelImage original = session.Picture(tokenBytes);
            byte[] prefix = session.PromptOf(tokenBytes, ratio, out _, out _, out int firstRow);
            JpegSample s = session.Complete(prefix, 1, completionOptions with { Seed = seed + 7 + (ulong)completions }, constrained: true)[0];
            firstRow = Math.Min(session.Height - 1, firstRow);
            int h = session.Height - firstRow;
            psnr += Math.Min(99, ImageMetrics.Psnr(original, s.Image, 0, firstRow, original.Width, h));
            ssim += ImageMetrics.Ssim(original, s.Image, 0, firstRow, original.Width, h);
            completions++;
        }

        // Probability the model puts on tokens the grammar forbids, by position kind (JPEG runs).
        IReadOnlyDictionary<ScanPositionKind, (double Mass, long Positions)>? forbidden = session.Profile is JpegProfile jpegProfile
            ? GrammarDiagnostics.ForbiddenMass(session.Model, jpegProfile, session.Vocabulary, [.. v.Docs.Take(200)])
            : null;

        QualityReport? qualityReport = null;
        if (parsed.Value(_quality))
        {
            string reference = parsed.GetValue(_reference) ?? data;
            qualityReport = QualityEvaluation.Run(session, QualityReference.Load(reference, stderr), new QualityRequest
            {
                Samples = parsed.Value(_qualitySamples),
                PromptsPerClass = parsed.Value(_perClass),
                PromptRatio = ratio,
                Options = options,
                CompletionOptions = completionOptions,
                SaveDirectory = parsed.GetValue(_save),
                PromptStreams = HeldOutStreams(data, reference, session),
            }, stderr);
        }

        var inv = CultureInfo.InvariantCulture;
        var report = new EvalReport(model, data, null, v, "image", "patches", constrained, free, session.Unfinished);
        var completion = new CompletionSummary(completions, ratio, null, completions == 0 ? 0 : psnr / completions, completions == 0 ? 0 : ssim / completions);
        report.Add("completion", completion, samples == 0 ? null : w => w.WriteLine(string.Create(inv,
            $"completions ({completions}, prompt {ratio:P0} of patches): PSNR {completion.Psnr:F2} dB, SSIM {completion.Ssim:F3} on the completed rows")));
        report.Add("forbiddenMass", forbidden?.ToDictionary(kv => kv.Key.ToString(), kv => new ForbiddenMassEntry(kv.Value.Mass, kv.Value.Positions)),
            forbidden == null ? null : w => w.WriteLine("probability on tokens the grammar forbids (teacher-forced, held-out): " + string.Join(", ",
                forbidden.OrderBy(kv => kv.Key).Select(kv => string.Create(inv, $"{kv.Key} {kv.Value.Mass:P2} ({kv.Value.Positions} positions)")))));
        report.Add("quality", qualityReport, qualityReport == null ? null : w => QualityEvaluation.Print(qualityReport, w));
        report.Write(stdout, json);
        return 0;
    }

    /// <summary>
    /// The token bytes of every held-out document, under the run's profile, for prompting: from the reference folder
    /// when it was prepared under the run's profile (so runs with different tokenizers get the same prompt bytes), else
    /// from the run's own data folder (the pixel baseline measured against the JPEG reference).
    /// </summary>
    private static List<byte[]> HeldOutStreams(string data, string reference, IImageGenerator session)
    {
        ulong profileHash = session.Profile.ContentHash();
        string folder = CodecProfile.Load(Path.Combine(reference, "profile.json")).ContentHash() == profileHash ? reference : data;
        BpeVocabulary vocabulary = BpeVocabulary.Load(Path.Combine(folder, "vocab.json"));
        using var val = TokenShardReader.Open(Path.Combine(folder, "val.tok"), vocabulary.ContentHash(), profileHash);
        var streams = new List<byte[]>();
        foreach ((long start, long length) in val.Documents())
        {
            int[] doc = new int[length];
            val.CopyTokens(start, doc);
            streams.Add(vocabulary.Decode([.. doc.Where(t => !BpeVocabulary.IsSpecial(t))]));
        }

        return streams;
    }

    /// <summary>Validation loss of a run on a data set's val.tok: per byte, per document, and the unigram baseline.</summary>
    internal static ValidationResult ScoreValidation(LlamaModel model, BpeVocabulary vocabulary, CodecProfile profile, string data, int maxDocs)
    {
        string valPath = Path.Combine(data, "val.tok"), trainPath = Path.Combine(data, "train.tok");
        using var val = TokenShardReader.Open(valPath, vocabulary.ContentHash(), profile.ContentHash());
        double nats = 0;
        long bytes = 0, docs = 0, scoredTokens = 0;
        var valDocs = new List<int[]>();
        Func<ITokenAnnotator>? annotators = TokenAnnotators.For(model.Config, profile, vocabulary);
        foreach ((long start, long length) in val.Documents())
        {
            if (docs >= maxDocs)
            {
                break;
            }

            int[] doc = new int[Math.Min(length, model.Config.MaxPositionEmbeddings)];
            val.CopyTokens(start, doc);
            valDocs.Add(doc);
            ScoreResult score = Scorer.Score(model, doc, annotators?.Invoke());
            nats += score.MeanNll * score.LogProbs.Length;
            scoredTokens += score.LogProbs.Length;
            bytes += vocabulary.Decode([.. doc.Where(t => !BpeVocabulary.IsSpecial(t))]).Length;
            docs++;
        }

        double unigram = File.Exists(trainPath) ? UnigramBitsPerByte(trainPath, valDocs, vocabulary) : double.NaN;
        return new ValidationResult(docs, scoredTokens, nats / Math.Log(2) / Math.Max(1, bytes), nats / Math.Log(2) / Math.Max(1, docs), unigram, valDocs);
    }

    /// <summary>Cross-entropy of the validation bytes under the training bytes' unigram distribution (add-one smoothed).</summary>
    internal static double UnigramBitsPerByte(string trainPath, List<int[]> valDocs, BpeVocabulary vocabulary)
    {
        using var train = TokenShardReader.Open(trainPath);
        var counts = new long[256];
        int[] buffer = new int[1 << 16];
        for (long pos = 0; pos < train.TokenCount; pos += buffer.Length)
        {
            int n = (int)Math.Min(buffer.Length, train.TokenCount - pos);
            train.CopyTokens(pos, buffer.AsSpan(0, n));
            foreach (int t in buffer.AsSpan(0, n))
            {
                if (!BpeVocabulary.IsSpecial(t) && t < vocabulary.Size)
                {
                    foreach (byte b in vocabulary.TokenBytes(t))
                    {
                        counts[b]++;
                    }
                }
            }
        }

        double total = counts.Sum() + 256;
        double bits = 0;
        long n2 = 0;
        foreach (int[] doc in valDocs)
        {
            foreach (byte b in vocabulary.Decode([.. doc.Where(t => !BpeVocabulary.IsSpecial(t))]))
            {
                bits -= Math.Log2((counts[b] + 1) / total);
                n2++;
            }
        }

        return bits / Math.Max(1, n2);
    }
}

/// <summary>Validation loss figures (see <see cref="EvalCommand.ScoreValidation"/>); <c>Docs</c> holds the scored documents' tokens.</summary>
internal sealed record ValidationResult(long Documents, long ScoredTokens, double BitsPerByte, double BitsPerDocument, double UnigramBitsPerByte, List<int[]> Docs);
