using System.Globalization;

namespace JpegLm.Cuda.Interop;

/// <summary>One candidate the resolver tried: the name or path, and why it was not taken (null when it loaded).</summary>
/// <param name="Candidate">A bare soname or a full path.</param>
/// <param name="Error">Why it was rejected or failed to load; null for the one that loaded.</param>
public readonly record struct ProbeAttempt(string Candidate, string? Error);

/// <summary>A loaded native library: which one, from where, and its handle.</summary>
/// <param name="Library">The library.</param>
/// <param name="Path">The soname or path that loaded.</param>
/// <param name="Handle">The handle from the dynamic loader.</param>
public readonly record struct LoadedLibrary(CudaLibrary Library, string Path, nint Handle);

/// <summary>The outcome of one resolution, with every attempt for the probe report.</summary>
/// <param name="Libraries">The libraries that loaded (all requested ones, or none).</param>
/// <param name="Major">The CUDA toolkit major version chosen (0 for the driver alone).</param>
/// <param name="Attempts">Every candidate tried, in order, per library.</param>
/// <param name="Error">Null on success; otherwise why nothing usable was found.</param>
public sealed record LibraryResolution(IReadOnlyList<LoadedLibrary> Libraries, int Major,
    IReadOnlyList<(CudaLibrary Library, ProbeAttempt Attempt)> Attempts, string? Error)
{
    /// <summary>Whether every requested library loaded.</summary>
    public bool Success => Error == null;

    /// <summary>The handle of <paramref name="library"/>; throws when it was not resolved.</summary>
    public LoadedLibrary Get(CudaLibrary library)
    {
        foreach (LoadedLibrary l in Libraries)
        {
            if (l.Library == library)
            {
                return l;
            }
        }

        throw new CudaException($"{library} was not resolved: {Error ?? "not requested"}");
    }

    /// <summary>
    /// The error followed by every candidate tried and why it was not taken, and the Python prefixes and
    /// library folders that were searched: what a failed resolution should print.
    /// </summary>
    public string Explain(ILibraryProbe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        var text = new System.Text.StringBuilder(Error ?? "resolved");
        foreach (string line in Describe())
        {
            text.Append("\n  ").Append(line);
        }

        text.Append("\n  Python prefixes searched: ").AppendJoin(' ', LibraryResolver.PythonPrefixes(probe));
        text.Append("\n  set ").Append(LibraryResolver.PathVariable).Append(" to the folder holding the libraries (or a Python prefix), or ")
            .Append("JPEGLM_CUDA_DRIVER / JPEGLM_CUBLAS / JPEGLM_CUBLASLT / JPEGLM_NVRTC to their paths");
        return text.ToString();
    }

    /// <summary>One line per attempt, for <c>gpu-check</c>'s probe report.</summary>
    public IEnumerable<string> Describe()
    {
        foreach ((CudaLibrary library, ProbeAttempt a) in Attempts)
        {
            yield return $"{library,-9} {(a.Error == null ? "loaded " : "skipped")} {a.Candidate}{(a.Error == null ? "" : "  (" + a.Error + ")")}";
        }
    }
}

/// <summary>
/// Finds the CUDA libraries without hard-coding one path. Order, for every library: the environment override
/// (<c>JPEGLM_CUDA_DRIVER</c>, <c>JPEGLM_CUBLAS</c>, <c>JPEGLM_CUBLASLT</c>, <c>JPEGLM_NVRTC</c>: a full path,
/// taken alone when set; <c>JPEGLM_CUDA_EMULATOR</c> stands for the first three at once), then the folders of
/// <c>JPEGLM_CUDA_PATH</c> (colon-separated: library folders, Python prefixes or site-packages), then the bare
/// soname (the dynamic loader's own search), then <c>/usr/local/cuda*/lib64</c> and
/// <c>targets/x86_64-linux/lib</c> (newest toolkit first), then pip's <c>nvidia/*/lib</c> folders under the
/// Python prefixes of active and of installed-but-not-activated environments (see <see cref="PythonPrefixes"/>).
/// cuBLAS, cuBLASLt and NVRTC are taken from one toolkit major version together, newest first (13, 12, 11).
/// A path through a <c>stubs</c> folder is never loaded: the stub <c>libcuda.so</c> links but cannot run anything.
/// </summary>
public static class LibraryResolver
{
    /// <summary>Toolkit major versions tried, newest first.</summary>
    public static IReadOnlyList<int> ToolkitMajors { get; } = [13, 12, 11];

