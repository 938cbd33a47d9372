using System.Diagnostics;
using System.Globalization;
using JpegLm.Cuda.Interop;
using JpegLm.Cuda.Kernels;

namespace JpegLm.Cuda.Checks;

/// <summary>What <c>jpeglm gpu-check</c> was asked to do.</summary>
public sealed record GpuCheckOptions
{
    /// <summary>Where the log, parity tables, resource report and summary go (null: console only).</summary>
    public string? OutDirectory { get; init; }

    /// <summary>Skip the 350M T=12,288 throughput run and shorten the decoding runs.</summary>
    public bool Quick { get; init; }

    /// <summary>The CUDA device ordinal.</summary>
    public int Device { get; init; }

    /// <summary>The parity inputs' seed (null: a fresh one, logged so the run can be replayed).</summary>
    public int? ParitySeed { get; init; }

    /// <summary>Only the parity cases whose name contains this (to replay one).</summary>
    public string? ParityCase { get; init; }

    /// <summary>Run only this stage, in this process (what the orchestrating process asks its children).</summary>
    public string? Stage { get; init; }

    /// <summary>The command that starts this program's gpu-check again (program path and leading arguments).</summary>
    public IReadOnlyList<string> SelfCommand { get; init; } = [];
}

/// <summary>
/// The GPU session's checks, in stages that each run in a fresh process: a sticky CUDA error (an illegal
/// address) poisons the process's context for good, so one fault must not take the later stages with it.
/// The parity stages synchronize after every launch, so a fault names its kernel; each stage's findings come
/// back as rows of the summary table, and a stage whose process dies is one failed row.
/// </summary>
public static class GpuCheck
{
    /// <summary>The stages, in order.</summary>
    public static IReadOnlyList<string> Stages { get; } = ["resources", "fp32", "bf16", "throughput"];

    /// <summary>Runs gpu-check; returns the exit code (0 when every check passed).</summary>
    public static int Run(GpuCheckOptions options, TextWriter console)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(console);
        string? outDir = options.OutDirectory;
        if (outDir != null)
        {
            Directory.CreateDirectory(outDir);
        }

        if (options.Stage != null)
        {
            var report = new GpuCheckReport(console, outDir, options.Stage);
            try
            {
                return GpuCheckStages.Run(options, report) ? 0 : 1;
            }
            finally
            {
                report.WriteStageFiles();
            }
        }

        var log = new GpuCheckReport(console, outDir, null);
        try
        {
            return Orchestrate(options, log);
        }
        finally
        {
            log.WriteFiles();
        }
    }

    private static int Orchestrate(GpuCheckOptions options, GpuCheckReport log)
    {
        log.Line($"jpeglm gpu-check on .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC{(options.Quick ? ", quick" : "")}");
        log.Line("== library probe");
        LibraryResolution driver = LibraryResolver.ResolveDriver(SystemLibraryProbe.Instance);
        foreach (string line in driver.Describe())
        {
            log.Line("  " + line);
        }

        LibraryResolution toolkit = LibraryResolver.ResolveToolkit(SystemLibraryProbe.Instance, CudaLibrary.Cublas, CudaLibrary.CublasLt, CudaLibrary.Nvrtc);
        foreach (string line in toolkit.Describe())
        {
            log.Line("  " + line);
        }

        log.Line(toolkit.Success ? $"  toolkit: CUDA {toolkit.Major} libraries" : $"  toolkit: {toolkit.Error}");
        Nvrtc? compiler = Nvrtc.TryLoad(out LibraryResolution nvrtcAlone);
        log.Line(compiler != null ? $"  NVRTC alone: {compiler.Version} from {compiler.Library.Path}" : $"  NVRTC alone: {nvrtcAlone.Error}");
        log.Line($"  Python prefixes searched: {string.Join(' ', LibraryResolver.PythonPrefixes(SystemLibraryProbe.Instance))}");
        if (!driver.Success || !toolkit.Success)
        {
            if (compiler != null)
            {
                // Without a GPU the binary still proves that its embedded kernels compile, and what they need.
                RunStage("resources", options, log);
            }

            log.Line("gpu-check: " + (driver.Success ? toolkit.Explain(SystemLibraryProbe.Instance) : driver.Explain(SystemLibraryProbe.Instance)));
            log.Add(driver.Success ? "cuda toolkit" : "cuda driver", false, "not found");
            log.Line();
            log.Line(log.Table());
            return 1;
        }

        // One seed for the whole run, so that both precisions' parity tables replay with the same command.
        GpuCheckOptions staged = options with { ParitySeed = options.ParitySeed ?? Random.Shared.Next(1, int.MaxValue) };
        foreach (string stage in Stages)
        {
            RunStage(stage, staged, log);
        }

        log.Line();
        log.Line(log.Table());
        return log.Summary.All(s => s.Passed != false) ? 0 : 1;
    }

    /// <summary>
    /// Runs one stage in a child process and takes its summary rows; a dead child is a failed row. The resource
    /// report runs here: it only compiles (and asks the device its architecture), so it cannot poison a context.
    /// </summary>
    private static void RunStage(string stage, GpuCheckOptions options, GpuCheckReport log)
    {
        if (stage == "resources")
        {
            GpuCheckStages.Run(options with { Stage = stage }, log);
            return;
        }

        string dir = log.OutDirectory ?? Path.Combine(Path.GetTempPath(), "jpeglm-gpu-check-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        var start = new ProcessStartInfo(options.SelfCommand[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in options.SelfCommand.Skip(1))
        {
            start.ArgumentList.Add(a);
        }

        start.ArgumentList.Add("--stage");
        start.ArgumentList.Add(stage);
        start.ArgumentList.Add("--out");
        start.ArgumentList.Add(dir);
        start.ArgumentList.Add("--device");
        start.ArgumentList.Add(options.Device.ToString(CultureInfo.InvariantCulture));
        if (options.Quick)
        {
            start.ArgumentList.Add("--quick");
        }

        start.ArgumentList.Add("--parity-seed");
        start.ArgumentList.Add((options.ParitySeed ?? 1).ToString(CultureInfo.InvariantCulture));
        if (options.ParityCase != null)
        {
            start.ArgumentList.Add("--parity-case");
            start.ArgumentList.Add(options.ParityCase);
        }

        string summary = Path.Combine(dir, $"summary-{stage}.tsv");
        File.Delete(summary);
        var watch = Stopwatch.StartNew();
        using Process process = Process.Start(start)!;
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data != null)
            {
                log.Line("  ! " + e.Data);
            }
        };
        process.BeginErrorReadLine();
        while (process.StandardOutput.ReadLine() is { } line)
        {
            log.Line(line);
        }

        process.WaitForExit();
        if (!File.Exists(summary))
        {
            log.Add($"stage {stage}", false, $"its process exited with code {process.ExitCode} before reporting (see the log above)");
            return;
        }

        foreach (string row in File.ReadAllLines(summary))
        {
            string[] f = row.Split('\t');
            log.Add(f[0], f[1] == "" ? null : f[1] == "True", f[2], quiet: true);
        }

        log.Line($"  stage {stage}: exit {process.ExitCode}, {watch.Elapsed.TotalSeconds:F0} s");
    }
}
