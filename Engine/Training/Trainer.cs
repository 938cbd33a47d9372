using System.Diagnostics;
using System.Globalization;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Model;

namespace JpegLm.Engine.Training;

/// <summary>
/// Trains a <see cref="LlamaModel"/>: micro-batches with gradient accumulation, global-norm clipping, AdamW
/// with decoupled weight decay on matrices only, linear warmup + cosine decay, periodic validation. The run
/// is a pure function of the options, the data and the seed; <see cref="SaveCheckpoint"/> +
/// <see cref="Resume"/> reproduce an uninterrupted run bit for bit.
/// </summary>
/// <remarks>
/// Data parallel: with an <see cref="ICollectives"/> group of R ranks (or <see cref="TrainerOptions.SimulatedRanks"/>
/// in one process), each rank reads its own rows of the global batch (<see cref="BatchLoader.Fill"/>, rank-strided),
/// computes its gradient scaled by one over the global token count, and the trainer sums the flat gradient buffer
/// across ranks once per step after backward; clipping and AdamW then run identically on every rank, so the weights
/// never diverge. The learning-rate schedule and the data position are the global ones. Losses are summed across
/// ranks before they are reported. Rank 0 alone writes checkpoints.
/// </remarks>
public sealed class Trainer : IDisposable
{
    /// <summary>File name of the trainer state written beside the HF files.</summary>
    public const string StateFile = "trainer_state.safetensors";

    private readonly ITensorBuffer _moments;
    private readonly Tensor _m;
    private readonly Tensor _v;
    private readonly BatchLoader _train;
    private readonly ITokenSource? _validation;
    private readonly int[] _inputs;
    private readonly int[] _targets;
    private readonly float[] _scalar = new float[1];
    private readonly TokenStructure? _trainStructure;
    private readonly TokenStructure? _validationStructure;
    private readonly int[] _structureIds;
    private readonly ITensorBuffer _normBuffer;
    private readonly ICollectives _collectives;
    private readonly ITensorBuffer? _rankSum;
    private readonly double[] _rankLosses;
    private readonly double[] _reduced = new double[1];

    /// <summary>
    /// Creates a trainer over <paramref name="model"/> (weights as they are: initialize or load first). A model with
    /// structure fields needs the structure ids of both sources (<see cref="TokenStructure.Annotate"/>). With
    /// <paramref name="collectives"/> of more than one rank, every rank constructs its trainer with the same
    /// options and data and calls the same methods in the same order.
    /// </summary>
    public Trainer(LlamaModel model, TrainerOptions options, ITokenSource train, ITokenSource? validation = null,
        TokenStructure? trainStructure = null, TokenStructure? validationStructure = null, ICollectives? collectives = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
        _collectives = collectives ?? SingleProcess.Instance;
        if (_collectives.Size > 1 && options.SimulatedRanks > 1)
        {
            throw new ArgumentException($"simulated ranks ({options.SimulatedRanks}) are a one-process reference; this process is one of {_collectives.Size} ranks");
        }

        long n = model.Layout.Length;
        _rankSum = options.SimulatedRanks > 1 ? model.Kernels.Allocate(n) : null;
        _rankLosses = new double[options.SimulatedRanks];
        _moments = model.Kernels.Allocate(2 * n);
        _m = Tensor.Of(_moments).Slice(0, n);
        _v = Tensor.Of(_moments).Slice(n, n);
        _normBuffer = model.Kernels.Allocate(1);
        _train = new BatchLoader(train, options.BatchSize, options.SequenceLength);
        _validation = validation;
        _inputs = new int[options.BatchSize * options.SequenceLength];
        _targets = new int[_inputs.Length];
        int fields = model.Config.StructureFieldCount;
        if (fields > 0 && (trainStructure?.FieldCount != fields || (validation != null && validationStructure?.FieldCount != fields)))
        {
            throw new ArgumentException($"the model embeds {fields} structure fields per token: annotate the training and validation tokens");
        }

        _trainStructure = fields > 0 ? trainStructure : null;
        _validationStructure = fields > 0 ? validationStructure : null;
        _structureIds = new int[fields * _inputs.Length];
        Random = new SplitMixRandom(options.Seed);
    }

