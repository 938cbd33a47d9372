using System.CommandLine;
using System.Runtime.InteropServices;
using JpegLm.Cli.Pipeline;

namespace JpegLm.Cli.Commands;

/// <summary><c>jpeglm train</c>: trains a Llama model on token shards made by <c>jpeglm prepare</c>.</summary>
internal sealed class TrainCommand : CliCommand
{
    /// <summary>The defaults of a request are the defaults of the options.</summary>
    private static readonly TrainingRequest Defaults = new() { Data = "", ModelConfig = "", Out = "" };

    private const int SigUsr1 = 10; // Linux's signal number (PosixSignal takes raw numbers for signals it does not name)

    private readonly Option<string> _data = CliOptions.Required("--data", "DATA", "token shards made by jpeglm prepare (train.tok, val.tok, profile.json, vocab.json)");
    private readonly Option<string?> _modelConfig = CliOptions.Text("--model-config", "CFG", $"a Hugging Face LlamaConfig config.json, or a preset: {ModelPresets.Names} (required unless --resume)");
    private readonly Option<string> _out = CliOptions.Required("--out", "RUN", "the run folder: config.json + model.safetensors (Hugging Face layout), trainer_state.safetensors, profile.json, vocab.json, loss.csv, loss.png");
    private readonly Option<string> _device = CliOptions.Device();
    private readonly Option<int> _steps = CliOptions.Number("--steps", Defaults.Steps, 1, int.MaxValue, "optimizer steps");
    private readonly Option<int> _batchTokens = CliOptions.Number("--batch-tokens", Defaults.BatchTokens, 1, int.MaxValue, "tokens per step (batch = N / context)");
    private readonly Option<int> _context = CliOptions.Number("--context", Defaults.SequenceLength, 8, 1 << 20, "tokens per sequence (documents are concatenated and cut, as in the paper)", "T");
    private readonly Option<float> _lr = CliOptions.Number("--lr", Defaults.LearningRate, 1e-8f, 1f, "peak learning rate (linear warmup, cosine decay to LR/10)", "LR");
    private readonly Option<int> _warmup = CliOptions.Number("--warmup", Defaults.WarmupSteps, 0, int.MaxValue, "warmup steps (at most a tenth of the run)");
    private readonly Option<int> _valEvery = CliOptions.Number("--val-every", Defaults.ValidationInterval, 0, int.MaxValue, "validation loss every N steps (0: never)");
    private readonly Option<int> _checkpointEvery = CliOptions.Number("--checkpoint-every", Defaults.CheckpointInterval, 0, int.MaxValue, "checkpoint every N steps (always at the end and on Ctrl-C or SIGTERM)");
    private readonly Option<ulong> _seed = CliOptions.Number("--seed", Defaults.Seed, 0UL, ulong.MaxValue, "weight-initialization and data seed", "S");
    private readonly Option<bool> _resume = CliOptions.Flag("--resume", "continue RUN exactly where its last checkpoint stopped");
    private readonly Option<string?> _structure = CliOptions.Text("--structure", "S",
        "embed per-token structure ids beside the tokens: jpeg-scan-v1 (where the JPEG parser stands after each token: patch, block and coefficient, partial symbol); stored in config.json as jpeglm_structure, which Hugging Face's Llama ignores");

    private readonly Option<int> _simulateRanks = CliOptions.Number("--simulate-ranks", Defaults.SimulatedRanks, 1, 1024,
        "play N data-parallel ranks in this one process: each computes its rows of the global batch into its own gradient buffer, added in rank order (the reference an mpirun -np N run reproduces bit for bit)");
    private readonly Option<int> _collectiveTimeout = CliOptions.Number("--collective-timeout", Defaults.CollectiveTimeout, 1, int.MaxValue,
        "under mpirun: seconds a rank waits for the others in one collective call before the job is aborted (a dead or hung rank)", "SECONDS");

    public TrainCommand()
        : base("train", "train a Llama model on prepared token shards (CPU or CUDA)", """
            Ctrl-C or SIGTERM (Slurm, Kubernetes, timeout) saves a checkpoint and exits cleanly; a second one ends
            at once. Under mpirun a SIGTERM means the launcher is ending the job (a rank died): stop such a job with
            kill -USR1 on the mpirun process.

            Prints loss, tokens/s, model FLOP/s (6N + 6LdT per token) and MFU against the backend's peak (CPU: its
            SGEMM, measured at start; CUDA: the GPU's dense peak, n/a for GPUs it does not know); loss.csv keeps them.

            Data parallel: started by mpirun, every process is one rank; each reads its own rows of the
            same shards (--batch-tokens is per rank), gradients are summed every step (MPI between CPU
            ranks, NCCL between GPUs), and rank 0 writes the run folder.

            Examples:
              jpeglm train --data data/ --model-config small --out runs/small --steps 2000
              mpirun -np 2 jpeglm train --data data/ --model-config small --out runs/small --device cpu
            """)
    {
        Add(_data, _modelConfig, _out, _device, _steps, _batchTokens, _context, _lr, _warmup, _valEvery, _checkpointEvery, _seed, _resume, _structure,
            _simulateRanks, _collectiveTimeout);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        var request = new TrainingRequest
        {
            Data = parsed.Value(_data),
            ModelConfig = parsed.GetValue(_modelConfig) ?? "",
            Out = parsed.Value(_out),
            Device = parsed.Value(_device),
            Steps = parsed.Value(_steps),
            BatchTokens = parsed.Value(_batchTokens),
            SequenceLength = parsed.Value(_context),
            LearningRate = parsed.Value(_lr),
            WarmupSteps = parsed.Value(_warmup),
            ValidationInterval = parsed.Value(_valEvery),
            CheckpointInterval = parsed.Value(_checkpointEvery),
            Seed = parsed.Value(_seed),
            Resume = parsed.Value(_resume),
            Structure = parsed.GetValue(_structure),
            SimulatedRanks = parsed.Value(_simulateRanks),
            CollectiveTimeout = parsed.Value(_collectiveTimeout),
        };
        if (request.ModelConfig.Length == 0 && !request.Resume)
        {
            throw new UsageException("missing option --model-config");
        }

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (cancel.IsCancellationRequested)
            {
                return; // a second Ctrl-C ends the process at once
            }

            e.Cancel = true;
            stderr.WriteLine();
            stderr.WriteLine("stopping after this step and saving a checkpoint (Ctrl-C again to abort)...");
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        // mpirun ends the job on Ctrl-C but forwards SIGUSR1 to every rank: the way to stop a job with a checkpoint.
        using PosixSignalRegistration? usr1 = OperatingSystem.IsLinux() ? PosixSignalRegistration.Create((PosixSignal)SigUsr1, e =>
        {
            e.Cancel = true;
            if (!cancel.IsCancellationRequested)
            {
                stderr.WriteLine("SIGUSR1: stopping after this step and saving a checkpoint...");
                cancel.Cancel();
            }
        }) : null;
        try
        {
            TrainingRun.Execute(request, stdout, stderr, cancel.Token);
            return 0;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
