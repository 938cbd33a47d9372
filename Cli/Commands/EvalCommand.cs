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
internal sealed class EvalCommand : ICliCommand
{
    public string Name => "eval";

    public string Summary => "measure a run: bits/byte, sample validity, completion PSNR/SSIM";

    public string Usage => """
        jpeglm eval --model RUN --data DATA [--samples N] [--json] [options]
          --samples N        samples drawn constrained and unconstrained, and prompts completed (default 16)
          --max-docs N       validation documents scored (default 500)
          --prompt-ratio R   prompt length for completions, in patches (default 0.5)
          --seed S           sampling seed (default 1); --top-p P (default 1.0); --device auto|cpu|cuda
        --json prints {"bitsPerByte":..,"bitsPerImage":..,"unigramBitsPerByte":..,"constrained":{"valid":..,"count":..},
        "unconstrained":{"valid":..,"count":..,"corruptPatchesPerImage":..},"completion":{"psnr":..,"ssim":..},...}
        Example: jpeglm eval --model runs/fmnist --data data/fmnist --samples 200 --json
        """;

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = new CliArgs(args, "json");
        string model = a.Required("model");
        string data = a.Required("data");
        int samples = a.Int("samples", 16, 0, 100_000);
        int maxDocs = a.Int("max-docs", 500, 1);
        double ratio = a.Double("prompt-ratio", 0.5, 0, 1);
        ulong seed = (ulong)a.Long("seed", 1, 0);
        float topP = (float)a.Double("top-p", 1.0, 1e-6, 1);
        string device = a.String("device") ?? "auto";
        bool json = a.Flag("json");
        a.EnsureAllUsed(0);

        if (new RunFolder(model).IsVideo)
        {
            return VideoEvaluation.Run(model, data, samples, maxDocs, ratio, seed, topP, device, json, stdout, stderr);
        }

        using var session = new JpegSamplingSession(model, device, stderr);
        ValidationResult v = ScoreValidation(session.Model, session.Vocabulary, session.Profile, data, maxDocs);
        (long docs, long scoredTokens, double bitsPerByte, double bitsPerImage, double unigram, List<int[]> valDocs) =
            (v.Documents, v.ScoredTokens, v.BitsPerByte, v.BitsPerDocument, v.UnigramBitsPerByte, v.Docs);

        // Samples: constrained and unconstrained, unconditional.
        var options = new SamplingOptions { TopP = topP, MaxNewTokens = session.DefaultMaxTokens, Seed = seed };
        IReadOnlyList<JpegSample> constrained = samples > 0 ? session.Complete([], samples, options, constrained: true) : [];
        IReadOnlyList<JpegSample> free = samples > 0 ? session.Complete([], samples, options with { Seed = seed + 1 }, constrained: false) : [];

        // Prompted completions of validation images.
        double psnr = 0, ssim = 0;
        int completions = 0;
        foreach (int[] doc in valDocs.Take(samples))
        {
            byte[] tokenBytes = session.Vocabulary.Decode([.. doc.Where(t => !BpeVocabulary.IsSpecial(t))]);
            PixelImage original = session.Picture(tokenBytes);
            byte[] prefix = JpegTokenStreams.PromptPrefix(session.Profile, tokenBytes, ratio, out int promptPatches, out _);
            JpegSample s = session.Complete(prefix, 1, options with { Seed = seed + 7 + (ulong)completions }, constrained: true)[0];
            int mcuHeight = session.Profile.Subsampling == JpegProfile.Yuv420 ? 16 : 8;
            int mcuWidth = mcuHeight;
            int mcusPerRow = (session.Profile.Width + mcuWidth - 1) / mcuWidth;
            int firstRow = Math.Min(session.Profile.Height - 1, (promptPatches * session.Profile.RestartInterval + mcusPerRow - 1) / mcusPerRow * mcuHeight);
            int h = session.Profile.Height - firstRow;
            psnr += Math.Min(99, ImageMetrics.Psnr(original, s.Image, 0, firstRow, original.Width, h));
            ssim += ImageMetrics.Ssim(original, s.Image, 0, firstRow, original.Width, h);
            completions++;
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
        };
        if (json)
        {
            stdout.WriteLine(JsonSerializer.Serialize(report));
        }
        else
        {
            var inv = CultureInfo.InvariantCulture;
            stdout.WriteLine(string.Create(inv, $"validation: {bitsPerByte:F3} bits/byte ({bitsPerImage:F0} bits/image) over {docs} images; byte-unigram baseline {unigram:F3} bits/byte"));
            stdout.WriteLine($"constrained samples valid: {report.constrained.valid}/{report.constrained.count} (unfinished at the token cap, completions included: {session.Unfinished})");
            stdout.WriteLine(string.Create(inv, $"unconstrained samples valid: {report.unconstrained.valid}/{report.unconstrained.count}, corrupt patches per image {report.unconstrained.corruptPatchesPerImage:F2} of {report.unconstrained.patchesPerImage:F0}"));
            stdout.WriteLine(string.Create(inv, $"completions ({completions}, prompt {ratio:P0} of patches): PSNR {report.completion.psnr:F2} dB, SSIM {report.completion.ssim:F3} on the completed rows"));
        }

        return 0;
    }

    /// <summary>Validation loss of a run on a data set's val.tok: per byte, per document, and the unigram baseline.</summary>
    internal static ValidationResult ScoreValidation(LlamaModel model, BpeVocabulary vocabulary, CodecProfile profile, string data, int maxDocs)
    {
        string valPath = Path.Combine(data, "val.tok"), trainPath = Path.Combine(data, "train.tok");
        using var val = TokenShardReader.Open(valPath, vocabulary.ContentHash(), profile.ContentHash());
        double nats = 0;
        long bytes = 0, docs = 0, scoredTokens = 0;
        var valDocs = new List<int[]>();
        foreach ((long start, long length) in val.Documents())
        {
            if (docs >= maxDocs)
            {
                break;
            }

            int[] doc = new int[Math.Min(length, model.Config.MaxPositionEmbeddings)];
            val.CopyTokens(start, doc);
            valDocs.Add(doc);
            ScoreResult score = Scorer.Score(model, doc);
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
