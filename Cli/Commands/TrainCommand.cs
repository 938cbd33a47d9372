using JpegLm.Cli.Pipeline;
using JpegLm.Codec.Tokens;

namespace JpegLm.Cli.Commands;

/// <summary><c>jpeglm train</c>: trains a Llama model on token shards made by <c>jpeglm prepare</c>.</summary>
internal sealed class TrainCommand : ICliCommand
{
    public string Name => "train";

    public string Summary => "train a Llama model on prepared token shards (CPU or CUDA)";

    public string Usage => $"""
        jpeglm train --data DATA --model-config CFG --out RUN [options]
          --model-config CFG   a Hugging Face LlamaConfig config.json, or a preset: {ModelPresets.Names}
          --device D           auto (CUDA when usable, else CPU; default), cpu or cuda
          --steps N            optimizer steps (default 1000)
          --batch-tokens N     tokens per step (batch = N / context; default 8192)
          --context T          tokens per sequence (default 1024; documents are concatenated and cut, as in the paper)
          --lr LR              peak learning rate (default 3e-4; linear warmup, cosine decay to LR/10)
          --warmup N           warmup steps (default 100, at most a tenth of the run)
          --val-every N        validation loss every N steps (default 50)
          --checkpoint-every N checkpoint every N steps (default 200; always at the end and on Ctrl-C)
          --seed S             weight-initialization and data seed (default 1337)
          --resume             continue RUN exactly where its last checkpoint stopped
        RUN receives config.json + model.safetensors (Hugging Face layout), trainer_state.safetensors,
        profile.json, vocab.json, loss.csv and loss.png. Ctrl-C saves a checkpoint and exits cleanly.
        Example: jpeglm train --data data/ --model-config small --out runs/small --steps 2000
        """;

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = new CliArgs(args, "resume");
        var request = new TrainingRequest
        {
            Data = a.Required("data"),
            ModelConfig = a.String("model-config") ?? "",
            Out = a.Required("out"),
            Device = a.String("device") ?? "auto",
            Steps = a.Int("steps", 1000, 1),
            BatchTokens = a.Int("batch-tokens", 8192, 1),
            SequenceLength = a.Int("context", 1024, 8, 1 << 20),
            LearningRate = (float)a.Double("lr", 3e-4, 1e-8, 1),
            WarmupSteps = a.Int("warmup", 100, 0),
            ValidationInterval = a.Int("val-every", 50, 0),
            CheckpointInterval = a.Int("checkpoint-every", 200, 0),
            Seed = (ulong)a.Long("seed", 1337, 0),
            Resume = a.Flag("resume"),
        };
        a.EnsureAllUsed(0);
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
        try
        {
            TrainingRun.Execute(request, stdout, stderr, cancel.Token);
            return 0;
        }
        catch (Exception e) when (e is TokenFormatException or FileNotFoundException or DirectoryNotFoundException or IOException or System.Text.Json.JsonException or FormatException)
        {
            stderr.WriteLine($"jpeglm train: {e.Message}");
            return 1;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
