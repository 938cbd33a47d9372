using JpegLm.Cuda.Interop;

namespace JpegLm.Cuda.Tests.Interop;

public sealed class CudaExceptionTests
{
    [Fact]
    public void Message_names_call_status_and_log()
    {
        var e = new CudaException(CudaLibrary.Nvrtc, "nvrtcCompileProgram(x.cu, sm_90)", 6, "NVRTC_ERROR_COMPILATION", null, "x.cu(3): error: identifier \"y\" is undefined\n");
        Assert.StartsWith("Nvrtc: nvrtcCompileProgram(x.cu, sm_90) failed with NVRTC_ERROR_COMPILATION (6)", e.Message, StringComparison.Ordinal);
        Assert.Contains("identifier \"y\" is undefined", e.Message, StringComparison.Ordinal);
        Assert.Equal(6, e.Status);
    }

    [Fact]
    public void Driver_description_is_appended()
    {
        var e = new CudaException(CudaLibrary.Driver, "cuMemAlloc(4096 bytes)", 2, "CUDA_ERROR_OUT_OF_MEMORY", "out of memory");
        Assert.Equal("Driver: cuMemAlloc(4096 bytes) failed with CUDA_ERROR_OUT_OF_MEMORY (2): out of memory", e.Message);
    }

    [Theory]
    [InlineData(0, "CUBLAS_STATUS_SUCCESS")]
    [InlineData(7, "CUBLAS_STATUS_INVALID_VALUE")]
    [InlineData(15, "CUBLAS_STATUS_NOT_SUPPORTED")]
    [InlineData(99, "CUBLAS_STATUS_99")]
    public void Cublas_status_names(int status, string name) => Assert.Equal(name, Cublas.StatusName(status));

    [SkippableFact]
    public void Nvrtc_names_its_errors()
    {
        Nvrtc? nvrtc = Nvrtc.TryLoad(out LibraryResolution r);
        Skip.If(nvrtc is null, $"no NVRTC ({r.Error})");
        Assert.Equal("NVRTC_ERROR_COMPILATION", nvrtc.ErrorName(6));
        Assert.True(nvrtc.Version.Major >= 11);
    }
}
