using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Model;
using JpegLm.Engine.Sampling;
using JpegLm.Engine.Training;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm bench engine</c>: SGEMM rate (OpenBLAS and managed), then training and sampling throughput of
/// two Llama shapes, each as a ratio to the SGEMM rate measured in the same run. OpenBLAS picks its kernels
/// when it loads, so unless <c>--keep-env</c> is given the command re-runs itself without
/// <c>OPENBLAS_CORETYPE</c> / <c>OPENBLAS_L2_SIZE</c>.
/// </summary>
internal sealed class BenchEngineCommand : CliCommand
{
    private const string ChildMarker = "JPEGLM_BENCH_CHILD";

    /// <summary>The sizes of a full run and of a <c>--quick</c> one.</summary>
    private const int Context = 1024, QuickContext = 256, Steps = 3, QuickSteps = 1, SampleTokens = 512, QuickSampleTokens = 32;

    private readonly Option<int?> _context = CliOptions.OptionalNumber("--context", 16, 1 << 20, $"training context (default {Context}; {QuickContext} with --quick)");
    private readonly Option<int> _vocab = CliOptions.Number("--vocab", 8192, 2, 1 << 20, "vocabulary size of the models");
    private readonly Option<int?> _steps = CliOptions.OptionalNumber("--steps", 1, 1000, $"timed training steps (default {Steps}; {QuickSteps} with --quick)");
    private readonly Option<int?> _sampleTokens = CliOptions.OptionalNumber("--sample-tokens", 4, 100_000, $"tokens sampled (default {SampleTokens}; {QuickSampleTokens} with --quick)");
    private readonly Option<bool> _quick = CliOptions.Flag("--quick", "a short run: smaller context, fewer steps and tokens");
    private readonly Option<bool> _keepEnv = CliOptions.Flag("--keep-env", "keep OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (otherwise the benchmark re-runs itself without them)");

