using JpegLm.Cuda.Interop;

namespace JpegLm.Cuda.Tests.Interop;

/// <summary>The search order, the overrides, the one-major rule and the stub rejection, on a fake file system.</summary>
public sealed class LibraryResolverTests
{
    /// <summary>A fake machine: files that exist, names the "dynamic loader" can load, environment variables.</summary>
    private sealed class FakeProbe : ILibraryProbe
    {
        public Dictionary<string, string> Env { get; } = [];

        public HashSet<string> Files { get; } = [];

        public HashSet<string> Loadable { get; } = [];

        public List<string> LoadOrder { get; } = [];

        public List<nint> Freed { get; } = [];

        public string? Environment(string name) => Env.TryGetValue(name, out string? v) ? v : null;

        public IEnumerable<string> Subdirectories(string parent)
        {
            string prefix = parent.TrimEnd('/') + "/";
            return Files.Where(f => f.StartsWith(prefix, StringComparison.Ordinal))
                .Select(f => prefix + f[prefix.Length..].Split('/')[0])
                .Where(d => Files.Any(f => f.StartsWith(d + "/", StringComparison.Ordinal)))
                .Distinct();
        }

        public bool FileExists(string path) => Files.Contains(path);

        public nint TryLoad(string nameOrPath, out string? error)
        {
            LoadOrder.Add(nameOrPath);
            if (Loadable.Contains(nameOrPath) || (nameOrPath.StartsWith('/') && Files.Contains(nameOrPath)))
            {
                error = null;
                return 1000 + LoadOrder.Count;
            }

            error = $"{nameOrPath}: cannot open shared object file";
            return 0;
        }

        public void Free(nint handle) => Freed.Add(handle);
    }

    [Fact]
    public void Driver_loads_by_soname_first()
    {
        var probe = new FakeProbe();
        probe.Loadable.Add("libcuda.so.1");
        LibraryResolution r = LibraryResolver.ResolveDriver(probe);
        Assert.True(r.Success);
        Assert.Equal("libcuda.so.1", r.Get(CudaLibrary.Driver).Path);
    }

    [Fact]
    public void Driver_override_is_taken_alone()
    {
        var probe = new FakeProbe();
        probe.Loadable.Add("libcuda.so.1");
        probe.Files.Add("/opt/driver/libcuda.so.1");
        probe.Env["JPEGLM_CUDA_DRIVER"] = "/opt/driver/libcuda.so.1";
        LibraryResolution r = LibraryResolver.ResolveDriver(probe);
        Assert.Equal("/opt/driver/libcuda.so.1", r.Get(CudaLibrary.Driver).Path);
        Assert.Equal(["/opt/driver/libcuda.so.1"], probe.LoadOrder);
    }

