using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using JpegLm.Cli.Pipeline;
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
    private readonly Option<float> _temperature = CliOptions.Number("--temperature", 1f, 0f, 100f, "softmax temperature, 0 greedy (default: the run's generation_config.json, else 1)", "T");
    private readonly Option<int> _topK = CliOptions.Number("--top-k", 0, 0, int.MaxValue, "keep the K most likely tokens, 0 all (default: the run's generation_config.json, else 0)", "K");
    private readonly Option<int> _bestOf = CliOptions.Number("--best-of", 1, 1, 1024, "draw N candidates per sample and keep the one the model finds most likely (default: the run's generation_config.json, else 1)", "N");
    private readonly Option<float> _topP = CliOptions.Number("--top-p", 1f, 1e-6f, 1f, "nucleus sampling, 1 all (default: the run's generation_config.json, else 1)", "P");
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
        Add(_model, _data, _samples, _maxDocs, _promptRatio, _seed, _temperature, _topK, _topP, _bestOf, _device, _json, _quality, _qualitySamples, _perClass, _reference, _save);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        string model = parsed.Value(_model);
        string data = parsed.Value(_data);
        int samples = parsed.Value(_samples);
        int maxDocs = parsed.Value(_maxDocs);
        double ratio = parsed.Value(_promptRatio);
        ulong seed = parsed.Value(_seed);
        float temperature = parsed.Value(_temperature);
        int topK = parsed.Value(_topK);
        float topP = parsed.Value(_topP);
        string device = parsed.Value(_device);
        bool json = parsed.Value(_json);
        bool quality = parsed.Value(_quality);
        int qualitySamples = parsed.Value(_qualitySamples);
        int perClass = parsed.Value(_perClass);
        string reference = parsed.GetValue(_reference) ?? data;
        string? save = parsed.GetValue(_save);

        if (new RunFolder(model).IsVideo)
        {
            return VideoEvaluation.Run(model, data, samples, maxDocs, ratio, seed, topP, device, json, stdout, stderr);
        }

        using IImageGenerator session = ImageGenerators.Open(model, device, stderr);
        ValidationResult v = ScoreValidation(session.Model, session.Vocabulary, session.Profile, data, maxDocs);
        (long docs, long scoredTokens, double bitsPerByte, double bitsPerImage, double unigram, List<int[]> valDocs) =
            (v.Documents, v.ScoredTokens, v.BitsPerByte, v.BitsPerDocument, v.UnigramBitsPerByte, v.Docs);

        // Samples: constrained and unconstrained, unconditional.
        // The run's generation_config.json gives the defaults; options given here win.
        GenerationConfig generation = GenerationConfig.Load(model);
        SamplingOptions Given(bool prompted) => generation.Resolve(prompted, parsed.IsGiven(_temperature) ? temperature : null,
            parsed.IsGiven(_topK) ? topK : null, parsed.IsGiven(_topP) ? topP : null, parsed.IsGiven(_bestOf) ? parsed.Value(_bestOf) : null)
            with { MaxNewTokens = session.DefaultMaxTokens, Seed = seed };
        SamplingOptions options = Given(prompted: false), completionOptions = Given(prompted: true);
        IReadOnlyList<JpegSample> constrained = samples > 0 ? session.Complete([], samples, options, constrained: true) : [];
        IReadOnlyList<JpegSample> free = samples > 0 ? session.Complete([], samples, options with { Seed = seed + 1 }, constrained: false) : [];

        // Prompted completions of validation images.
        double psnr = 0, ssim = 0;
        int completions = 0;
        foreach (int[] doc in valDocs.Take(samples))
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
            ? GrammarDiagnostics.ForbiddenMass(session.Model, jpegProfile, session.Vocabulary, [.. valDocs.Take(200)])
            : null;

        QualityReport? qualityReport = null;
        if (quality)
        {
            var yardstick = QualityReference.Load(reference, stderr);
            qualityReport = QualityEvaluation.Run(session, yardstick, new QualityRequest
            {
                Samples = qualitySamples,
                PromptsPerClass = perClass,
                PromptRatio = ratio,
                Options = options,
                CompletionOptions = completionOptions,
                SaveDirectory = save,
                PromptStreams = HeldOutStreams(data, reference, session),
            }, stderr);
        }

        var report = new
        {
            model,
            data,
            validationDocuments = docs,
            scoredTokens,
            bitsPerByte,
            bitsPerImage,
            unigramBitsPerByte = unigram,
            constrained = new { valid = constrained.Count(x => x.Valid), count = constrained.Count, unfinished = session.Unfinished },
            unconstrained = new
            {
                valid = free.Count(x => x.Valid),
                count = free.Count,
                corruptPatchesPerImage = free.Count == 0 ? 0 : free.Average(x => x.CorruptPatches),
                patchesPerImage = free.Count == 0 ? 0 : free.Average(x => x.Patches),
            },
            completion = new { count = completions, promptRatio = ratio, psnr = completions == 0 ? 0 : psnr / completions, ssim = completions == 0 ? 0 : ssim / completions },
            forbiddenMass = forbidden?.ToDictionary(kv => kv.Key.ToString(), kv => new { mass = kv.Value.Mass, positions = kv.Value.Positions }),
            quality = qualityReport,
        };
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(report));
        }
        else
        {
            var inv = CultureInfo.InvariantCulture;
            stdout.WriteLine(string.Create(inv, $"validation: {bitsPerByte:F3} bits/byte ({bitsPerImage:F0} bits/image) over {docs} images; byte-unigram baseline {unigram:F3} bits/byte"));
            if (samples > 0)
            {
                stdout.WriteLine($"constrained samples valid: {report.constrained.valid}/{report.constrained.count} (unfinished at the token cap, completions included: {session.Unfinished})");
                stdout.WriteLine(string.Create(inv, $"unconstrained samples valid: {report.unconstrained.valid}/{report.unconstrained.count}, corrupt patches per image {report.unconstrained.corruptPatchesPerImage:F2} of {report.unconstrained.patchesPerImage:F0}"));
                stdout.WriteLine(string.Create(inv, $"completions ({completions}, prompt {ratio:P0} of patches): PSNR {report.completion.psnr:F2} dB, SSIM {report.completion.ssim:F3} on the completed rows"));
            }

            if (forbidden != null)
            {
                stdout.WriteLine("probability on tokens the grammar forbids (teacher-forced, held-out): " + string.Join(", ",
                    forbidden.OrderBy(kv => kv.Key).Select(kv => string.Create(inv, $"{kv.Key} {kv.Value.Mass:P2} ({kv.Value.Positions} positions)"))));
            }

            if (qualityReport != null)
            {
                QualityEvaluation.Print(qualityReport, stdout);
            }
        }

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
