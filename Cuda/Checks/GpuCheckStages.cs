using System.Diagnostics;
using System.Globalization;
using JpegLm.Cuda.Interop;
using JpegLm.Cuda.Kernels;
using JpegLm.Engine.Kernels.Cpu;
using JpegLm.Engine.Model;

namespace JpegLm.Cuda.Checks;

/// <summary>The bodies of gpu-check's stages; each runs in its own process (see <see cref="GpuCheck"/>).</summary>
internal static class GpuCheckStages
{
    public static bool Run(GpuCheckOptions options, GpuCheckReport log)
    {
        try
        {
            return options.Stage switch
            {
                "resources" => Resources(log),
                "fp32" => Precision(CudaPrecision.Float32, options, log),
                "bf16" => Precision(CudaPrecision.BFloat16, options, log),
                "throughput" => Throughput(options, log),
                _ => throw new ArgumentException($"unknown gpu-check stage {options.Stage} (stages: {string.Join(", ", GpuCheck.Stages)})"),
            };
        }
        catch (Exception e) when (e is CudaException or ArgumentException or InvalidOperationException or IOException)
        {
            // A check runner reports every failure in its table rather than dying with a stack trace.
            log.Line($"{options.Stage}: {e.GetType().Name}: {e.Message}");
            log.Add($"stage {options.Stage}", false, e.Message.Split('\n')[0]);
            return false;
        }
    }

    /// <summary>Registers, local memory, spills and shared memory of every kernel, from NVRTC's own ptxas.</summary>
    private static bool Resources(GpuCheckReport log)
    {
        Nvrtc nvrtc = Nvrtc.TryLoad(out LibraryResolution why) ?? throw new InvalidOperationException(why.Error);
        int arch = 90;
        LibraryResolution driver = LibraryResolver.ResolveDriver(SystemLibraryProbe.Instance);
        if (driver.Success)
        {
            using CudaDevice device = CudaDevice.Open(driver.Get(CudaLibrary.Driver));
            arch = device.Arch;
        }

        log.Line($"== kernel resources for sm_{arch} (NVRTC {nvrtc.Version}; registers x threads as launched, limit {KernelResources.RegistersPerSm} per SM)");
        IReadOnlyList<KernelResource> report = KernelResources.Measure(nvrtc, arch);
        foreach (KernelResource r in report)
        {
            log.Line("  " + r);
        }

        if (log.OutDirectory != null)
        {
            log.Write("resources.txt", string.Join('\n', report) + "\n");
        }

        KernelResource[] over = [.. report.Where(r => r.RegistersPerBlock > KernelResources.RegistersPerSm)];
        KernelResource[] spills = [.. report.Where(r => r.Module == "attention_bf16.cu" && (r.SpillStoreBytes > 0 || r.StackFrameBytes > 0))];
        log.Add("kernel resources", over.Length == 0 && spills.Length == 0,
            $"{report.Count} kernels; {over.Length} over the register file; {spills.Length} tensor-core kernels with local memory; " +
            $"most local memory {report.Max(r => r.StackFrameBytes)} B ({report.MaxBy(r => r.StackFrameBytes)!.Kernel})");
        return over.Length == 0 && spills.Length == 0;
    }

