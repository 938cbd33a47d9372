using System.Globalization;
using JpegLm.Cuda.Checks;
using JpegLm.Cuda.Interop;
using JpegLm.Cuda.Kernels;
using JpegLm.Engine.Kernels.Cpu;

namespace JpegLm.Cuda.Tests.Emulator;

/// <summary>
/// The child process of <see cref="EmulatedDevice"/>: <c>dotnet JpegLm.Cuda.Tests.dll COMMAND ...</c> with
/// <c>JPEGLM_CUDA_EMULATOR</c> (and, for the ASan build, <c>LD_PRELOAD</c> of libasan) set by the parent.
/// Each command prints tab-separated result lines the test parses; a CUDA failure prints <c>ERROR</c> and its
/// message and exits 2, a mismatch does not change the exit code (the test judges the numbers).
/// </summary>
public static class Program
{
    /// <summary>Runs one command.</summary>
    public static int Main(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        try
        {
            return args[0] switch
            {
                "parity" => Parity(Precision(args[1]), int.Parse(args[2], CultureInfo.InvariantCulture), args.Length > 3 ? args[3] : null),
                "step" => Step(Precision(args[1])),
                "sample" => Sample(Precision(args[1])),
                "selftest" => SelfTest(args[1], args[2]),
                "fault" => Fault(),
                "attention-consistency" => AttentionConsistency(),
                _ => throw new ArgumentException($"unknown command {args[0]}"),
            };
        }
        catch (CudaException e)
        {
            Console.WriteLine("ERROR\t" + e.Message.Replace('\n', ' '));
            return 2;
        }
    }

    private static CudaPrecision Precision(string name) => name == "bf16" ? CudaPrecision.BFloat16 : CudaPrecision.Float32;

    private static int Parity(CudaPrecision precision, int seed, string? only)
    {
        using CudaKernels gpu = CudaKernels.Create(precision);
        using var cpu = new CpuKernels();
        Console.WriteLine($"DEVICE\t{gpu.Name}");
        var parity = new KernelParity(gpu, cpu, ParityTolerance.For(precision), seed);
        parity.RunAll(r => Console.WriteLine(
            $"PARITY\t{r.Operation}\t{r.Output}\t{r.RelativeError:E3}\t{r.MaxAbsoluteError:E3}\t{r.MaxElementError:E3}\t{r.Deterministic}\t{r.Passed}"),
            only);
        return 0;
    }

    private static int Step(CudaPrecision precision)
    {
        using CudaKernels gpu = CudaKernels.Create(precision);
        using var cpu = new CpuKernels();
        StepComparison s = TrainingCheck.CompareOneStep(gpu, cpu, TrainingCheck.SmallConfig, 2, 64);
        Console.WriteLine($"STEP\t{s.CandidateLoss:R}\t{s.ReferenceLoss:R}\t{s.GradientError:E3}\t{s.NormError:E3}\t{s.WeightError:E3}\t{s.UpdateError:E3}");
        return 0;
    }

    private static int Sample(CudaPrecision precision)
    {
        using CudaKernels gpu = CudaKernels.Create(precision);
        using var cpu = new CpuKernels();
        SamplingComparison s = SamplingCheck.Compare(gpu, cpu, TrainingCheck.SmallConfig);
        Console.WriteLine($"SAMPLE\t{s.SameTokens}\t{s.WorstLogitError:E3}\t{s.WorstStep}\t{s.Steps}\t{string.Join(' ', s.CandidateTokens)}");
        return 0;
    }

    /// <summary>
    /// Compiles Cuda/Emulator/selftest.cu with NVRTC, loads it on the emulated device and launches one of its
    /// deliberately wrong kernels; prints the error the launch ends with.
    /// </summary>
    private static unsafe int SelfTest(string sourcePath, string kernel)
    {
        Nvrtc nvrtc = Nvrtc.TryLoad(out LibraryResolution why) ?? throw new CudaException(why.Error!);
        LibraryResolution driver = LibraryResolver.ResolveDriver(SystemLibraryProbe.Instance);
        using CudaDevice device = CudaDevice.Open(driver.Get(CudaLibrary.Driver));
        byte[] cubin = nvrtc.CompileToCubin(File.ReadAllText(sourcePath), "selftest.cu", KernelSources.Headers, device.Arch, KernelSources.Options, out _);
        nint module = device.LoadModule(cubin, "selftest.cu");
        nint function = device.GetFunction(module, kernel);
        ulong buffer = device.Allocate(1024 * 4);
        device.Fill32(buffer, 0, 1024);
        int n = 256;
        void** args = stackalloc void*[] { &buffer, &n };
        try
        {
            device.Launch(function, kernel, (2, 1, 1), (128, 1, 1), 0, args);
            device.Synchronize();
            float[] host = new float[4];
            fixed (float* p = host)
            {
                device.CopyToHost(new Span<byte>(p, 16), buffer);
            }

            Console.WriteLine($"OK\t{host[0]}\t{host[1]}\t{host[2]}\t{host[3]}");
        }
        catch (CudaException e)
        {
            Console.WriteLine("FAULT\t" + e.Message.Replace('\n', ' '));
        }

        return 0;
    }

