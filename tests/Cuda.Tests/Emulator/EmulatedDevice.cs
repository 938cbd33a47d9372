using System.Diagnostics;
using JpegLm.Cuda.Interop;

namespace JpegLm.Cuda.Tests.Emulator;

/// <summary>
/// The emulated CUDA device built by Cuda/Emulator/build.sh before this project compiles (see the .csproj):
/// runs <see cref="Program"/> commands in a child process with the device library as the CUDA driver and
/// cuBLAS, and libasan preloaded when the library was built with AddressSanitizer. A child process per
/// check keeps an ASan abort or a poisoned context from taking the test host down with it.
/// </summary>
internal static class EmulatedDevice
{
    private static readonly Lazy<(string? Library, string? Preload, string? Why)> Build = new(Locate);

    /// <summary>The kernel sources' folder in the repository (for the self-test module).</summary>
    public static string SelfTestSource => Path.Combine(RepositoryRoot(), "Cuda", "Emulator", "selftest.cu");

    /// <summary>Skips the calling test, with the reason, when the emulator or NVRTC is unavailable.</summary>
    public static void SkipUnlessAvailable()
    {
        (string? library, _, string? why) = Build.Value;
        Skip.If(library == null, why);
        Nvrtc? nvrtc = Nvrtc.TryLoad(out LibraryResolution resolution);
        Skip.If(nvrtc == null, $"no NVRTC library resolved ({resolution.Error}); the emulated device runs the CUBINs NVRTC compiles (install libnvrtc11.2)");
    }

    /// <summary>Runs one <see cref="Program"/> command; returns its exit code and output (stdout, then stderr).</summary>
    public static (int ExitCode, string[] Lines, string Output) Run(IReadOnlyDictionary<string, string>? environment, params string[] args)
    {
        (string? library, string? preload, _) = Build.Value;
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("exec");
        start.ArgumentList.Add(typeof(Program).Assembly.Location);
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment[LibraryResolver.EmulatorVariable] = library!;
        if (!string.IsNullOrEmpty(preload))
        {
            start.Environment["LD_PRELOAD"] = preload;
            // .NET handles SIGSEGV itself (null references) and keeps memory ASan would call leaked.
            start.Environment["ASAN_OPTIONS"] = "detect_leaks=0:handle_segv=0:allow_user_segv_handler=1:use_sigaltstack=0:abort_on_error=1";
        }

        foreach ((string key, string value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using Process process = Process.Start(start)!;
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string all = stdout + stderr.Result;
        return (process.ExitCode, stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries), all);
    }

    private static (string?, string?, string?) Locate()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "cuda-emulator");
        string unavailable = Path.Combine(dir, "unavailable.txt");
        if (File.Exists(unavailable))
        {
            return (null, null, "emulated CUDA device not built: " + File.ReadAllText(unavailable).Trim());
        }

        string env = Path.Combine(dir, "emulator.env");
        if (!File.Exists(env))
        {
            return (null, null, $"emulated CUDA device not built ({env} missing; it is built by the test project's BuildCudaEmulator target)");
        }

        var values = File.ReadAllLines(env).Select(l => l.Split('=', 2)).Where(p => p.Length == 2).ToDictionary(p => p[0], p => p[1]);
        return (values["LIBRARY"], values.GetValueOrDefault("PRELOAD"), null);
    }

    private static string RepositoryRoot()
    {
        for (string? dir = AppContext.BaseDirectory; dir != null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "JpegLm.sln")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException("repository root (JpegLm.sln) not found above " + AppContext.BaseDirectory);
    }
}
