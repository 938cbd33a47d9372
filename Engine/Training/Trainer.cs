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

    /// <summary>
    /// Creates a trainer over <paramref name="model"/> (weights as they are: initialize or load first). A model with
    /// structure fields needs the structure ids of both sources (<see cref="TokenStructure.Annotate"/>).
    /// </summary>
    public Trainer(LlamaModel model, TrainerOptions options, ITokenSource train, ITokenSource? validation = null,
        TokenStructure? trainStructure = null, TokenStructure? validationStructure = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Options = options ?? throw new ArgumentNullException(nameof(options));
        options.Validate();
        long n = model.Layout.Length;
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

    /// <summary>One optimizer step over <see cref="TrainerOptions.GradientAccumulation"/> micro-batches.</summary>
    public TrainingRecord TrainStep()
    {
        var clock = Stopwatch.StartNew();
        IKernels k = Model.Kernels;
        TrainerOptions o = Options;
        int tokensPerMicro = o.BatchSize * o.SequenceLength;
        float scale = 1f / (tokensPerMicro * o.GradientAccumulation);
        double lossSum = 0;
        Model.ZeroGradients();
        for (int micro = 0; micro < o.GradientAccumulation; micro++)
        {
            _train.Next(_inputs, _targets, _trainStructure, _structureIds);
            lossSum += Model.Forward(_inputs, _targets, o.BatchSize, o.SequenceLength, training: true, gradientScale: scale, _structureIds);
            Model.Backward();
        }

        k.SumOfSquares(Tensor.Of(_normBuffer), Model.Gradients);
        k.Download(Tensor.Of(_normBuffer), _scalar);
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
        float? validation = o.ValidationInterval > 0 && _validation != null && Step % o.ValidationInterval == 0 ? ValidationLoss() : null;
        var record = new TrainingRecord(Step, (float)(lossSum / o.GradientAccumulation), lr, norm, tokensPerMicro * o.GradientAccumulation / seconds, validation);
        StepCompleted?.Invoke(record);
        return record;
    }

    /// <summary>Mean loss over the first <see cref="TrainerOptions.ValidationBatches"/> batches of the validation source.</summary>
    public float ValidationLoss()
    {
        if (_validation == null)
        {
            return float.NaN;
        }

        var loader = new BatchLoader(_validation, Options.BatchSize, Options.SequenceLength);
        int[] inputs = new int[_inputs.Length], targets = new int[_targets.Length], ids = new int[_structureIds.Length];
        double sum = 0;
        for (int i = 0; i < Options.ValidationBatches; i++)
        {
            loader.Next(inputs, targets, _validationStructure, ids);
            sum += Model.Forward(inputs, targets, Options.BatchSize, Options.SequenceLength, structure: ids);
        }

        return (float)(sum / Options.ValidationBatches);
    }

    /// <summary>
    /// Writes the HF model files (config.json, model.safetensors) and <see cref="StateFile"/> (AdamW moments;
    /// step, data position and RNG state as metadata) into <paramref name="directory"/>, each atomically.
    /// </summary>
    public void SaveCheckpoint(string directory)
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

    /// <summary>Restores weights, moments, step, data position and RNG state from a checkpoint directory.</summary>
    public void Resume(string directory)
    {
        HfCheckpoint.LoadWeights(Model, Path.Combine(directory, HfCheckpoint.WeightsFile));
        using SafetensorsFile state = SafetensorsFile.Open(Path.Combine(directory, StateFile));
        long n = Model.Layout.Length;
        if (!state.Metadata.TryGetValue("parameters", out string? count) || count != n.ToString(CultureInfo.InvariantCulture))
        {
            throw new SafetensorsFormatException($"{directory}/{StateFile}: optimizer state is for {count} parameters, the model has {n}");
        }

        float[] buffer = new float[n];
        state.Read("adamw.m", buffer);
        Model.Kernels.Upload(buffer, _m);
        state.Read("adamw.v", buffer);
        Model.Kernels.Upload(buffer, _v);
        Step = int.Parse(state.Metadata["step"], CultureInfo.InvariantCulture);
        _train.Position = long.Parse(state.Metadata["data_position"], CultureInfo.InvariantCulture);
        Random.State = ulong.Parse(state.Metadata["rng_state"], CultureInfo.InvariantCulture);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _moments.Dispose();
        _normBuffer.Dispose();
    }
}
