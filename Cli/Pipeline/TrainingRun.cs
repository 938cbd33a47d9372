using System.Globalization;
using JpegLm.Cli.Reporting;
using JpegLm.Codec.IO;
using JpegLm.Codec.Tokens;
using JpegLm.Cli.Distributed;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Kernels.Cpu;
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

    /// <summary>Ranks one process plays in turn (the one-process reference of a data-parallel run); 1 for none.</summary>
    public int SimulatedRanks { get; init; } = 1;

    /// <summary>Seconds one collective call may wait for the other ranks before the job is aborted (under a launcher).</summary>
    public int CollectiveTimeout { get; init; } = 600;
}

/// <summary>What a finished (or interrupted) training run reports.</summary>
internal sealed record TrainingOutcome(int Steps, float FirstLoss, float LastLoss, float? LastValidationLoss, double TokensPerSecond, bool Interrupted, string Backend);

/// <summary>
/// Runs training from token shards into a run folder: progress with loss, tokens/s and ETA; validation loss;
/// checkpoints (HF layout + trainer state, atomically) every few hundred steps and at the end or on Ctrl-C or SIGTERM;
/// <c>loss.csv</c> and a <c>loss.png</c> redrawn as training goes. <c>--resume</c> continues exactly.
/// Started by an MPI launcher (<c>mpirun -np N jpeglm train …</c>), each process is one data-parallel rank: rank 0
/// reads the checkpoint, prints and writes the run folder; every rank reads its own rows of the same shards.
/// </summary>
internal static class TrainingRun
{
    public static TrainingOutcome Execute(TrainingRequest request, TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        using DataParallelGroup group = DataParallelGroup.Open(LaunchInfo.Detect(), TimeSpan.FromSeconds(request.CollectiveTimeout), stderr);
        if (group.Host.Size == 1)
        {
            return Execute(request, group, stdout, stderr, cancel);
        }

        if (request.SimulatedRanks > 1)
        {
            group.Abort("--simulate-ranks is the one-process reference of a data-parallel run; do not combine it with a launcher");
        }

        try
        {
            // Rank 0 speaks for the job; the others print only errors.
            return Execute(request, group, group.Host.Rank == 0 ? stdout : TextWriter.Null, stderr, cancel);
        }
        catch (Exception e)
        {
            // The other ranks would wait for this one in their next collective: end them all, saying why.
            group.Abort(e.Message.Split('\n')[0].TrimEnd());
            throw;
        }
    }

    private static TrainingOutcome Execute(TrainingRequest request, DataParallelGroup group, TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        var parallel = new DataParallelRun(group.Host);
        bool lead = parallel.IsLead;
        var run = new RunFolder(request.Out);
        string profilePath = Path.Combine(request.Data, "profile.json"), vocabPath = Path.Combine(request.Data, "vocab.json");
        CodecProfile profile = CodecProfile.Load(profilePath);
        BpeVocabulary vocabulary = BpeVocabulary.Load(vocabPath);
        using var train = new ShardTokenSource(Path.Combine(request.Data, "train.tok"), vocabulary.ContentHash(), profile.ContentHash());
        string valPath = Path.Combine(request.Data, "val.tok");
        using ShardTokenSource? validation = File.Exists(valPath) ? new ShardTokenSource(valPath, vocabulary.ContentHash(), profile.ContentHash()) : null;

        if (lead)
        {
            Directory.CreateDirectory(run.Path);
            if (request.Resume && !run.HasModel)
            {
                throw new UsageException($"--resume: {run.Path} holds no checkpoint to resume");
            }
        }

        // Only rank 0 needs the run folder: the others get its config (and below, its state) over the group.
        LlamaConfig config = request.Resume
            ? LlamaConfig.FromJson(parallel.BroadcastText(lead ? File.ReadAllText(Path.Combine(run.Path, HfCheckpoint.ConfigFile)) : ""))
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
        int batch = Math.Max(1, request.BatchTokens / seq);
        if (lead)
        {
            File.Copy(profilePath, run.ProfileFile, overwrite: true);
            File.Copy(vocabPath, run.VocabularyFile, overwrite: true);
        }

        // Each rank on a node takes its own GPU.
        using IKernels kernels = Backends.Open(request.Device, stderr, group.LocalRank); // disposed before anything samples (frees a GPU context)
        group.AttachBackend(kernels, stderr);
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
            SimulatedRanks = request.SimulatedRanks,
        };
        // A model with structure fields sees, beside each token, where the codec's parser stands after it.
        Func<JpegLm.Engine.Sampling.ITokenAnnotator>? annotators = TokenAnnotators.For(config, profile, vocabulary);
        TokenStructure? trainStructure = annotators == null ? null : TokenStructure.Annotate(train, annotators, BpeVocabulary.Bos);
        TokenStructure? validationStructure = annotators == null || validationSource == null ? null : TokenStructure.Annotate(validationSource, annotators, BpeVocabulary.Bos);
        using var trainer = new Trainer(model, options, train, validationSource, trainStructure, validationStructure, group.Collectives);
        var log = new LossLog();
        if (request.Resume && lead)
        {
            trainer.Resume(run.Path);
        }

        // Every rank starts from rank 0's weights (new or resumed), moments, step and data position.
        trainer.BroadcastState();
        parallel.Progress = (trainer.Step, trainer.Step);
        if (request.Resume && lead)
        {
            log.Load(run.LossCsv, trainer.Step);
            stdout.WriteLine($"resumed {run.Path} at step {trainer.Step}");
        }

