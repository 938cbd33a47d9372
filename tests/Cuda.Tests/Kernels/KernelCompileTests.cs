using JpegLm.Cuda.Interop;
using JpegLm.Cuda.Kernels;

namespace JpegLm.Cuda.Tests.Kernels;

/// <summary>Every embedded kernel source compiles to a CUBIN for sm_80 and sm_90 with whatever NVRTC resolves (no GPU needed).</summary>
public sealed class KernelCompileTests
{
    private static readonly Lazy<(Nvrtc? Nvrtc, string Why)> Compiler = new(() =>
    {
        Nvrtc? nvrtc = Nvrtc.TryLoad(out LibraryResolution resolution);
        return (nvrtc, resolution.Error ?? "");
    });

    public static TheoryData<string, int> ModulesAndArchitectures()
    {
        var data = new TheoryData<string, int>();
        foreach (string module in KernelSources.Modules)
        {
            data.Add(module, 80);
            data.Add(module, 90);
        }

        return data;
    }

    [Fact]
    public void Sources_are_embedded()
    {
        Assert.Contains("attention.cu", KernelSources.Modules);
        Assert.Contains("rmsnorm.cu", KernelSources.Modules);
        Assert.True(KernelSources.Headers.ContainsKey("common.cuh"));
        Assert.Equal(16, KernelSources.Hash("loss.cu").Length);
    }

    [Fact]
    public void Sources_include_no_cuda_headers()
    {
        foreach (string name in KernelSources.Modules.Concat(KernelSources.Headers.Keys))
        {
            foreach (string line in KernelSources.Read(name).Split('\n'))
            {
                if (line.TrimStart().StartsWith("#include", StringComparison.Ordinal))
                {
                    Assert.True(line.Contains("\"common.cuh\"", StringComparison.Ordinal), $"{name}: {line.Trim()} (only our own header may be included)");
                }
            }
        }
    }

    [SkippableTheory]
    [MemberData(nameof(ModulesAndArchitectures))]
    public void Module_compiles_to_cubin(string module, int arch)
    {
        (Nvrtc? nvrtc, string why) = Compiler.Value;
        Skip.If(nvrtc is null, $"no NVRTC library resolved ({why}); install libnvrtc11.2 (see shared/GPU.md)");
        byte[] cubin;
        try
        {
            cubin = CubinCache.Compile(nvrtc, module, arch, out _);
        }
        catch (CudaException e)
        {
            Assert.Fail($"{module} does not compile for sm_{arch}:\n{e.Message}");
            throw;
        }

        // A CUBIN is an ELF image.
        Assert.True(cubin.Length > 64, $"{module}: CUBIN of {cubin.Length} bytes");
        Assert.Equal(new byte[] { 0x7f, (byte)'E', (byte)'L', (byte)'F' }, cubin[..4]);
    }

    [SkippableTheory]
    [InlineData(80)]
    [InlineData(90)]
    public void Resource_report_fits_every_launch(int arch)
    {
        (Nvrtc? nvrtc, string why) = Compiler.Value;
        Skip.If(nvrtc is null, $"no NVRTC library resolved ({why})");
        IReadOnlyList<KernelResource> report = KernelResources.Measure(nvrtc, arch);
        Assert.True(report.Count >= 20, string.Join('\n', report));
        Assert.All(report, r => Assert.True(r.RegistersPerBlock <= KernelResources.RegistersPerSm,
            $"{r}: a block of {r.LaunchThreads} threads needs more registers than an SM has"));
        Assert.All(report, r => Assert.True(r.SharedBytes <= 48 * 1024, $"{r}: more static shared memory than a block may have"));
        Assert.All(report.Where(r => r.Module == "attention_bf16.cu"), r => Assert.True(r.SpillStoreBytes == 0 && r.SpillLoadBytes == 0 && r.StackFrameBytes == 0,
            $"{r}: the tensor-core attention must keep its fragments in registers"));
    }

    [Fact]
    public void Ptxas_report_is_parsed()
    {
        const string log = """
            ptxas info    : 0 bytes gmem
            ptxas info    : Compiling entry function 'cross_entropy' for 'sm_90'
            ptxas info    : Function properties for cross_entropy
            ptxas         .     8 bytes stack frame, 4 bytes spill stores, 12 bytes spill loads
            ptxas info    : Used 22 registers, 128 bytes smem
            ptxas info    : Compiling entry function 'adamw' for 'sm_90'
            ptxas info    : Function properties for adamw
            ptxas         .     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
            ptxas info    : Used 34 registers
            """;
        IReadOnlyList<KernelResource> r = KernelResources.Parse("x.cu", log);
        Assert.Equal(new KernelResource("x.cu", "cross_entropy", 22, 8, 4, 12, 128, 1024), r[0]);
        Assert.Equal(new KernelResource("x.cu", "adamw", 34, 0, 0, 0, 0, 256), r[1]);
        Assert.Equal(768 * 32, r[0].RegistersPerBlock); // 22 × 32 = 704 registers per warp, allocated as 768
    }

    [SkippableFact]
    public void Compile_error_carries_the_log()
    {
        (Nvrtc? nvrtc, string why) = Compiler.Value;
        Skip.If(nvrtc is null, $"no NVRTC library resolved ({why})");
        var e = Assert.Throws<CudaException>(() => nvrtc.CompileToCubin(
            "extern \"C\" __global__ void broken(float* x) { x[0] = undefined_name; }", "broken.cu",
            new Dictionary<string, string>(), 90, [], out _));
        Assert.Equal(CudaLibrary.Nvrtc, e.Library);
        Assert.Equal("NVRTC_ERROR_COMPILATION", e.StatusName);
        Assert.Contains("undefined_name", e.Log, StringComparison.Ordinal);
        Assert.Contains("nvrtcCompileProgram(broken.cu, sm_90)", e.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Cache_compiles_once_then_reads_the_file()
    {
        (Nvrtc? nvrtc, string why) = Compiler.Value;
        Skip.If(nvrtc is null, $"no NVRTC library resolved ({why})");
        string dir = Path.Combine(Path.GetTempPath(), "jpeglm-cubin-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            var cache = new CubinCache(nvrtc, dir);
            byte[] first = cache.Get("loss.cu", 80);
            Assert.Equal(1, cache.Compiled);
            Assert.True(File.Exists(Path.Combine(dir, cache.FileName("loss.cu", 80))));
            Assert.Contains($"nvrtc{nvrtc.Version.Major}.{nvrtc.Version.Minor}", cache.FileName("loss.cu", 80), StringComparison.Ordinal);
            var again = new CubinCache(nvrtc, dir);
            Assert.Equal(first, again.Get("loss.cu", 80));
            Assert.Equal(0, again.Compiled);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
