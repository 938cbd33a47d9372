using System.CommandLine;
using System.Globalization;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Model;
using JpegLm.Engine.Training;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm bench bf16</c>: CPU training tokens/s of one Llama shape (default 8 x 512, batch 4 x 1,024) with
/// float32 GEMMs (OpenBLAS when present, and the managed one) against bf16 GEMMs (<see cref="Bf16Gemm"/>),
/// the trainers stepping in turn so that load from other processes falls on all of them alike; medians and
/// ratios to each float32 path. The loss side of the comparison (same data, three seeds) is
/// scripts/bench-bf16.sh, which trains with <c>--device cpu</c> and <c>--device cpu-bf16</c>.
/// </summary>
internal sealed class BenchBf16Command : CliCommand
{
    private readonly Option<int> _layers = CliOptions.Number("--layers", 8, 1, 64, "transformer layers");
    private readonly Option<int> _width = CliOptions.Number("--width", 512, 64, 8192, "hidden size (heads of 64)");
    private readonly Option<int> _context = CliOptions.Number("--context", 1024, 16, 1 << 16, "tokens per sequence");
    private readonly Option<int> _batch = CliOptions.Number("--batch", 4, 1, 1024, "sequences per step");
    private readonly Option<int> _steps = CliOptions.Number("--steps", 5, 1, 1000, "timed steps per backend");
    private readonly Option<int> _vocab = CliOptions.Number("--vocab", 320, 2, 1 << 20, "vocabulary size");

    public BenchBf16Command()
        : base("bf16", "CPU training tokens/s with bf16 GEMMs against float32, same run", """
            Needs the optional native kernel (built with the Engine where gcc is installed) and a CPU with
            AVX512-BF16. Every backend trains the same model from the same weights on the same tokens;
            the steps are interleaved, and the table gives medians and ratios, by the clock and per CPU-second
            of this process (the latter robust to other processes; spinning BLAS threads count against it).

            Example:
              jpeglm bench bf16                 # 8 x 512, batch 4 x 1,024, 5 timed steps each
            """)
    {
        Add(_layers, _width, _context, _batch, _steps, _vocab);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        Bf16Gemm bf16 = Bf16Gemm.TryCreate() ?? throw new UsageException($"bench bf16: {Bf16Gemm.LoadError}");
        int layers = parsed.Value(_layers), width = parsed.Value(_width), context = parsed.Value(_context);
        int batch = parsed.Value(_batch), steps = parsed.Value(_steps), vocab = parsed.Value(_vocab);
        var gemms = new List<IGemm>();
        if (OpenBlasGemm.TryCreate() is { } blas)
        {
            gemms.Add(blas);
        }

        gemms.Add(new ManagedGemm());
        gemms.Add(bf16);
        stdout.WriteLine(F($"bench-bf16 {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {layers} x {width}, batch {batch} x {context}, {steps} steps each; kernel {bf16.Library}"));

        var config = new LlamaConfig
        {
            NumHiddenLayers = layers, HiddenSize = width, IntermediateSize = width * 43 / 16, NumAttentionHeads = Math.Max(1, width / 64),
            VocabSize = vocab, MaxPositionEmbeddings = context,
        };
        var tokens = new int[batch * context * (steps + 2) + 1];
        var rng = new Random(7);
        for (int i = 0; i < tokens.Length; i++)
        {
            tokens[i] = rng.Next(vocab);
        }

        var runs = gemms.Select(g => new Trainee(g, config, batch, context, steps, tokens)).ToList();
        try
        {
            foreach (Trainee run in runs)
            {
                run.Step(); // warm-up: JIT, buffers, packing memory
                run.Kernels.Reset();
            }

            for (int s = 0; s < steps; s++)
            {
                foreach (Trainee run in runs)
                {
                    run.Rates.Add(run.Step());
                }
            }

            stdout.WriteLine();
            stdout.WriteLine("| GEMM | train tok/s (median) | bf16 / this | tok per CPU-second (median) | bf16 / this | loss after the timed steps |");
            stdout.WriteLine("|---|---|---|---|---|---|");
            double bf16Rate = runs[^1].Median, bf16CpuRate = runs[^1].CpuMedian;
            foreach (Trainee run in runs)
            {
                stdout.WriteLine(F($"| {run.Gemm.Name} | {run.Median:F0} | {bf16Rate / run.Median:F2}x | {run.CpuMedian:F0} | {bf16CpuRate / run.CpuMedian:F2}x | {run.LastLoss:F4} |"));
            }

            stdout.WriteLine();
            foreach (Trainee run in runs)
            {
                // Where a step's time goes: only the GEMMs change between the rows.
                double total = run.Kernels.Times.Values.Sum(t => t.Seconds);
                stdout.WriteLine($"{run.Gemm.Name} step time by kernel: " + string.Join(", ", run.Kernels.Times
                    .OrderByDescending(t => t.Value.Seconds).Take(8).Select(t => F($"{t.Key} {t.Value.Seconds / total:P0}"))));
            }
        }
        finally
        {
            foreach (Trainee run in runs)
            {
                run.Dispose();
            }
        }

        return 0;
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private sealed class Trainee : IDisposable
    {
        private readonly LlamaModel _model;
        private readonly int _tokensPerStep;
        private readonly Trainer _trainer;

        public Trainee(IGemm gemm, LlamaConfig config, int batch, int context, int steps, int[] tokens)
        {
            Gemm = gemm;
            Kernels = new TimedKernels(new CpuKernels(gemm));
            _model = new LlamaModel(config, Kernels);
            _model.InitializeWeights(1);
            var options = new TrainerOptions { BatchSize = batch, SequenceLength = context, MaxSteps = steps + 1, WarmupSteps = 1 };
            _trainer = new Trainer(_model, options, new InMemoryTokenSource(tokens));
            _tokensPerStep = batch * context;
        }

        public IGemm Gemm { get; }

        public TimedKernels Kernels { get; }

        public List<double> Rates { get; } = [];

        public double LastLoss { get; private set; }

        public double Median => Rates.Order().ElementAt(Rates.Count / 2);

        public List<double> CpuRates { get; } = [];

        public double CpuMedian => CpuRates.Order().ElementAt(CpuRates.Count / 2);

        public double Step()
        {
            TimeSpan cpu0 = CpuTime();
            var result = _trainer.TrainStep();
            CpuRates.Add(_tokensPerStep / (CpuTime() - cpu0).TotalSeconds);
            LastLoss = result.Loss;
            return result.TokensPerSecond;
        }

        private static TimeSpan CpuTime()
        {
            using var self = System.Diagnostics.Process.GetCurrentProcess();
            return self.TotalProcessorTime;
        }

        public void Dispose()
        {
            _trainer.Dispose();
            _model.Dispose();
        }
    }
}