    /// <summary>The model being trained.</summary>
    public LlamaModel Model { get; }

    /// <summary>The run's hyper-parameters.</summary>
    public TrainerOptions Options { get; }

    /// <summary>The ranks whose gradients are summed (a <see cref="SingleProcess"/> unless given).</summary>
    public ICollectives Collectives => _collectives;

    /// <summary>Ranks sharing the global batch: the group's size, or the simulated ranks of a one-process reference.</summary>
    public int Ranks => _collectives.Size * Options.SimulatedRanks;

    /// <summary>Where the last step's time went on this rank.</summary>
    public StepTiming LastTiming { get; private set; }

    /// <summary>Optimizer steps done so far.</summary>
    public int Step { get; private set; }

    /// <summary>The trainer's random stream (saved in checkpoints; for data order and any future stochastic step).</summary>
    public SplitMixRandom Random { get; }

    /// <summary>Where the next training batch starts in the token source.</summary>
    public long DataPosition => _train.Position;

    /// <summary>Raised after every step with its log record.</summary>
    public event Action<TrainingRecord>? StepCompleted;

    /// <summary>Runs optimizer steps until <paramref name="steps"/> more are done or <see cref="TrainerOptions.MaxSteps"/> is reached.</summary>
    public void Run(int steps)
    {
        for (int i = 0; i < steps && Step < Options.MaxSteps; i++)
        {
            TrainStep();
        }
    }

    /// <summary>One optimizer step over <see cref="TrainerOptions.GradientAccumulation"/> micro-batches on each rank.</summary>
    public TrainingRecord TrainStep()
    {
        var clock = Stopwatch.StartNew();
        IKernels k = Model.Kernels;
        TrainerOptions o = Options;
        int ranks = Ranks, simulated = o.SimulatedRanks;
        int tokensPerMicro = o.BatchSize * o.SequenceLength;
        // The mean over the global batch: each rank's share is scaled before the sum, so the sum is the mean.
        float scale = 1f / ((long)tokensPerMicro * o.GradientAccumulation * ranks);
        for (int v = 0; v < simulated; v++)
        {
            int rank = (_collectives.Rank * simulated) + v;
            Model.ZeroGradients();
            double lossSum = 0;
            for (int micro = 0; micro < o.GradientAccumulation; micro++)
            {
                // Global rows of this micro-batch: B·R of them, rank r taking every R-th from r.
                _train.Fill(_inputs, _targets, _trainStructure, _structureIds, (long)micro * o.BatchSize * ranks + rank, ranks);
                lossSum += Model.Forward(_inputs, _targets, o.BatchSize, o.SequenceLength, training: true, gradientScale: scale, _structureIds);
                Model.Backward();
            }

            _rankLosses[v] = lossSum;
            if (_rankSum != null)
            {
                AddRankGradient(v == 0);
            }
        }

        if (_rankSum != null)
        {
            CopyAll(Model.Gradients, Tensor.Of(_rankSum));
        }

        _train.Advance((long)o.BatchSize * o.GradientAccumulation * ranks);
        k.Synchronize();
        double compute = clock.Elapsed.TotalSeconds;
        _collectives.AllReduceSum(Model.Gradients);
        float loss = (float)(SumOverRanks(_rankLosses) / (o.GradientAccumulation * ranks));
        k.SumOfSquares(Tensor.Of(_normBuffer), Model.Gradients);
        k.Download(Tensor.Of(_normBuffer), _scalar);
        double communication = clock.Elapsed.TotalSeconds - compute;
        float norm = MathF.Sqrt(_scalar[0]);
        float clip = o.GradientClip > 0 && norm > o.GradientClip ? o.GradientClip / (norm + 1e-6f) : 1f;
        Step++;
        float lr = LearningRateSchedule.At(o, Step);
        long decayed = Model.Layout.DecayedLength, total = Model.Layout.Length;
        k.AdamW(Model.Weights.Slice(0, decayed), Model.Gradients.Slice(0, decayed), _m.Slice(0, decayed), _v.Slice(0, decayed),
            new AdamWStep(lr, o.Beta1, o.Beta2, o.Epsilon, o.WeightDecay, Step, clip));
        k.AdamW(Model.Weights.Slice(decayed, total - decayed), Model.Gradients.Slice(decayed, total - decayed), _m.Slice(decayed, total - decayed),
            _v.Slice(decayed, total - decayed), new AdamWStep(lr, o.Beta1, o.Beta2, o.Epsilon, 0f, Step, clip));
        k.Synchronize();
        double seconds = clock.Elapsed.TotalSeconds;
        long tokens = (long)tokensPerMicro * o.GradientAccumulation;
        LastTiming = new StepTiming(tokens * simulated, compute, communication, seconds);
        float? validation = o.ValidationInterval > 0 && _validation != null && Step % o.ValidationInterval == 0 ? ValidationLoss() : null;
        var record = new TrainingRecord(Step, loss, lr, norm, tokens * ranks / seconds, validation);
        StepCompleted?.Invoke(record);
        return record;
    }