    /// <summary>
    /// The path of the emulated device library (Cuda/Emulator): when set, it is the driver, cuBLAS and cuBLASLt
    /// (each library's own override still wins). NVRTC stays the real one.
    /// </summary>
    public const string EmulatorVariable = "JPEGLM_CUDA_EMULATOR";

    /// <summary>Extra folders searched before the standard ones (colon-separated).</summary>
    public const string PathVariable = "JPEGLM_CUDA_PATH";

    /// <summary>The environment variable that overrides the path of <paramref name="library"/>.</summary>
    public static string OverrideVariable(CudaLibrary library) => library switch
    {
        CudaLibrary.Driver => "JPEGLM_CUDA_DRIVER",
        CudaLibrary.Cublas => "JPEGLM_CUBLAS",
        CudaLibrary.CublasLt => "JPEGLM_CUBLASLT",
        CudaLibrary.Nvrtc => "JPEGLM_NVRTC",
        _ => throw new ArgumentOutOfRangeException(nameof(library)),
    };

    /// <summary>The soname of a toolkit library of one major version (NVRTC 11.x is <c>libnvrtc.so.11.2</c>).</summary>
    public static string Soname(CudaLibrary library, int major) => library switch
    {
        CudaLibrary.Driver => "libcuda.so.1",
        CudaLibrary.Cublas => $"libcublas.so.{major}",
        CudaLibrary.CublasLt => $"libcublasLt.so.{major}",
        CudaLibrary.Nvrtc => major == 11 ? "libnvrtc.so.11.2" : $"libnvrtc.so.{major}",
        _ => throw new ArgumentOutOfRangeException(nameof(library)),
    };