    private static bool Precision(CudaPrecision precision, GpuCheckOptions options, GpuCheckReport log)
    {
        string p = precision == CudaPrecision.Float32 ? "fp32" : "bf16";
        var watch = Stopwatch.StartNew();
        using CudaKernels gpu = CudaKernels.Create(precision, options.Device);
        log.Line($"== {gpu.Name}");
        (long free, long total) = gpu.Device.MemoryInfo();
        log.Line($"  device {gpu.Device.Ordinal}: {gpu.Device.Name}, sm_{gpu.Device.Arch}, {gpu.Device.Multiprocessors} SMs, {total >> 20} MiB ({free >> 20} free), driver CUDA {gpu.Device.DriverVersion}");
        log.Line($"  cuBLAS {gpu.CublasVersion}, CUBIN cache {gpu.Cubins.Directory}");
        gpu.LoadAllModules();
        log.Add($"kernels load ({p})", true, $"{gpu.Cubins.Compiled} compiled by NVRTC, {watch.Elapsed.TotalSeconds:F1} s");

        using var cpu = new CpuKernels();
        int seed = options.ParitySeed ?? 1;
        ParityTolerance tolerance = ParityTolerance.For(precision);
        log.Line($"== parity {p} against {cpu.Name}: norm tolerance {tolerance.Norm:E0}, element {tolerance.Element:E0}, seed {seed}");
        log.Line($"   replay a case: jpeglm gpu-check --stage {p} --parity-seed {seed} --parity-case 'NAME'");
        // Synchronizing after every launch makes a faulting kernel fail its own launch, by name.
        gpu.Device.SynchronizeEveryLaunch = true;
        IReadOnlyList<ParityResult> results = new KernelParity(gpu, cpu, tolerance, seed).RunAll(r =>
        {
            log.Parity(p, r);
            log.Line(string.Create(CultureInfo.InvariantCulture,
                $"  {(r.Passed ? "ok  " : "FAIL")} {r.Operation,-50} {r.Output,-13} {r.RelativeError,10:E2} max {r.MaxElementError,9:E2}{(r.Deterministic ? "" : "  NOT DETERMINISTIC")}"));
        }, options.ParityCase, name => log.Line($"  case {name}"));
        gpu.Device.SynchronizeEveryLaunch = Environment.GetEnvironmentVariable("JPEGLM_CUDA_SYNC") == "1";
        int failed = results.Count(r => !r.Passed);
        ParityResult? worst = results.OrderByDescending(r => double.IsNaN(r.RelativeError) ? double.PositiveInfinity : r.RelativeError).FirstOrDefault();
        log.Add($"parity {p} ({results.Count} outputs)", failed == 0, $"{failed} failed; seed {seed}; worst {worst?.RelativeError:E2} {worst?.Operation} {worst?.Output}");
        if (options.ParityCase != null)
        {
            return failed == 0;
        }

        double stepTolerance = precision == CudaPrecision.Float32 ? 1e-4 : 2e-2;
        log.Line($"== one training step {p} against the CPU ({TrainingCheck.SmallConfig.NumHiddenLayers} layers, d {TrainingCheck.SmallConfig.HiddenSize})");
        StepComparison s = TrainingCheck.CompareOneStep(gpu, cpu, TrainingCheck.SmallConfig, 2, 64);
        log.Line($"  loss gpu {s.CandidateLoss:F6} cpu {s.ReferenceLoss:F6}; gradient error {s.GradientError:E2}; norm error {s.NormError:E2}; weights {s.WeightError:E2}; update {s.UpdateError:E2}");
        double lossError = Math.Abs(s.CandidateLoss - s.ReferenceLoss) / Math.Abs(s.ReferenceLoss);
        bool stepOk = lossError <= stepTolerance && s.WeightError <= stepTolerance && s.GradientError <= stepTolerance;
        log.Add($"training step {p}", stepOk, $"loss err {lossError:E1}, grad err {s.GradientError:E1}, weight err {s.WeightError:E1}");

        log.Line($"== sampling {p} against the CPU (KV cache, top-k 40, top-p 0.95, then a token-by-token replay)");
        SamplingComparison sample = SamplingCheck.Compare(gpu, cpu, TrainingCheck.SmallConfig);
        bool sampleOk = sample.WorstLogitError <= (precision == CudaPrecision.Float32 ? 1e-5 : 2e-2) && (precision != CudaPrecision.Float32 || sample.SameTokens);
        log.Add($"sampling {p}", sampleOk, $"same tokens {sample.SameTokens}; worst logits error {sample.WorstLogitError:E2} at step {sample.WorstStep} of {sample.Steps}");

        bool trainOk = true;
        if (precision == CudaPrecision.BFloat16 && !options.Quick)
        {
            log.Line("== 50 steps of tiny training (bf16)");
            float[] losses = TrainingCheck.TrainTiny(gpu, TrainingCheck.SmallConfig, 50);
            log.Line("  losses " + string.Join(' ', losses.Select(l => l.ToString("F3", CultureInfo.InvariantCulture))));
            trainOk = losses.All(float.IsFinite) && losses[^1] < 0.7f * losses[0];
            log.Add("tiny training 50 steps", trainOk, $"loss {losses[0]:F3} -> {losses[^1]:F3}");
        }
        else if (precision == CudaPrecision.BFloat16)
        {
            log.Line("== 50 steps of tiny training: skipped (--quick; minutes on the emulated device)");
        }

        log.Line($"  device allocations {gpu.DriverAllocations}, {gpu.ReservedBytes >> 20} MiB reserved");
        return failed == 0 && stepOk && sampleOk && trainOk;
    }

