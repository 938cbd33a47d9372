using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using JpegLm.Cuda.Checks;
using JpegLm.Cuda.Interop;
using JpegLm.Cuda.Kernels;
using JpegLm.Engine.Kernels.Cpu;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm gpu-check</c>: everything a GPU session must verify, runnable from the self-contained binary
/// (no SDK on the GPU machine): the library probe, kernel compilation, per-op parity against the CPU kernels
/// (fp32 and bf16), one training step against the CPU, 50 steps of tiny training, and training/decoding
/// throughput with MFU. Prints a summary table last; full logs go to <c>--out</c>.
/// </summary>
internal sealed class GpuCheckCommand : CliCommand
{
    private readonly Option<string?> _out = CliOptions.Text("--out", "DIR", "write gpu-check.log, parity.tsv and summary.txt there");
    private readonly Option<bool> _quick = CliOptions.Flag("--quick", "parity and training checks, then only the small throughput runs");
    private readonly Option<int> _device = CliOptions.Number("--device", 0, 0, 64, "CUDA device ordinal");

    public GpuCheckCommand()
        : base("gpu-check", "check the CUDA backend against the CPU and measure throughput", """
            Exit code 0 when every check passes, 1 when one fails or no CUDA driver/device is found.

            Example:
              jpeglm gpu-check --out gpu-check/ --quick
            """)
    {
        Add(_out, _quick, _device);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        string? outDir = parsed.GetValue(_out);
        bool quick = parsed.Value(_quick);
        int ordinal = parsed.Value(_device);
        if (outDir != null)
        {
            Directory.CreateDirectory(outDir);
        }

        using var log = new Report(stdout, outDir);
        try
        {
            return new Session(log, quick, ordinal).Run();
        }
        finally
        {
            log.WriteFiles();
        }
    }

    /// <summary>Writes to the console and keeps the full log and the summary rows for the files.</summary>
    private sealed class Report(TextWriter console, string? outDir) : IDisposable
    {
        private readonly List<string> _lines = [];
        private readonly List<string> _parity = ["precision\toperation\toutput\trelative_error\ttolerance\tdeterministic\tpassed"];

        public List<(string Check, bool? Passed, string Value)> Summary { get; } = [];

        public void Line(string text = "")
        {
            console.WriteLine(text);
            _lines.Add(text);
        }

        public void Quiet(string text) => _lines.Add(text);

        public void Parity(string precision, ParityResult r)
            => _parity.Add(string.Create(CultureInfo.InvariantCulture, $"{precision}\t{r.Operation}\t{r.Output}\t{r.RelativeError:E3}\t{r.Tolerance:E1}\t{r.Deterministic}\t{r.Passed}"));

        public void Add(string check, bool? passed, string value)
        {
            Summary.Add((check, passed, value));
            Quiet($"summary: {check}: {(passed is null ? "info" : passed.Value ? "PASS" : "FAIL")} {value}");
        }

        public string Table()
        {
            var w = new StringWriter(CultureInfo.InvariantCulture);
            int width = Math.Max(28, Summary.Count == 0 ? 0 : Summary.Max(s => s.Check.Length));
            w.WriteLine($"{"check".PadRight(width)}  result  value");
            foreach ((string check, bool? passed, string value) in Summary)
            {
                w.WriteLine($"{check.PadRight(width)}  {(passed is null ? "  -   " : passed.Value ? " PASS " : " FAIL ")}  {value}");
            }

            return w.ToString();
        }

        public void WriteFiles()
        {
            if (outDir == null)
            {
                return;
            }

            Write("gpu-check.log", string.Join('\n', _lines) + "\n");
            Write("parity.tsv", string.Join('\n', _parity) + "\n");
            Write("summary.txt", Table());
        }

        public void Dispose()
        {
        }

        private void Write(string name, string text)
        {
            string path = Path.Combine(outDir!, name);
            File.WriteAllText(path + ".tmp", text);
            File.Move(path + ".tmp", path, overwrite: true);
        }
    }