    [Fact]
    public void Stub_driver_is_never_loaded()
    {
        var probe = new FakeProbe();
        probe.Files.Add("/usr/local/cuda/lib64/stubs/libcuda.so.1");
        probe.Env["JPEGLM_CUDA_DRIVER"] = "/usr/local/cuda/lib64/stubs/libcuda.so.1";
        LibraryResolution r = LibraryResolver.ResolveDriver(probe);
        Assert.False(r.Success);
        Assert.Empty(probe.LoadOrder);
        Assert.Contains(r.Attempts, a => a.Attempt.Error!.Contains("stubs", StringComparison.Ordinal));
        Assert.Contains("no CUDA driver", r.Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_driver_reports_every_attempt()
    {
        var probe = new FakeProbe();
        LibraryResolution r = LibraryResolver.ResolveDriver(probe);
        Assert.False(r.Success);
        Assert.Equal("libcuda.so.1", r.Attempts[0].Attempt.Candidate);
        Assert.Contains("cannot open", r.Describe().First(), StringComparison.Ordinal);
    }

    [Fact]
    public void Toolkit_prefers_the_newest_major_that_has_every_library()
    {
        var probe = new FakeProbe();
        // cuBLAS 13 but no NVRTC 13: the whole toolkit falls back to 12.
        probe.Loadable.UnionWith(["libcublas.so.13", "libcublasLt.so.13", "libcublas.so.12", "libcublasLt.so.12", "libnvrtc.so.12"]);
        LibraryResolution r = LibraryResolver.ResolveToolkit(probe, CudaLibrary.Cublas, CudaLibrary.CublasLt, CudaLibrary.Nvrtc);
        Assert.True(r.Success, r.Error);
        Assert.Equal(12, r.Major);
        Assert.Equal("libcublas.so.12", r.Get(CudaLibrary.Cublas).Path);
        Assert.Equal("libnvrtc.so.12", r.Get(CudaLibrary.Nvrtc).Path);
        Assert.Equal(2, probe.Freed.Count); // the two major-13 libraries were released
    }

    [Fact]
    public void CublasLt_is_loaded_before_cublas()
    {
        var probe = new FakeProbe();
        probe.Loadable.UnionWith(["libcublas.so.13", "libcublasLt.so.13"]);
        LibraryResolution r = LibraryResolver.ResolveToolkit(probe, CudaLibrary.Cublas, CudaLibrary.CublasLt);
        Assert.True(r.Success);
        Assert.Equal(["libcublasLt.so.13", "libcublas.so.13"], probe.LoadOrder);
    }

    [Fact]
    public void Nvrtc_11_is_the_debian_soname()
    {
        var probe = new FakeProbe();
        probe.Loadable.Add("libnvrtc.so.11.2");
        LibraryResolution r = LibraryResolver.ResolveToolkit(probe, CudaLibrary.Nvrtc);
        Assert.Equal(11, r.Major);
        Assert.Equal(["libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2"], probe.LoadOrder);
    }

    [Fact]
    public void Toolkit_folders_then_pip_folders_newest_first()
    {
        var probe = new FakeProbe();
        probe.Env["HOME"] = "/home/u";
        probe.Files.UnionWith([
            "/usr/local/cuda-12.4/lib64/libnvrtc.so.12",
            "/usr/local/cuda-12.10/lib64/libnvrtc.so.12",
            "/usr/local/cuda/lib64/libnvrtc.so.12",
            "/usr/local/cuda/lib64/stubs/libnvrtc.so.12",
            "/home/u/.local/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12",
            "/usr/local/lib/python3.10/dist-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12",
            "/usr/local/lib/python3.11/dist-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12",
        ]);
        IReadOnlyList<string> candidates = LibraryResolver.Candidates(CudaLibrary.Nvrtc, 12, probe);
        Assert.Equal([
            "libnvrtc.so.12",
            "/usr/local/cuda/lib64/libnvrtc.so.12",
            "/usr/local/cuda-12.10/lib64/libnvrtc.so.12",
            "/usr/local/cuda-12.4/lib64/libnvrtc.so.12",
            "/usr/local/lib/python3.11/dist-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12",
            "/usr/local/lib/python3.10/dist-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12",
            "/home/u/.local/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.12",
        ], candidates);
    }

    [Fact]
    public void Pip_folder_is_used_when_the_soname_is_not_on_the_loader_path()
    {
        var probe = new FakeProbe();
        string lib = "/usr/lib/python3.12/dist-packages/nvidia/cu13/lib/";
        probe.Files.UnionWith([lib + "libcublas.so.13", lib + "libcublasLt.so.13", lib + "libnvrtc.so.13"]);
        LibraryResolution r = LibraryResolver.ResolveToolkit(probe, CudaLibrary.Cublas, CudaLibrary.CublasLt, CudaLibrary.Nvrtc);
        Assert.True(r.Success, r.Error);
        Assert.Equal(13, r.Major);
        Assert.Equal(lib + "libcublas.so.13", r.Get(CudaLibrary.Cublas).Path);
    }

    [Fact]
    public void Toolkit_override_replaces_the_search()
    {
        var probe = new FakeProbe();
        probe.Loadable.Add("libnvrtc.so.13");
        probe.Files.Add("/x/libnvrtc.so.12");
        probe.Env["JPEGLM_NVRTC"] = "/x/libnvrtc.so.12";
        LibraryResolution r = LibraryResolver.ResolveToolkit(probe, CudaLibrary.Nvrtc);
        Assert.Equal("/x/libnvrtc.so.12", r.Get(CudaLibrary.Nvrtc).Path);
        Assert.DoesNotContain("libnvrtc.so.13", probe.LoadOrder);
    }

    [Fact]
    public void Nothing_found_names_the_libraries()
    {
        LibraryResolution r = LibraryResolver.ResolveToolkit(new FakeProbe(), CudaLibrary.Cublas, CudaLibrary.Nvrtc);
        Assert.False(r.Success);
        Assert.Contains("libcublas.so.N", r.Error, StringComparison.Ordinal);
        Assert.Throws<CudaException>(() => r.Get(CudaLibrary.Cublas));
    }

    [Fact]
    public void Environments_that_are_installed_but_not_activated_are_searched()
    {
        var probe = new FakeProbe();
        probe.Env["HOME"] = "/home/u";
        string venv = "/home/u/torch-env/lib/python3.12/site-packages/nvidia/";
        string conda = "/opt/miniconda3/envs/pt/lib/python3.11/site-packages/nvidia/";
        probe.Files.UnionWith([venv + "cublas/lib/libcublas.so.13", venv + "cublas/lib/libcublasLt.so.13", conda + "cuda_nvrtc/lib/libnvrtc.so.13"]);
        LibraryResolution r = LibraryResolver.ResolveToolkit(probe, CudaLibrary.Cublas, CudaLibrary.CublasLt, CudaLibrary.Nvrtc);
        Assert.True(r.Success, r.Error);
        Assert.Equal(venv + "cublas/lib/libcublas.so.13", r.Get(CudaLibrary.Cublas).Path);
        Assert.Equal(conda + "cuda_nvrtc/lib/libnvrtc.so.13", r.Get(CudaLibrary.Nvrtc).Path);
        Assert.Contains("/opt/miniconda3/envs/pt", LibraryResolver.PythonPrefixes(probe));
    }

    [Fact]
    public void Cuda_path_folders_come_before_the_soname()
    {
        var probe = new FakeProbe();
        probe.Loadable.Add("libnvrtc.so.13");
        probe.Files.UnionWith(["/data/cuda/libnvrtc.so.13", "/data/env/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.13"]);
        probe.Env["JPEGLM_CUDA_PATH"] = "/data/cuda:/data/env";
        Assert.Equal([
            "/data/cuda/libnvrtc.so.13",
            "/data/env/lib/python3.12/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.13",
            "libnvrtc.so.13",
        ], LibraryResolver.Candidates(CudaLibrary.Nvrtc, 13, probe));
    }

    [Fact]
    public void Emulator_stands_for_driver_and_cublas_but_not_nvrtc()
    {
        var probe = new FakeProbe();
        probe.Files.UnionWith(["/emu/libjpeglm-cudaemu.so", "/x/libcublasLt.so.13"]);
        probe.Loadable.Add("libnvrtc.so.11.2");
        probe.Env["JPEGLM_CUDA_EMULATOR"] = "/emu/libjpeglm-cudaemu.so";
        probe.Env["JPEGLM_CUBLASLT"] = "/x/libcublasLt.so.13";
        Assert.Equal("/emu/libjpeglm-cudaemu.so", LibraryResolver.ResolveDriver(probe).Get(CudaLibrary.Driver).Path);
        LibraryResolution r = LibraryResolver.ResolveToolkit(probe, CudaLibrary.Cublas, CudaLibrary.CublasLt, CudaLibrary.Nvrtc);
        Assert.True(r.Success, r.Error);
        Assert.Equal("/emu/libjpeglm-cudaemu.so", r.Get(CudaLibrary.Cublas).Path);
        Assert.Equal("/x/libcublasLt.so.13", r.Get(CudaLibrary.CublasLt).Path); // a library's own override wins
        Assert.Equal("libnvrtc.so.11.2", r.Get(CudaLibrary.Nvrtc).Path);
    }

    [Fact]
    public void A_failure_explains_every_candidate_and_what_to_set()
    {
        var probe = new FakeProbe();
        probe.Env["HOME"] = "/home/u";
        probe.Files.Add("/home/u/venv/lib/python3.12/site-packages/nvidia/cublas/lib/libcublas.so.12");
        LibraryResolution r = LibraryResolver.ResolveToolkit(probe, CudaLibrary.Cublas, CudaLibrary.Nvrtc);
        string text = r.Explain(probe);
        Assert.Contains("libcublas.so.N", text, StringComparison.Ordinal);
        Assert.Contains(" /home/u/venv/lib/python3.12/site-packages/nvidia/cublas/lib/libcublas.so.12", text, StringComparison.Ordinal);
        Assert.Contains("skipped libnvrtc.so.12", text, StringComparison.Ordinal);
        Assert.Contains("Python prefixes searched: ", text, StringComparison.Ordinal);
        Assert.Contains("/home/u/venv", text, StringComparison.Ordinal);
        Assert.Contains("JPEGLM_CUDA_PATH", text, StringComparison.Ordinal);
    }
}
