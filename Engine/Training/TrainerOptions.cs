namespace JpegLm.Engine.Training;

/// <summary>Hyper-parameters of a training run.</summary>
public sealed record TrainerOptions
{
    /// <summary>Sequences per micro-batch (B).</summary>
    public int BatchSize { get; init; } = 4;

    /// <summary>Tokens per sequence (T, the context length).</summary>
    public int SequenceLength { get; init; } = 256;

    /// <summary>Micro-batches whose gradients are summed before one optimizer step.</summary>
    public int GradientAccumulation { get; init; } = 1;

    /// <summary>Total optimizer steps (the end of the cosine schedule).</summary>
    public int MaxSteps { get; init; } = 1000;

    /// <summary>Peak learning rate.</summary>
    public float LearningRate { get; init; } = 3e-4f;

    /// <summary>Learning rate at the end of the cosine decay.</summary>
    public float MinLearningRate { get; init; } = 3e-5f;

    /// <summary>Steps of linear warmup from 0 to the peak.</summary>
    public int WarmupSteps { get; init; } = 100;

    /// <summary>Decoupled weight decay of matrices (norm weights get none).</summary>
    public float WeightDecay { get; init; } = 0.1f;

    /// <summary>AdamW β1.</summary>
    public float Beta1 { get; init; } = 0.9f;

    /// <summary>AdamW β2.</summary>
    public float Beta2 { get; init; } = 0.95f;

    /// <summary>AdamW ε.</summary>
    public float Epsilon { get; init; } = 1e-8f;

    /// <summary>Clip gradients to this global L2 norm (0 = no clipping).</summary>
    public float GradientClip { get; init; } = 1f;

    /// <summary>Evaluate the validation loss every this many steps (0 = never).</summary>
    public int ValidationInterval { get; init; }

    /// <summary>Batches averaged for one validation loss.</summary>
    public int ValidationBatches { get; init; } = 4;

    /// <summary>Seed of weight initialization and of the trainer's random stream.</summary>
    public ulong Seed { get; init; } = 1337;

    /// <summary>
    /// Data-parallel ranks this one process plays in turn (1 = none): each computes its share of the global batch
    /// into a gradient buffer of its own, and the buffers are added in rank order. The reference that a run of as
    /// many real ranks reproduces bit for bit; not combined with real ranks.
    /// </summary>
    public int SimulatedRanks { get; init; } = 1;

    /// <summary>Throws when a value is out of range.</summary>
    public void Validate()
    {
        if (BatchSize <= 0 || SequenceLength <= 0 || GradientAccumulation <= 0 || MaxSteps <= 0 || WarmupSteps < 0
            || LearningRate < 0 || MinLearningRate < 0 || GradientClip < 0 || ValidationInterval < 0 || ValidationBatches <= 0
            || SimulatedRanks <= 0)
        {
            throw new ArgumentException($"invalid trainer options {this}");
        }
    }
}

/// <summary>Linear warmup then cosine decay to the minimum, as a pure function of the step.</summary>
public static class LearningRateSchedule
{
    /// <summary>The learning rate of 1-based <paramref name="step"/>.</summary>
    public static float At(TrainerOptions options, int step)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (step <= options.WarmupSteps)
        {
            return options.LearningRate * step / Math.Max(1, options.WarmupSteps);
        }

        double progress = Math.Min(1.0, (step - options.WarmupSteps) / (double)Math.Max(1, options.MaxSteps - options.WarmupSteps));
        double cosine = 0.5 * (1 + Math.Cos(Math.PI * progress));
        return (float)(options.MinLearningRate + cosine * (options.LearningRate - options.MinLearningRate));
    }
}

/// <summary>One log line of training.</summary>
/// <param name="Step">1-based optimizer step just finished.</param>
/// <param name="Loss">Mean training loss (nats/token) over the step's micro-batches.</param>
/// <param name="LearningRate">Learning rate used.</param>
/// <param name="GradientNorm">Global L2 norm of the gradient before clipping.</param>
/// <param name="TokensPerSecond">Training throughput of this step over all ranks (global tokens / the step's wall-clock time).</param>
/// <param name="ValidationLoss">Validation loss when evaluated at this step, else null.</param>
public readonly record struct TrainingRecord(int Step, float Loss, float LearningRate, float GradientNorm, double TokensPerSecond, float? ValidationLoss);