    private sealed class Session(Report log, bool quick, int ordinal)
    {
        public int Run()
        {
            log.Line($"jpeglm gpu-check on .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(quick ? ", quick" : "")}");
            log.Line("== library probe");
            LibraryResolution driver = LibraryResolver.ResolveDriver(SystemLibraryProbe.Instance);
            foreach (string line in driver.Describe())
            {
                log.Line("  " + line);
            }

            LibraryResolution toolkit = LibraryResolver.ResolveToolkit(SystemLibraryProbe.Instance, CudaLibrary.Cublas, CudaLibrary.CublasLt, CudaLibrary.Nvrtc);
            foreach (string line in toolkit.Describe())
            {
                log.Line("  " + line);
            }

            log.Line(toolkit.Success ? $"  toolkit: CUDA {toolkit.Major} libraries" : $"  toolkit: {toolkit.Error}");
            Nvrtc? compiler = Nvrtc.TryLoad(out LibraryResolution nvrtcAlone);
            log.Line(compiler != null ? $"  NVRTC alone: {compiler.Version} from {compiler.Library.Path}" : $"  NVRTC alone: {nvrtcAlone.Error}");
            if (!driver.Success && compiler != null)
            {
                // Without a GPU the binary can still prove that its embedded kernels compile (sm_90 CUBINs).
                var watch = Stopwatch.StartNew();
                int compiled = 0;
                foreach (string module in KernelSources.Modules)
                {
                    byte[] cubin = CubinCache.Compile(compiler, module, 90, out _);
                    log.Line($"  compiled {module} for sm_90: {cubin.Length} bytes");
                    compiled++;
                }

                log.Add("kernel compile (NVRTC only)", true, $"{compiled} modules for sm_90 in {watch.Elapsed.TotalSeconds:F1} s");
            }

            if (!driver.Success)
            {
                log.Line("gpu-check: no CUDA driver found (libcuda.so.1); set JPEGLM_CUDA_DRIVER to its path if it is installed elsewhere");
                log.Add("cuda driver", false, "not found");
                log.Line();
                log.Line(log.Table());
                return 1;
            }

            if (!toolkit.Success)
            {
                log.Line("gpu-check: " + toolkit.Error);
                log.Add("cuda toolkit", false, toolkit.Error!);
                log.Line(log.Table());
                return 1;
            }

            foreach (LoadedLibrary l in toolkit.Libraries)
            {
                NativeFree(l);
            }

            bool ok = true;
            ok &= Stage("fp32 backend", () => Precision(CudaPrecision.Float32, 1e-5, 1e-4));
            ok &= Stage("bf16 backend", () => Precision(CudaPrecision.BFloat16, 2e-2, 2e-2));
            ok &= Stage("throughput", Throughput);
            log.Line();
            log.Line(log.Table());
            return ok && log.Summary.All(s => s.Passed != false) ? 0 : 1;
        }

        private static void NativeFree(LoadedLibrary library) => System.Runtime.InteropServices.NativeLibrary.Free(library.Handle);

        private bool Stage(string name, Func<bool> body)
        {
            try
            {
                return body();
            }
            catch (Exception e)
            {
                // A check runner reports every failure in its table rather than dying with a stack trace.
                log.Line($"{name}: {e.GetType().Name}: {e.Message}");
                log.Quiet(e.ToString());
                log.Add(name, false, e.Message.Split('\n')[0]);
                return false;
            }
        }

        private bool Precision(CudaPrecision precision, double tolerance, double stepTolerance)
        {
            string p = precision == CudaPrecision.Float32 ? "fp32" : "bf16";
            var watch = Stopwatch.StartNew();
            using CudaKernels gpu = CudaKernels.Create(precision, ordinal);
            log.Line($"== {gpu.Name}");
            if (precision == CudaPrecision.Float32)
            {
                (long free, long total) = gpu.Device.MemoryInfo();
                log.Line($"  device {gpu.Device.Ordinal}: {gpu.Device.Name}, sm_{gpu.Device.Arch}, {gpu.Device.Multiprocessors} SMs, {total >> 20} MiB ({free >> 20} free), driver CUDA {gpu.Device.DriverVersion}");
                log.Line($"  cuBLAS {gpu.CublasVersion}, NVRTC {new Nvrtc(gpu.Toolkit.Get(CudaLibrary.Nvrtc)).Version}, CUBIN cache {gpu.Cubins.Directory}");
            }

            gpu.LoadAllModules();
            log.Line($"  modules loaded in {watch.Elapsed.TotalSeconds:F1} s ({gpu.Cubins.Compiled} compiled by NVRTC)");
            log.Add($"kernels load ({p})", true, $"{gpu.Cubins.Compiled} compiled, {watch.Elapsed.TotalSeconds:F1} s");

            using var cpu = new CpuKernels();
            log.Line($"== parity {p} against {cpu.Name}, tolerance {tolerance:E0}");
            IReadOnlyList<ParityResult> results = new KernelParity(gpu, cpu, tolerance, seed: Environment.TickCount).RunAll(r =>
            {
                log.Parity(p, r);
                log.Line($"  {(r.Passed ? "ok  " : "FAIL")} {r.Operation,-52} {r.Output,-13} {r.RelativeError,10:E2}{(r.Deterministic ? "" : "  NOT DETERMINISTIC")}");
            });
            ParityResult worst = results.OrderByDescending(r => double.IsNaN(r.RelativeError) ? double.PositiveInfinity : r.RelativeError).First();
            int failed = results.Count(r => !r.Passed);
            log.Add($"parity {p} ({results.Count} outputs)", failed == 0, $"{failed} failed; worst {worst.RelativeError:E2} {worst.Operation} {worst.Output}");

            log.Line($"== one training step {p} against the CPU ({TrainingCheck.SmallConfig.NumHiddenLayers} layers, d {TrainingCheck.SmallConfig.HiddenSize})");
            StepComparison s = TrainingCheck.CompareOneStep(gpu, cpu, TrainingCheck.SmallConfig, 2, 64);
            log.Line($"  loss gpu {s.CandidateLoss:F6} cpu {s.ReferenceLoss:F6}; gradient error {s.GradientError:E2}; norm error {s.NormError:E2}; weights {s.WeightError:E2}; update {s.UpdateError:E2}");
            double lossError = Math.Abs(s.CandidateLoss - s.ReferenceLoss) / Math.Abs(s.ReferenceLoss);
            bool stepOk = lossError <= stepTolerance && s.WeightError <= stepTolerance && !double.IsNaN(s.GradientError);
            log.Add($"training step {p}", stepOk, $"loss err {lossError:E1}, grad err {s.GradientError:E1}, weight err {s.WeightError:E1}");

            bool trainOk = true;
            if (precision == CudaPrecision.BFloat16)
            {
                log.Line("== 50 steps of tiny training (bf16)");
                float[] losses = TrainingCheck.TrainTiny(gpu, TrainingCheck.SmallConfig, 50);
                log.Line("  losses " + string.Join(' ', losses.Select(l => l.ToString("F3", CultureInfo.InvariantCulture))));
                trainOk = losses.All(float.IsFinite) && losses[^1] < 0.7f * losses[0];
                log.Add("tiny training 50 steps", trainOk, $"loss {losses[0]:F3} -> {losses[^1]:F3}");
            }

            log.Line($"  device allocations {gpu.DriverAllocations}, {gpu.ReservedBytes >> 20} MiB reserved");
            return failed == 0 && stepOk && trainOk;
        }