        long parameters = model.Layout.Length;
        int ranks = trainer.Ranks;
        // Measured or looked up before the first step, so that a CPU's SGEMM measurement does not slow a timed step.
        double? peak = lead ? kernels.PeakFlops : null;
        double flopsPerToken = TrainingFlops.PerToken(config, seq);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"training {parameters / 1e6:F2}M parameters ({config.NumHiddenLayers} x {config.HiddenSize}, vocab {config.VocabSize}{(config.Structure != null ? $", structure {config.Structure}" : "")}) on {kernels.Name}: batch {batch} x {seq} tokens{(ranks > 1 ? $" x {ranks} ranks" : "")}, {request.Steps} steps, lr {request.LearningRate}; {train.Length} train tokens"));
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"model FLOPs: {Flops(flopsPerToken)}/token (6N + 6LdT); backend peak {(peak is double p ? $"{Flops(p)}/s{(kernels is CpuKernels ? " (SGEMM measured now)" : "")}{(group.Host.Size > 1 ? $" per rank x {group.Host.Size}" : "")}" : "unknown: MFU n/a")}"));
        if (ranks > 1)
        {
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"data parallel: {(request.SimulatedRanks > 1 ? $"{ranks} ranks simulated in one process (gradients added in rank order)" : group.Collectives.Name)}; global batch {batch * ranks} x {seq} tokens, rank r reading rows r, r + {ranks}, r + {2 * ranks}, …"));
        }

        // SIGTERM stops a single process like Ctrl-C; under a launcher it explains the end of the job instead.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using IDisposable? termination = parallel.HandleTermination(stderr, run.Path, stop.Cancel);
        var bar = new ConsoleProgress(lead ? stderr : TextWriter.Null, request.Steps, "steps");
        double tokensPerSecond = 0;
        bool interrupted = false;
        while (trainer.Step < request.Steps)
        {
            // A stop asked on any rank stops all of them at this same step (they must save together).
            if (parallel.AnyStop(stop.IsCancellationRequested))
            {
                interrupted = true;
                break;
            }

            parallel.Progress = (trainer.Step + 1, parallel.Progress.Checkpoint);
            TrainingRecord r = trainer.TrainStep();
            parallel.Record(trainer.LastTiming);
            tokensPerSecond = r.TokensPerSecond;
            // Simulated ranks share one backend; real ranks each bring their own peak.
            double flops = flopsPerToken * r.TokensPerSecond;
            double? mfu = TrainingFlops.Utilization(flops, peak, group.Host.Size);
            log.Add(r, flops, mfu);
            bar.Report(r.Step, string.Create(CultureInfo.InvariantCulture,
                $"loss {r.Loss:F4}{(log.LastValidationLoss is float lv ? $" val {lv:F4}" : "")}  {r.TokensPerSecond:F0} tok/s  {Flops(flops)}/s  MFU {(mfu is double m ? $"{m * 100:F1}%" : "n/a")}"));
            if (request.CheckpointInterval > 0 && r.Step % request.CheckpointInterval == 0 && r.Step < request.Steps)
            {
                Save(trainer, run, log);
                parallel.Progress = (r.Step, r.Step);
            }
            else if (lead && (r.ValidationLoss != null || r.Step % 50 == 0))
            {
                // Keep the picture current between checkpoints (rendering costs milliseconds).
                log.SaveCurve(run.LossPng);
            }
        }

        Save(trainer, run, log);
        parallel.Progress = (trainer.Step, trainer.Step);
        foreach (string line in parallel.Throughput())
        {
            stdout.WriteLine(line);
        }

        // A resumed run that had already finished reports the losses its loss.csv recorded.
        string losses = float.IsNaN(log.LastLoss) ? "no loss recorded (loss.csv is missing)"
            : string.Create(CultureInfo.InvariantCulture, $"loss {log.LastLoss:F4}{(log.LastValidationLoss is float fv ? $", validation {fv:F4}" : "")} nats/token");
        stdout.WriteLine($"{(interrupted ? "interrupted" : "finished")} at step {trainer.Step}: {losses}; checkpoint in {run.Path}");
        return new TrainingOutcome(trainer.Step, log.FirstLoss, log.LastLoss, log.LastValidationLoss, tokensPerSecond, interrupted, kernels.Name);
    }

    /// <summary>FLOPs with an SI prefix: <c>12.3 GFLOP</c>, <c>1.05 PFLOP</c>.</summary>
    private static string Flops(double flops)
    {
        string[] prefixes = ["", "k", "M", "G", "T", "P", "E"];
        int i = 0;
        while (i < prefixes.Length - 1 && Math.Abs(flops) >= 1000)
        {
            flops /= 1000;
            i++;
        }

        string digits = Math.Abs(flops) < 10 ? "F2" : Math.Abs(flops) < 100 ? "F1" : "F0";
        return $"{flops.ToString(digits, CultureInfo.InvariantCulture)} {prefixes[i]}FLOP";
    }

    /// <summary>Rank 0 writes the checkpoint and the loss log while the others wait at the trainer's barrier.</summary>
    private static void Save(Trainer trainer, RunFolder run, LossLog log)
    {
        trainer.SaveCheckpoint(run.Path);
        if (trainer.Collectives.Rank == 0)
        {
            log.Save(run.LossCsv, run.LossPng);
        }
    }
}
