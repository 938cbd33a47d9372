using JpegLm.Cuda.Checks;
using JpegLm.Cuda.Interop;
using JpegLm.Cuda.Kernels;
using JpegLm.Engine.Kernels;
using JpegLm.Engine.Kernels.Cpu;

namespace JpegLm.Cuda.Tests.Kernels;

/// <summary>GPU-only: the CUDA backend against the CPU kernels. Skips (with the resolver's reason) where no driver and device exist.</summary>
public sealed class CudaKernelsTests
{
    private static CudaKernels OpenOrSkip(CudaPrecision precision)
    {
        LibraryResolution driver = LibraryResolver.ResolveDriver(SystemLibraryProbe.Instance);
        Skip.If(!driver.Success, $"no CUDA driver: {driver.Error}");
        try
        {
            return CudaKernels.Create(precision);
        }
        catch (CudaException e)
        {
            Skip.If(true, $"CUDA backend unavailable: {e.Message}");
            throw;
        }
    }

    [SkippableTheory]
    [InlineData(CudaPrecision.Float32, 1e-5)]
    [InlineData(CudaPrecision.BFloat16, 2e-2)]
    public void Every_kernel_matches_the_cpu(CudaPrecision precision, double tolerance)
    {
        using CudaKernels gpu = OpenOrSkip(precision);
        using var cpu = new CpuKernels();
        IReadOnlyList<ParityResult> results = new KernelParity(gpu, cpu, tolerance).RunAll();
        Assert.All(results, r => Assert.True(r.Passed, $"{r.Operation} {r.Output}: error {r.RelativeError:E2}, deterministic {r.Deterministic}"));
    }

    [SkippableFact]
    public void Buffers_are_zeroed_pooled_and_owned()
    {
        using CudaKernels gpu = OpenOrSkip(CudaPrecision.Float32);
        using var cpu = new CpuKernels();
        ITensorBuffer first = gpu.Allocate(1000);
        float[] host = new float[1000];
        gpu.Download(Tensor.Of(first), host);
        Assert.All(host, v => Assert.Equal(0f, v));
        int allocations = gpu.DriverAllocations;
        first.Dispose();
        using ITensorBuffer second = gpu.Allocate(1000);
        Assert.Equal(allocations, gpu.DriverAllocations);
        using ITensorBuffer foreign = cpu.Allocate(10);
        Assert.Throws<ArgumentException>(() => gpu.Zero(Tensor.Of(foreign)));
    }
}
