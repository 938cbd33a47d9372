using JpegLm.Cuda.Interop;
using JpegLm.Cuda.Kernels;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Kernels.Cpu;

namespace JpegLm.Cli.Pipeline;

/// <summary>Chooses the compute backend for <c>--device auto|cpu|cpu-bf16|cuda|cuda-fp32</c>.</summary>
internal static class Backends
{
    /// <summary>
    /// Opens the backend. <c>auto</c> takes CUDA when a driver, a device and the toolkit libraries are found,
    /// else the CPU (saying why on <paramref name="log"/>); <c>cuda</c> (bf16 GEMMs and attention) and
    /// <c>cuda-fp32</c> (everything in float32, as exact as the CPU) fail with the resolver's reason; <c>cpu-bf16</c>
    /// (the CPU with bf16 GEMMs) fails with the reason its native kernel cannot run.
    /// <paramref name="ordinal"/> picks the GPU (data-parallel ranks take their rank on the node).
    /// </summary>
    public static IKernels Open(string device, TextWriter log, int ordinal = 0)
    {
        switch (device)
        {
            case "cpu":
                return new CpuKernels();
            case "cpu-bf16":
                return new CpuKernels(Bf16Gemm.TryCreate() ?? throw new UsageException($"--device cpu-bf16: {Bf16Gemm.LoadError}"));
            case "cuda" or "cuda-fp32":
                try
                {
                    return CudaKernels.Create(device == "cuda" ? CudaPrecision.BFloat16 : CudaPrecision.Float32, ordinal);
                }
                catch (Exception e) when (e is CudaException or DllNotFoundException or EntryPointNotFoundException)
                {
                    throw new UsageException($"--device {device}: {e.Message}");
                }

            case "auto":
                try
                {
                    return CudaKernels.Create(CudaPrecision.BFloat16, ordinal);
                }
                catch (Exception e) when (e is CudaException or DllNotFoundException or EntryPointNotFoundException)
                {
                    log.WriteLine($"device: no usable GPU ({FirstLine(e.Message)}); using the CPU");
                    return new CpuKernels();
                }

            default:
                throw new UsageException($"--device must be auto, cpu, cpu-bf16, cuda or cuda-fp32, got '{device}'");
        }
    }

    private static string FirstLine(string s) => s.Split('\n')[0];
}