    /// <summary>
    /// The bf16 attention backward against the CPU engine's attention on bf16-rounded Q, K, V: the tensor-core
    /// forward computes its scores (and the log-sum-exp it saves) from rounded inputs, so a backward that
    /// recomputes probabilities from the unrounded ones is inconsistent with that log-sum-exp.
    /// </summary>
    private static int AttentionConsistency()
    {
        using CudaKernels gpu = CudaKernels.Create(CudaPrecision.BFloat16);
        using var cpu = new CpuKernels();
        var shape = Engine.Kernels.AttentionShape.Training(2, 100, 4, 2, 64);
        long qn = 2L * 100 * 4 * 64, kn = 2L * 100 * 2 * 64, ln = 2L * 4 * 100;
        var random = new Random(7);
        float[] Floats(long n) => [.. Enumerable.Range(0, (int)n).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        static float Round(float f)
        {
            // Round to the nearest bfloat16 (ties to even), as the tensor-core path rounds its inputs.
            uint bits = BitConverter.SingleToUInt32Bits(f);
            return BitConverter.UInt32BitsToSingle((bits + 0x7fffu + ((bits >> 16) & 1u)) & 0xffff0000u);
        }

        float[] q = Floats(qn), k = Floats(kn), v = Floats(kn), dO = Floats(qn);
        Dictionary<string, float[]> Run(Engine.Kernels.IKernels kernels, bool rounded)
        {
            float[] Input(float[] x) => rounded ? [.. x.Select(Round)] : x;
            var buffers = new List<Engine.Kernels.ITensorBuffer>();
            Engine.Kernels.Tensor New(float[] data)
            {
                Engine.Kernels.ITensorBuffer b = kernels.Allocate(data.Length);
                buffers.Add(b);
                kernels.Upload(data, Engine.Kernels.Tensor.Of(b));
                return Engine.Kernels.Tensor.Of(b);
            }

            Engine.Kernels.Tensor tq = New(Input(q)), tk = New(Input(k)), tv = New(Input(v)), o = New(new float[qn]), lse = New(new float[ln]);
            Engine.Kernels.Tensor dq = New(new float[qn]), dk = New(new float[kn]), dv = New(new float[kn]);
            kernels.AttentionForward(o, lse, tq, tk, tv, shape);
            kernels.AttentionBackward(dq, dk, dv, New(dO), o, lse, tq, tk, tv, shape);
            var result = new Dictionary<string, float[]>();
            foreach ((string name, Engine.Kernels.Tensor t) in new[] { ("queryGrad", dq), ("keyGrad", dk), ("valueGrad", dv) })
            {
                float[] host = new float[t.Length];
                kernels.Download(t, host);
                result[name] = host;
            }

            buffers.ForEach(b => b.Dispose());
            return result;
        }

        Dictionary<string, float[]> candidate = Run(gpu, rounded: false), reference = Run(cpu, rounded: true);
        foreach ((string name, float[] expected) in reference)
        {
            (double maxAbs, double maxElement) = KernelParity.ElementErrors(candidate[name], expected);
            Console.WriteLine($"CONSISTENCY\t{name}\t{KernelParity.RelativeError(candidate[name], expected):E3}\t{maxElement:E3}");
        }

        return 0;
    }

    /// <summary>
    /// With <c>JPEGLM_CUDAEMU_FAULT</c> naming a kernel: the first error must name that kernel when launches are
    /// synchronized, and disposing the backend afterwards must not throw a second error over it.
    /// </summary>
    private static int Fault()
    {
        CudaKernels gpu = CudaKernels.Create(CudaPrecision.Float32);
        gpu.Device.SynchronizeEveryLaunch = true;
        using var cpu = new CpuKernels();
        try
        {
            new KernelParity(gpu, cpu, 1e-5, 1).RunAll();
            Console.WriteLine("NOFAULT");
        }
        catch (CudaException e)
        {
            Console.WriteLine("FIRST\t" + e.Message.Replace('\n', ' '));
        }

        try
        {
            gpu.Dispose();
            Console.WriteLine("DISPOSED");
        }
        catch (CudaException e)
        {
            Console.WriteLine("DISPOSE-THREW\t" + e.Message.Replace('\n', ' '));
        }

        return 0;
    }
}