        private bool Throughput()
        {
            using CudaKernels gpu = CudaKernels.Create(CudaPrecision.BFloat16, ordinal);
            log.Line($"== throughput on {gpu.Name}");
            var runs = new List<(Engine.Model.LlamaConfig Config, string Label, int Length, int Steps)>
            {
                (ThroughputBenchmark.Llama125M(4096), "train 125M T=4096", 4096, quick ? 2 : 3),
            };
            if (!quick)
            {
                runs.Add((ThroughputBenchmark.Llama350M(12288), "train 350M T=12288", 12288, 2));
            }

            foreach ((Engine.Model.LlamaConfig config, string label, int length, int steps) in runs)
            {
                TrainingThroughput t = ThroughputBenchmark.Train(gpu, config, label, 1, length, steps, log.Line, () => gpu.DriverAllocations);
                log.Add($"{label} no cuMemAlloc per step", t.AllocationsInTimedSteps == 0, $"{t.AllocationsInTimedSteps} allocations in {steps} timed steps");
                log.Add(label, float.IsFinite(t.Loss) ? null : false,
                    string.Create(CultureInfo.InvariantCulture, $"{t.TokensPerSecond:F0} tok/s, {t.MedianStepSeconds * 1000:F0} ms/step, MFU {t.Mfu * 100:F2}% ({t.Parameters / 1e6:F0}M weights, {t.FlopsPerToken / 1e9:F2} GFLOP/token)"));
            }

            foreach (int batch in quick ? new[] { 1 } : [1, 8])
            {
                int tokens = quick ? 64 : 512;
                DecodeThroughput d = ThroughputBenchmark.Decode(gpu, ThroughputBenchmark.Llama125M(tokens), $"decode 125M batch {batch}", batch, tokens);
                log.Add($"decode 125M batch {batch}", null, string.Create(CultureInfo.InvariantCulture, $"{d.TokensPerSecond:F0} tok/s over {tokens} positions (KV cache)"));
            }

            foreach (int samples in quick ? new[] { 1 } : [1, 8])
            {
                int tokens = quick ? 64 : 512;
                DecodeThroughput d = ThroughputBenchmark.Sample(gpu, ThroughputBenchmark.Llama125M(tokens + 16), $"sampler 125M x{samples}", samples, tokens);
                log.Add($"engine sampler 125M x{samples}", null, string.Create(CultureInfo.InvariantCulture, $"{d.TokensPerSecond:F0} tok/s, {tokens} new tokens, top-k 50 / top-p 0.95"));
            }

            log.Line($"  device allocations {gpu.DriverAllocations}, {gpu.ReservedBytes >> 20} MiB reserved");
            return true;
        }
    }
}