    /// <summary>
    /// Mean loss over the first <see cref="TrainerOptions.ValidationBatches"/> batches of the validation source on
    /// each rank (rank-strided rows, as in training), averaged over the ranks; every rank must call it.
    /// </summary>
    public float ValidationLoss()
    {
        if (_validation == null)
        {
            return float.NaN;
        }

        var loader = new BatchLoader(_validation, Options.BatchSize, Options.SequenceLength);
        int[] inputs = new int[_inputs.Length], targets = new int[_targets.Length], ids = new int[_structureIds.Length];
        int ranks = Ranks, simulated = Options.SimulatedRanks;
        double[] sums = new double[simulated];
        for (int v = 0; v < simulated; v++)
        {
            int rank = (_collectives.Rank * simulated) + v;
            for (int i = 0; i < Options.ValidationBatches; i++)
            {
                loader.Fill(inputs, targets, _validationStructure, ids, (long)i * Options.BatchSize * ranks + rank, ranks);
                sums[v] += Model.Forward(inputs, targets, Options.BatchSize, Options.SequenceLength, structure: ids);
            }
        }

        return (float)(SumOverRanks(sums) / (Options.ValidationBatches * ranks));
    }

    /// <summary>
    /// Writes the HF model files (config.json, model.safetensors) and <see cref="StateFile"/> (AdamW moments;
    /// step, data position and RNG state as metadata) into <paramref name="directory"/>, each atomically. Every
    /// rank holds the same state, so rank 0 alone writes; the others wait for it at a barrier.
    /// </summary>
    public void SaveCheckpoint(string directory)
    {
        if (_collectives.Rank == 0)
        {
            WriteCheckpoint(directory);
        }

        _collectives.Barrier();
    }

    private void WriteCheckpoint(string directory)
    {
        HfCheckpoint.Save(Model, directory);
        long n = Model.Layout.Length;
        float[] m = new float[n], v = new float[n];
        Model.Kernels.Download(_m, m);
        Model.Kernels.Download(_v, v);
        var meta = new Dictionary<string, string>
        {
            ["step"] = Step.ToString(CultureInfo.InvariantCulture),
            ["data_position"] = _train.Position.ToString(CultureInfo.InvariantCulture),
            ["rng_state"] = Random.State.ToString(CultureInfo.InvariantCulture),
            ["parameters"] = n.ToString(CultureInfo.InvariantCulture),
        };
        SafetensorsFile.Write(Path.Combine(directory, StateFile), [("adamw.m", [n], m), ("adamw.v", [n], v)], meta);
    }

