using JpegLm.Cuda.Kernels;

namespace JpegLm.Cuda.Tests.Kernels;

/// <summary>The dense peaks MFU is measured against, by the names the driver gives the GPUs.</summary>
public sealed class DevicePeaksTests
{
    [Theory]
    [InlineData("NVIDIA H100 80GB HBM3", 9, 989e12, 67e12)]
    [InlineData("NVIDIA H200", 9, 989e12, 67e12)]
    [InlineData("NVIDIA GH200 480GB", 9, 989e12, 67e12)]
    [InlineData("NVIDIA H100 PCIe", 9, 756e12, 51e12)]
    [InlineData("NVIDIA H100 NVL", 9, 835e12, 60e12)]
    [InlineData("NVIDIA A100-SXM4-80GB", 8, 312e12, 19.5e12)]
    public void Known_gpus_have_their_bf16_and_fp32_dense_peaks(string name, int major, double bf16, double fp32)
    {
        Assert.Equal(bf16, DevicePeaks.Dense(name, major, CudaPrecision.BFloat16));
        Assert.Equal(fp32, DevicePeaks.Dense(name, major, CudaPrecision.Float32));
    }

    [Theory]
    [InlineData("JpegLm emulated device (CPU, sm_90)", 9)]
    [InlineData("NVIDIA GeForce RTX 4090", 8)]
    [InlineData("NVIDIA H100 80GB HBM3", 8)] // a name that does not fit its compute capability is not trusted
    public void Unknown_devices_state_no_peak(string name, int major)
        => Assert.Null(DevicePeaks.Dense(name, major, CudaPrecision.BFloat16));
}