    /// <summary>Whether a path goes through a <c>stubs</c> directory (the link-time stub of libcuda).</summary>
    public static bool IsStubPath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return path.Contains("/stubs/", StringComparison.Ordinal) || path.StartsWith("stubs/", StringComparison.Ordinal);
    }

    /// <summary>
    /// The candidates for one library in search order (without the environment override): the bare soname,
    /// then files that exist under the CUDA toolkit folders and pip's nvidia folders.
    /// </summary>
    public static IReadOnlyList<string> Candidates(CudaLibrary library, int major, ILibraryProbe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        string soname = Soname(library, major);
        var result = new List<string>();
        foreach (string dir in ExplicitDirectories(probe))
        {
            string path = dir + "/" + soname;
            if (!result.Contains(path) && probe.FileExists(path))
            {
                result.Add(path);
            }
        }

        result.Add(soname);
        foreach (string dir in SearchDirectories(library, probe))
        {
            string path = dir + "/" + soname;
            if (!result.Contains(path) && probe.FileExists(path))
            {
                result.Add(path);
            }
        }

        return result;
    }

    /// <summary>
    /// The folders of <c>JPEGLM_CUDA_PATH</c>, each taken as a library folder, as site-packages (its
    /// <c>nvidia/*/lib</c>) and as a Python prefix (its <c>lib/python3.*/site-packages/nvidia/*/lib</c>).
    /// </summary>
    public static IReadOnlyList<string> ExplicitDirectories(ILibraryProbe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        var dirs = new List<string>();
        foreach (string entry in (probe.Environment(PathVariable) ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            string root = entry.TrimEnd('/');
            dirs.Add(root);
            dirs.Add(root + "/lib64");
            dirs.Add(root + "/lib");
            foreach (string sitePackages in new[] { root }.Concat(SitePackagesOf(root, probe)))
            {
                dirs.AddRange(probe.Subdirectories(sitePackages + "/nvidia").Order(StringComparer.Ordinal).Select(p => p + "/lib"));
            }
        }

        return dirs;
    }

    /// <summary>Folders searched after the soname, in order.</summary>
    public static IReadOnlyList<string> SearchDirectories(CudaLibrary library, ILibraryProbe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        var dirs = new List<string>();
        if (library == CudaLibrary.Driver)
        {
            // Where container runtimes and distributions put the driver's user-space library.
            dirs.AddRange(["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib", "/usr/lib/wsl/lib"]);
            return dirs;
        }

        foreach (string toolkit in ToolkitFolders(probe))
        {
            dirs.Add(toolkit + "/lib64");
            dirs.Add(toolkit + "/targets/x86_64-linux/lib");
        }

        foreach (string sitePackages in SitePackages(probe))
        {
            string nvidia = sitePackages + "/nvidia";
            foreach (string package in probe.Subdirectories(nvidia).Order(StringComparer.Ordinal))
            {
                dirs.Add(package + "/lib");
            }
        }

        return dirs;
    }

    /// <summary>
    /// Loads the driver: <c>JPEGLM_CUDA_DRIVER</c> alone when set, else <c>libcuda.so.1</c> and the driver folders.
    /// </summary>
    public static LibraryResolution ResolveDriver(ILibraryProbe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        var attempts = new List<(CudaLibrary, ProbeAttempt)>();
        LoadedLibrary? driver = TryResolve(CudaLibrary.Driver, 0, probe, attempts);
        return driver is { } d
            ? new LibraryResolution([d], 0, attempts, null)
            : new LibraryResolution([], 0, attempts, "no CUDA driver found (libcuda.so.1)");
    }

    /// <summary>
    /// Loads the requested toolkit libraries from one major version: for each major in
    /// <see cref="ToolkitMajors"/>, every requested library must resolve, else the ones loaded are freed and
    /// the next major is tried. (cuBLASLt is loaded before cuBLAS, which depends on it.)
    /// </summary>
    public static LibraryResolution ResolveToolkit(ILibraryProbe probe, params CudaLibrary[] libraries)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(libraries);
        CudaLibrary[] ordered = [.. libraries.Distinct().OrderBy(l => l == CudaLibrary.CublasLt ? 0 : 1)];
        var attempts = new List<(CudaLibrary, ProbeAttempt)>();
        foreach (int major in ToolkitMajors)
        {
            var loaded = new List<LoadedLibrary>();
            foreach (CudaLibrary library in ordered)
            {
                if (TryResolve(library, major, probe, attempts) is { } l)
                {
                    loaded.Add(l);
                }
                else
                {
                    break;
                }
            }

            if (loaded.Count == ordered.Length)
            {
                return new LibraryResolution(loaded, major, attempts, null);
            }

            foreach (LoadedLibrary l in loaded)
            {
                probe.Free(l.Handle);
            }
        }

        string names = string.Join(", ", ordered.Select(l => Soname(l, ToolkitMajors[0]).Replace(".so.13", ".so.N", StringComparison.Ordinal)));
        return new LibraryResolution([], 0, attempts, $"no CUDA toolkit major version ({string.Join("/", ToolkitMajors)}) has all of {names}");
    }

    private static LoadedLibrary? TryResolve(CudaLibrary library, int major, ILibraryProbe probe, List<(CudaLibrary, ProbeAttempt)> attempts)
    {
        string? overridden = probe.Environment(OverrideVariable(library));
        if (string.IsNullOrWhiteSpace(overridden) && library != CudaLibrary.Nvrtc)
        {
            overridden = probe.Environment(EmulatorVariable);
        }

        IReadOnlyList<string> candidates = string.IsNullOrWhiteSpace(overridden) ? Candidates(library, major, probe) : [overridden.Trim()];
        foreach (string candidate in candidates)
        {
            if (IsStubPath(candidate))
            {
                attempts.Add((library, new ProbeAttempt(candidate, "a stubs copy, never loaded")));
                continue;
            }

            nint handle = probe.TryLoad(candidate, out string? error);
            if (handle == 0)
            {
                attempts.Add((library, new ProbeAttempt(candidate, FirstLine(error ?? "not loadable"))));
                continue;
            }

            attempts.Add((library, new ProbeAttempt(candidate, null)));
            return new LoadedLibrary(library, candidate, handle);
        }

        return null;
    }

    private static string FirstLine(string text)
    {
        int newline = text.IndexOf('\n', StringComparison.Ordinal);
        string line = newline < 0 ? text : text[..newline];
        return line.Length > 160 ? line[..160] + "…" : line;
    }

    /// <summary><c>/usr/local/cuda</c> first, then <c>/usr/local/cuda-X.Y</c> folders, newest version first.</summary>
    private static IEnumerable<string> ToolkitFolders(ILibraryProbe probe)
    {
        var versioned = new List<(Version Version, string Path)>();
        bool plain = false;
        foreach (string dir in probe.Subdirectories("/usr/local"))
        {
            string name = dir[(dir.LastIndexOf('/') + 1)..];
            if (name == "cuda")
            {
                plain = true;
            }
            else if (name.StartsWith("cuda-", StringComparison.Ordinal) && TryParseVersion(name[5..], out Version? v) && v != null)
            {
                versioned.Add((v, dir));
            }
        }

        if (plain)
        {
            yield return "/usr/local/cuda";
        }

        foreach ((Version _, string path) in versioned.OrderByDescending(x => x.Version))
        {
            yield return path;
        }
    }

    private static bool TryParseVersion(string text, out Version? version)
    {
        if (!text.Contains('.', StringComparison.Ordinal))
        {
            text += ".0";
        }

        return Version.TryParse(text, out version);
    }

    /// <summary>
    /// Python prefixes whose <c>site-packages/nvidia/*/lib</c> may hold the CUDA wheels: the active virtual or
    /// conda environment, then environments that are installed but not activated (the GPU machines run the
    /// binary outside the PyTorch environment): <c>/usr/local</c>, <c>/usr</c>, <c>/opt/conda</c> and its
    /// <c>envs/*</c>, every folder directly under <c>/opt</c> and under the home folder that looks like a Python
    /// prefix (a venv such as <c>~/venv</c> or <c>/opt/pytorch</c>, a conda install such as <c>~/miniconda3</c> and
    /// its <c>envs/*</c>), <c>~/.local</c> and <c>~/.pyenv/versions/*</c>.
    /// </summary>
    public static IReadOnlyList<string> PythonPrefixes(ILibraryProbe probe)
    {
        ArgumentNullException.ThrowIfNull(probe);
        var prefixes = new List<string>();
        foreach (string variable in new[] { "VIRTUAL_ENV", "CONDA_PREFIX" })
        {
            if (probe.Environment(variable) is { Length: > 0 } p)
            {
                prefixes.Add(p.TrimEnd('/'));
            }
        }

        prefixes.AddRange(["/usr/local", "/usr", "/opt/conda"]);
        string? home = probe.Environment("HOME") is { Length: > 0 } h ? h.TrimEnd('/') : null;
        // One level of folders under /opt and the home folder, and their conda envs: bounded, no deep walk.
        foreach (string root in home == null ? new[] { "/opt" } : ["/opt", home])
        {
            foreach (string dir in probe.Subdirectories(root).Order(StringComparer.Ordinal))
            {
                prefixes.Add(dir);
                prefixes.AddRange(probe.Subdirectories(dir + "/envs").Order(StringComparer.Ordinal));
            }
        }

        if (home != null)
        {
            prefixes.Add(home + "/.local");
            prefixes.AddRange(probe.Subdirectories(home + "/.pyenv/versions").Order(StringComparer.Ordinal));
        }

        return [.. prefixes.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>site-packages / dist-packages folders of every prefix in <see cref="PythonPrefixes"/>.</summary>
    private static IEnumerable<string> SitePackages(ILibraryProbe probe)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string prefix in PythonPrefixes(probe))
        {
            foreach (string folder in SitePackagesOf(prefix, probe))
            {
                if (seen.Add(folder))
                {
                    yield return folder;
                }
            }
        }
    }

    /// <summary><c>lib/python3.X/{site,dist}-packages</c> of one prefix, newest minor first.</summary>
    private static IEnumerable<string> SitePackagesOf(string prefix, ILibraryProbe probe)
    {
        var pythons = probe.Subdirectories(prefix + "/lib")
            .Where(d => d[(d.LastIndexOf('/') + 1)..].StartsWith("python3", StringComparison.Ordinal))
            .OrderByDescending(d => PythonMinor(d));
        foreach (string python in pythons)
        {
            yield return python + "/site-packages";
            yield return python + "/dist-packages";
        }
    }

    private static int PythonMinor(string folder)
    {
        string name = folder[(folder.LastIndexOf('/') + 1)..];
        return name.Length > 8 && int.TryParse(name.AsSpan(8), NumberStyles.Integer, CultureInfo.InvariantCulture, out int minor) ? minor : -1;
    }
}