    /// <summary>
    /// Restores weights, moments, step, data position and RNG state from a checkpoint directory (on a rank that can
    /// read it; <see cref="BroadcastState"/> then hands them to the others).
    /// </summary>
    public void Resume(string directory)
    {
        HfCheckpoint.LoadWeights(Model, Path.Combine(directory, HfCheckpoint.WeightsFile));
        string path = Path.Combine(directory, StateFile);
        using SafetensorsFile state = SafetensorsFile.Open(path);
        long n = Model.Layout.Length;
        if (!state.Metadata.TryGetValue("parameters", out string? count) || count != n.ToString(CultureInfo.InvariantCulture))
        {
            throw new SafetensorsFormatException($"{path}: optimizer state is for {count} parameters, the model has {n}");
        }

        // The state file is input like any other: a missing or garbled number is a format error naming the file.
        T Number<T>(string key)
            where T : IParsable<T>
            => state.Metadata.TryGetValue(key, out string? text) && T.TryParse(text, CultureInfo.InvariantCulture, out T? value) ? value
                : throw new SafetensorsFormatException($"{path}: metadata {key} is missing or not a number");

        float[] buffer = new float[n];
        state.Read("adamw.m", buffer);
        Model.Kernels.Upload(buffer, _m);
        state.Read("adamw.v", buffer);
        Model.Kernels.Upload(buffer, _v);
        Step = Number<int>("step");
        _train.Position = Number<long>("data_position");
        Random.State = Number<ulong>("rng_state");
    }

    /// <summary>
    /// Makes every rank's weights, moments, step, data position and RNG state those of <paramref name="root"/>:
    /// the initial weights of a new run, or the state one rank read with <see cref="Resume"/>. Every rank calls it.
    /// </summary>
    public void BroadcastState(int root = 0)
    {
        if (_collectives.Size == 1)
        {
            return;
        }

        _collectives.Broadcast(Model.Weights, root);
        _collectives.Broadcast(Tensor.Of(_moments), root);
        Span<long> state = [Step, _train.Position, unchecked((long)Random.State)];
        _collectives.Broadcast(System.Runtime.InteropServices.MemoryMarshal.AsBytes(state), root);
        Step = checked((int)state[0]);
        _train.Position = state[1];
        Random.State = unchecked((ulong)state[2]);
        Model.Kernels.Synchronize();
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _moments.Dispose();
        _normBuffer.Dispose();
        _rankSum?.Dispose();
    }

    /// <summary>A one-process reference: the first rank's gradient is copied, the next ones are added in rank order.</summary>
    private void AddRankGradient(bool first)
    {
        Tensor sum = Tensor.Of(_rankSum!);
        if (first)
        {
            CopyAll(sum, Model.Gradients);
        }
        else
        {
            Model.Kernels.Add(sum, sum, Model.Gradients, sum.Length);
        }
    }

    private void CopyAll(Tensor destination, Tensor source)
    {
        const int Chunk = 1 << 30;
        for (long start = 0; start < source.Length; start += Chunk)
        {
            int n = (int)Math.Min(Chunk, source.Length - start);
            Model.Kernels.Copy2D(destination.Slice(start, n), n, source.Slice(start, n), n, 1, n);
        }
    }

    /// <summary>This process's per-rank sums added in rank order, then summed over the group.</summary>
    private double SumOverRanks(double[] perRank)
    {
        double sum = perRank[0];
        for (int i = 1; i < perRank.Length; i++)
        {
            sum += perRank[i];
        }

        _reduced[0] = sum;
        _collectives.AllReduceSum(_reduced);
        return _reduced[0];
    }
}

/// <summary>Where one training step's time went on one rank.</summary>
/// <param name="Tokens">Tokens this process trained on in the step.</param>
/// <param name="ComputeSeconds">Forward and backward of this rank's micro-batches.</param>
/// <param name="CommunicationSeconds">The gradient and loss sums across ranks (including waiting for slower ranks) and the norm.</param>
/// <param name="TotalSeconds">The whole step, optimizer included (validation excluded).</param>
public readonly record struct StepTiming(long Tokens, double ComputeSeconds, double CommunicationSeconds, double TotalSeconds);