    private static bool Throughput(GpuCheckOptions options, GpuCheckReport log)
    {
        using CudaKernels gpu = CudaKernels.Create(CudaPrecision.BFloat16, options.Device);
        log.Line($"== throughput on {gpu.Name}");
        // The fixed configurations of the GPU run; --quick (the CPU and emulator rehearsals) runs the same code on
        // the small check model so that the stage finishes in seconds there.
        var runs = options.Quick
            ? new List<(LlamaConfig Config, string Label, int Length, int Steps)> { (TrainingCheck.SmallConfig, "train small T=128 (quick)", 128, 2) }
            : [(ThroughputBenchmark.Llama125M(4096), "train 125M T=4096", 4096, 3), (ThroughputBenchmark.Llama350M(12288), "train 350M T=12288", 12288, 2)];

        foreach ((LlamaConfig config, string label, int length, int steps) in runs)
        {
            TrainingThroughput t = ThroughputBenchmark.Train(gpu, config, label, 1, length, steps, log.Line, () => gpu.DriverAllocations);
            log.Add($"{label} no cuMemAlloc per step", t.AllocationsInTimedSteps == 0, $"{t.AllocationsInTimedSteps} allocations in {steps} timed steps");
            log.Add(label, float.IsFinite(t.Loss) ? null : false,
                string.Create(CultureInfo.InvariantCulture, $"{t.TokensPerSecond:F0} tok/s, {t.MedianStepSeconds * 1000:F0} ms/step, MFU {(t.Mfu is double mfu ? $"{mfu * 100:F2}%" : "n/a")} ({t.Parameters / 1e6:F0}M weights, {t.FlopsPerToken / 1e9:F2} GFLOP/token)"));
        }

        int tokens = options.Quick ? 16 : 512;
        string model = options.Quick ? "small" : "125M";
        LlamaConfig Decoder(int length) => options.Quick ? TrainingCheck.SmallConfig : ThroughputBenchmark.Llama125M(length);
        foreach (int batch in options.Quick ? new[] { 1 } : [1, 8])
        {
            DecodeThroughput d = ThroughputBenchmark.Decode(gpu, Decoder(tokens), $"decode {model} batch {batch}", batch, tokens);
            log.Add($"decode {model} batch {batch}", null, string.Create(CultureInfo.InvariantCulture, $"{d.TokensPerSecond:F0} tok/s over {tokens} positions (KV cache)"));
        }

        foreach (int samples in options.Quick ? new[] { 1 } : [1, 8])
        {
            DecodeThroughput d = ThroughputBenchmark.Sample(gpu, Decoder(tokens + 16), $"sampler {model} x{samples}", samples, tokens);
            log.Add($"engine sampler {model} x{samples}", null, string.Create(CultureInfo.InvariantCulture, $"{d.TokensPerSecond:F0} tok/s, {tokens} new tokens, top-k 50 / top-p 0.95"));
        }

        log.Line($"  device allocations {gpu.DriverAllocations}, {gpu.ReservedBytes >> 20} MiB reserved");
        return true;
    }
}
