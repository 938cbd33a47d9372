using System.Globalization;
using System.Text;
using JpegLm.Cli.Reporting;
using JpegLm.Codec.IO;
using JpegLm.Codec.Tokens;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Model;
using JpegLm.Engine.Sampling;
using JpegLm.Engine.Training;

namespace JpegLm.Cli.Pipeline;

/// <summary>Everything <c>jpeglm train</c> (and the demo) decides before training starts.</summary>
internal sealed record TrainingRequest
{
    public required string Data { get; init; }

    public required string ModelConfig { get; init; }

    public required string Out { get; init; }

    public string Device { get; init; } = "auto";

    public int Steps { get; init; } = 1000;

    public int BatchTokens { get; init; } = 8192;

    public int SequenceLength { get; init; } = 1024;

    public float LearningRate { get; init; } = 3e-4f;

    public int WarmupSteps { get; init; } = 100;

    public int ValidationInterval { get; init; } = 50;

    public int CheckpointInterval { get; init; } = 200;

    public bool Resume { get; init; }

    /// <summary>A structure scheme (e.g. <c>jpeg-scan-v1</c>) whose per-token fields the new model embeds; null for a plain Llama.</summary>
    public string? Structure { get; init; }

    public ulong Seed { get; init; } = 1337;
}

/// <summary>What a finished (or interrupted) training run reports.</summary>
internal sealed record TrainingOutcome(int Steps, float FirstLoss, float LastLoss, float? LastValidationLoss, double TokensPerSecond, bool Interrupted, string Backend);

