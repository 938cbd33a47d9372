using JpegLm.Cuda.Interop;

namespace JpegLm.Cuda.Kernels;

/// <summary>
/// Compiles kernel modules with NVRTC for one architecture and keeps the CUBINs on disk, keyed by
/// (source hash, <c>sm_XY</c>, NVRTC version): <c>$JPEGLM_CUBIN_CACHE</c>, else <c>$XDG_CACHE_HOME/jpeglm/cubin</c>,
/// else <c>~/.cache/jpeglm/cubin</c>. A cache that cannot be written is skipped (compiling is only slower).
/// </summary>
public sealed class CubinCache
{
    private readonly Nvrtc _nvrtc;

    /// <summary>Creates a cache over <paramref name="directory"/> (null: the default location).</summary>
    public CubinCache(Nvrtc nvrtc, string? directory = null)
    {
        _nvrtc = nvrtc ?? throw new ArgumentNullException(nameof(nvrtc));
        Directory = directory ?? DefaultDirectory();
    }

    /// <summary>Where CUBINs are kept.</summary>
    public string Directory { get; }

    /// <summary>Modules compiled (not found in the cache) by this instance.</summary>
    public int Compiled { get; private set; }

    /// <summary>The default cache folder.</summary>
    public static string DefaultDirectory()
    {
        if (Environment.GetEnvironmentVariable("JPEGLM_CUBIN_CACHE") is { Length: > 0 } explicitDir)
        {
            return explicitDir;
        }

        string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        string root = !string.IsNullOrEmpty(xdg) ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
        return Path.Combine(root, "jpeglm", "cubin");
    }

    /// <summary>The cache file name of a module for an architecture.</summary>
    public string FileName(string module, int arch)
        => $"{Path.GetFileNameWithoutExtension(module)}-{KernelSources.Hash(module)}-sm{arch}-nvrtc{_nvrtc.Version.Major}.{_nvrtc.Version.Minor}.cubin";

    /// <summary>The CUBIN of <paramref name="module"/> for <c>sm_{arch}</c>, from the cache or freshly compiled.</summary>
    public byte[] Get(string module, int arch)
    {
        string path = Path.Combine(Directory, FileName(module, arch));
        try
        {
            if (File.Exists(path))
            {
                return File.ReadAllBytes(path);
            }
        }
        catch (IOException)
        {
            // unreadable cache entry: compile again
        }

        byte[] cubin = Compile(_nvrtc, module, arch, out _);
        Compiled++;
        try
        {
            Codec.IO.AtomicFile.WriteAllBytes(path, cubin);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // read-only home: run uncached
        }

        return cubin;
    }

    /// <summary>Compiles one embedded module for <c>sm_{arch}</c>; a compile error throws with the NVRTC log.</summary>
    public static byte[] Compile(Nvrtc nvrtc, string module, int arch, out string log)
    {
        ArgumentNullException.ThrowIfNull(nvrtc);
        return nvrtc.CompileToCubin(KernelSources.Read(module), module, KernelSources.Headers, arch, KernelSources.Options, out log);
    }
}