    public BenchEngineCommand()
        : base("engine", "GEMM, training and sampling speed of the CPU engine", """
            Prints SGEMM GFLOP/s (OpenBLAS, managed), then for 4x256 and 8x512 Llama models: training tokens/s,
            model FLOP/s (6N + attention per token) as a fraction of the SGEMM rate, sampling tokens/s, and the
            largest context that trains in 24 GiB by the memory model.
            """)
    {
        Add(_context, _vocab, _steps, _sampleTokens, _quick, _keepEnv);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        bool quick = parsed.Value(_quick);
        int context = parsed.GetValue(_context) ?? (quick ? QuickContext : Context);
        int vocab = parsed.Value(_vocab);
        int steps = parsed.GetValue(_steps) ?? (quick ? QuickSteps : Steps);
        int sampleTokens = parsed.GetValue(_sampleTokens) ?? (quick ? QuickSampleTokens : SampleTokens);
        bool keepEnv = parsed.Value(_keepEnv);
        if (!keepEnv && Environment.GetEnvironmentVariable(ChildMarker) == null
            && (Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") != null || Environment.GetEnvironmentVariable("OPENBLAS_L2_SIZE") != null))
        {
            return RerunWithoutOpenBlasOverrides([.. parsed.Tokens.Select(t => t.Value)], stdout);
        }

        stdout.WriteLine($"bench-engine {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSArchitecture}, OPENBLAS_CORETYPE={Environment.GetEnvironmentVariable("OPENBLAS_CORETYPE") ?? "(unset)"}");
        OpenBlasGemm? blas = OpenBlasGemm.TryCreate();
        var managed = new ManagedGemm();
        (double blasRate, double managedRate, double blasCpuRate, double managedCpuRate) = GemmRates(blas, managed, GemmRate.Size);
        stdout.WriteLine(blas == null ? $"OpenBLAS: absent ({OpenBlasGemm.LoadError})" : F($"SGEMM {GemmRate.Size}³ OpenBLAS: {blasRate:F1} GFLOP/s"));
        stdout.WriteLine(F($"SGEMM {GemmRate.Size}³ {managed.Name}: {managedRate:F1} GFLOP/s  (managed / OpenBLAS = {managedRate / blasRate:P0})"));
        stdout.WriteLine(F($"per CPU-second (robust to other processes): OpenBLAS {blasCpuRate:F1}, managed {managedCpuRate:F1} GFLOP/cpu-s (managed / OpenBLAS = {managedCpuRate / blasCpuRate:P0})"));
        double reference = double.IsNaN(blasRate) ? managedRate : blasRate;
        double cpuReference = double.IsNaN(blasCpuRate) ? managedCpuRate : blasCpuRate;

        stdout.WriteLine();
        stdout.WriteLine("| model | context | backend | train tok/s | model GFLOP/s | / SGEMM | / SGEMM per CPU-s | sample tok/s | decode step/s first / last quarter | max context in 24 GiB |");
        stdout.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        var profiles = new List<string>();
        foreach ((int layers, int width, int ffn) in new[] { (4, 256, 688), (8, 512, 1376) })
        {
            var config = new LlamaConfig
            {
                NumHiddenLayers = layers, HiddenSize = width, IntermediateSize = ffn, NumAttentionHeads = width / 64, VocabSize = vocab,
                MaxPositionEmbeddings = Math.Max(context, sampleTokens + 8),
            };
            var kernels = new TimedKernels(new CpuKernels(blas ?? (IGemm)managed));
            using var model = new LlamaModel(config, kernels);
            model.InitializeWeights(1);
            var data = new InMemoryTokenSource([.. Enumerable.Range(0, context * (steps + 2) + 1).Select(i => (int)((i * 2654435761L) % vocab))]);
            var options = new TrainerOptions { BatchSize = 1, SequenceLength = context, MaxSteps = steps + 1, WarmupSteps = 1 };
            using var trainer = new Trainer(model, options, data);
            trainer.TrainStep(); // warm-up: JIT, buffers
            kernels.Reset();
            var rates = new List<double>();
            var cpuRates = new List<double>();
            for (int s = 0; s < steps; s++)
            {
                TimeSpan cpu0 = CpuTime();
                rates.Add(trainer.TrainStep().TokensPerSecond);
                cpuRates.Add(context / (CpuTime() - cpu0).TotalSeconds);
            }

            double cpuFlops = Median(cpuRates) * TrainingFlops.PerToken(config, context);

            double tokensPerSecond = Median(rates);
            double total = kernels.Times.Values.Sum(t => t.Seconds);
            profiles.Add(F($"{layers}x{width} training step time by kernel: ") + string.Join(", ", kernels.Times.OrderByDescending(t => t.Value.Seconds).Take(8)
                .Select(t => F($"{t.Key} {t.Value.Seconds / total:P0}"))));
            double flops = tokensPerSecond * TrainingFlops.PerToken(config, context);
            double sampleRate = SampleRate(model, sampleTokens, out double earlyRate, out double lateRate);
            int maxContext = LargestContext(config, 24L << 30);
            stdout.WriteLine(F($"| {layers}x{width} (V={vocab}) | {context} | {kernels.Name} | {tokensPerSecond:F0} | {flops / 1e9:F1} | {flops / 1e9 / reference:P0} | {cpuFlops / 1e9 / cpuReference:P0} | {sampleRate:F0} | {earlyRate:F0} / {lateRate:F0} | {maxContext} |"));
        }

        stdout.WriteLine();
        foreach (string line in profiles)
        {
            stdout.WriteLine(line);
        }

        return 0;
    }

    private static TimeSpan CpuTime()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    // Alternates the two GEMMs so that load from other processes hits both alike; returns median GFLOP/s.
    private static (double Blas, double Managed, double BlasCpu, double ManagedCpu) GemmRates(IGemm? blas, IGemm managed, int size)
    {
        var operands = new GemmRate.Operands(size);
        var blasTimes = new List<double>();
        var managedTimes = new List<double>();
        var cpu = new Dictionary<IGemm, double>();
        for (int r = 0; r < 8; r++)
        {
            foreach ((IGemm? gemm, List<double> times) in new[] { (blas, blasTimes), (managed, managedTimes) })
            {
                if (gemm == null)
                {
                    continue;
                }

                TimeSpan cpu0 = CpuTime();
                var sw = Stopwatch.StartNew();
                GemmRate.Run(gemm, operands);
                if (r > 0)
                {
                    times.Add(sw.Elapsed.TotalSeconds);
                    cpu[gemm] = cpu.GetValueOrDefault(gemm) + (CpuTime() - cpu0).TotalSeconds;
                }
            }
        }

        double flops = GemmRate.Flops(size) / 1e9;
        return (blas == null ? double.NaN : flops / Median(blasTimes), flops / Median(managedTimes),
            blas == null ? double.NaN : 7 * flops / cpu[blas], 7 * flops / cpu[managed]);
    }

    // End-to-end Sampler rate, and per-step decode rates over the first and last quarter of the positions
    // (with a KV cache the late steps should cost only their longer attention).
    private static double SampleRate(LlamaModel model, int tokens, out double earlyRate, out double lateRate)
    {
        var sampler = new Sampler(model);
        var options = new SamplingOptions { MaxNewTokens = tokens, Seed = 1, Temperature = 1f };
        sampler.Generate([1, 2, 3, 4], options with { MaxNewTokens = 4 }); // warm-up
        var sw = Stopwatch.StartNew();
        sampler.Generate([1, 2, 3, 4], options);
        double rate = tokens / sw.Elapsed.TotalSeconds;

        using var cache = new KvCache(model.Kernels, model.Config, 1, tokens + 1);
        using var forward = new CachedForward(model, 1, 1);
        float[] logits = new float[model.Config.VocabSize];
        int[] token = [1];
        var steps = new List<double>();
        for (int t = 0; t < tokens; t++)
        {
            sw.Restart();
            forward.Run(cache, token, logits);
            steps.Add(sw.Elapsed.TotalSeconds);
        }

        int quarter = Math.Max(1, tokens / 4);
        earlyRate = 1 / Median(steps.Take(quarter).ToList());
        lateRate = 1 / Median(steps.Skip(tokens - quarter).ToList());
        return rate;
    }

    /// <summary>Largest power-of-two-aligned context (multiple of 256) whose training memory fits <paramref name="budget"/> at batch 1.</summary>
    private static int LargestContext(LlamaConfig config, long budget)
    {
        int lo = 0, hi = 1 << 22;
        while (hi - lo > 256)
        {
            int mid = (lo + hi) / 2 / 256 * 256;
            if (LlamaModel.TrainingMemoryBytes(config, 1, mid) <= budget)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    private static int RerunWithoutOpenBlasOverrides(IReadOnlyList<string> args, TextWriter stdout)
    {
        string host = Environment.ProcessPath ?? "dotnet";
        var psi = new ProcessStartInfo(host) { UseShellExecute = false, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(host) == "dotnet")
        {
            psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, typeof(Program).Assembly.GetName().Name + ".dll"));
        }

        foreach (string arg in args)
        {
            psi.ArgumentList.Add(arg);
        }

        psi.Environment.Remove("OPENBLAS_CORETYPE");
        psi.Environment.Remove("OPENBLAS_L2_SIZE");
        psi.Environment[ChildMarker] = "1";
        using Process child = Process.Start(psi) ?? throw new InvalidOperationException("cannot re-run bench engine");
        string? line;
        while ((line = child.StandardOutput.ReadLine()) != null)
        {
            stdout.WriteLine(line);
        }

        child.WaitForExit();
        return child.ExitCode;
    }
}