/// <summary>
/// Runs training from token shards into a run folder: progress with loss, tokens/s and ETA; validation loss;
/// checkpoints (HF layout + trainer state, atomically) every few hundred steps and at the end or on Ctrl-C;
/// <c>loss.csv</c> and a <c>loss.png</c> redrawn as training goes. <c>--resume</c> continues exactly.
/// </summary>
internal static class TrainingRun
{
    public static TrainingOutcome Execute(TrainingRequest request, TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        var run = new RunFolder(request.Out);
        string profilePath = Path.Combine(request.Data, "profile.json"), vocabPath = Path.Combine(request.Data, "vocab.json");
        CodecProfile profile = CodecProfile.Load(profilePath);
        BpeVocabulary vocabulary = BpeVocabulary.Load(vocabPath);
        using var train = new ShardTokenSource(Path.Combine(request.Data, "train.tok"), vocabulary.ContentHash(), profile.ContentHash());
        string valPath = Path.Combine(request.Data, "val.tok");
        using ShardTokenSource? validation = File.Exists(valPath) ? new ShardTokenSource(valPath, vocabulary.ContentHash(), profile.ContentHash()) : null;

        Directory.CreateDirectory(run.Path);
        if (request.Resume && !run.HasModel)
        {
            throw new UsageException($"--resume: {run.Path} holds no checkpoint to resume");
        }

        LlamaConfig config = request.Resume
            ? LlamaConfig.Load(Path.Combine(run.Path, HfCheckpoint.ConfigFile))
            : ModelPresets.Resolve(request.ModelConfig, vocabulary.Size, BpeVocabulary.Bos, BpeVocabulary.Eos, request.SequenceLength);
        if (request.Structure != null && !request.Resume)
        {
            config = config with { Structure = request.Structure, StructureFields = [.. TokenAnnotators.FieldSizes(request.Structure, profile)] };
        }
        int seq = Math.Min(request.SequenceLength, config.MaxPositionEmbeddings);
        if (train.Length < seq + 1)
        {
            throw new UsageException($"train.tok holds {train.Length} tokens, fewer than one sequence of --context {seq} + 1: prepare more data or lower --context");
        }

        ShardTokenSource? validationSource = validation;
        if (validation != null && validation.Length < seq + 1)
        {
            stderr.WriteLine($"note: val.tok holds {validation.Length} tokens, fewer than one sequence of {seq} + 1; validation loss is skipped (raise --val-fraction or lower --context)");
            validationSource = null;
        }
        if (train.Length < seq + 1)
        {
            seq = (int)Math.Max(8, train.Length - 1);
        }

        int batch = Math.Max(1, request.BatchTokens / seq);
        File.Copy(profilePath, run.ProfileFile, overwrite: true);
        File.Copy(vocabPath, run.VocabularyFile, overwrite: true);

        using IKernels kernels = Backends.Open(request.Device, stderr); // disposed before anything samples (frees a GPU context)
        using var model = new LlamaModel(config, kernels);
        model.InitializeWeights(request.Seed);
        var options = new TrainerOptions
        {
            BatchSize = batch,
            SequenceLength = seq,
            MaxSteps = request.Steps,
            LearningRate = request.LearningRate,
            MinLearningRate = request.LearningRate / 10,
            WarmupSteps = Math.Min(request.WarmupSteps, Math.Max(1, request.Steps / 10)),
            ValidationInterval = validationSource != null ? request.ValidationInterval : 0,
            ValidationBatches = 2,
            Seed = request.Seed,
        };
        // A model with structure fields sees, beside each token, where the codec's parser stands after it.
        Func<JpegLm.Engine.Sampling.ITokenAnnotator>? annotators = TokenAnnotators.For(config, profile, vocabulary);
        TokenStructure? trainStructure = annotators == null ? null : TokenStructure.Annotate(train, annotators, BpeVocabulary.Bos);
        TokenStructure? validationStructure = annotators == null || validationSource == null ? null : TokenStructure.Annotate(validationSource, annotators, BpeVocabulary.Bos);
        using var trainer = new Trainer(model, options, train, validationSource, trainStructure, validationStructure);
        var curve = new LossCurve();
        var csv = new StringBuilder("step,loss,lr,grad_norm,tokens_per_s,val_loss\n");
        if (request.Resume)
        {
            trainer.Resume(run.Path);
            if (File.Exists(run.LossCsv))
            {
                csv.Clear();
                foreach (string line in File.ReadLines(run.LossCsv))
                {
                    string[] f = line.Split(',');
                    if (f.Length >= 6 && int.TryParse(f[0], CultureInfo.InvariantCulture, out int s) && s <= trainer.Step)
                    {
                        curve.AddTrain(s, double.Parse(f[1], CultureInfo.InvariantCulture));
                        if (f[5].Length > 0)
                        {
                            curve.AddValidation(s, double.Parse(f[5], CultureInfo.InvariantCulture));
                        }
                    }

                    if (csv.Length == 0 || (f.Length >= 6 && int.TryParse(f[0], CultureInfo.InvariantCulture, out int s2) && s2 <= trainer.Step))
                    {
                        csv.Append(line).Append('\n');
                    }
                }
            }

            stdout.WriteLine($"resumed {run.Path} at step {trainer.Step}");
        }

        long parameters = model.Layout.Length;
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training {parameters / 1e6:F2}M parameters ({config.NumHiddenLayers} x {config.HiddenSize}, vocab {config.VocabSize}{(config.Structure != null ? $", structure {config.Structure}" : "")}) on {kernels.Name}: batch {batch} x {seq} tokens, {request.Steps} steps, lr {request.LearningRate}; {train.Length} train tokens"));
        var bar = new ConsoleProgress(stderr, request.Steps, "steps");
        float first = float.NaN, last = float.NaN;
        float? lastVal = null;
        double tokensPerSecond = 0;
        bool interrupted = false;
        while (trainer.Step < request.Steps)
        {
            if (cancel.IsCancellationRequested)
            {
                interrupted = true;
                break;
            }

            TrainingRecord r = trainer.TrainStep();
            if (float.IsNaN(first))
            {
                first = r.Loss;
            }

            last = r.Loss;
            tokensPerSecond = r.TokensPerSecond;
            curve.AddTrain(r.Step, r.Loss);
            if (r.ValidationLoss is float v)
            {
                lastVal = v;
                curve.AddValidation(r.Step, v);
            }

            csv.Append(string.Create(CultureInfo.InvariantCulture, $"{r.Step},{r.Loss:G6},{r.LearningRate:G4},{r.GradientNorm:G4},{r.TokensPerSecond:F0},{(r.ValidationLoss is float vl ? vl.ToString("G6", CultureInfo.InvariantCulture) : "")}\n"));
            bar.Report(r.Step, string.Create(CultureInfo.InvariantCulture, $"loss {r.Loss:F4}{(lastVal is float lv ? $" val {lv:F4}" : "")}  {r.TokensPerSecond:F0} tok/s"));
            if (request.CheckpointInterval > 0 && r.Step % request.CheckpointInterval == 0 && r.Step < request.Steps)
            {
                Save(trainer, run, curve, csv);
            }
            else if (r.ValidationLoss != null || r.Step % 50 == 0)
            {
                // Keep the picture current between checkpoints (rendering costs milliseconds).
                curve.Save(run.LossPng, "JpegLm training loss");
            }
        }

        Save(trainer, run, curve, csv);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{(interrupted ? "interrupted" : "finished")} at step {trainer.Step}: loss {last:F4}{(lastVal is float fv ? $", validation {fv:F4}" : "")} nats/token; checkpoint in {run.Path}"));
        return new TrainingOutcome(trainer.Step, first, last, lastVal, tokensPerSecond, interrupted, kernels.Name);
    }

    private static void Save(Trainer trainer, RunFolder run, LossCurve curve, StringBuilder csv)
    {
        trainer.SaveCheckpoint(run.Path);
        AtomicFile.WriteAllBytes(run.LossCsv, Encoding.UTF8.GetBytes(csv.ToString()));
        if (curve.Count > 0)
        {
            curve.Save(run.LossPng, "JpegLm training loss");
        }
    }
}
