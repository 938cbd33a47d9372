using System.Diagnostics;

namespace JpegLm.Cli.Tests.Commands;

/// <summary>
/// scripts/gpu-run.sh rehearsed on the CPU (<c>--device cpu --quick</c>): prepare from the 64-image sample, then
/// the whole run (probe, gpu-check, sanitizer step, a training run, samples, eval), leaving the files a GPU run leaves.
/// </summary>
public sealed class GpuRunScriptTests
{
    [SkippableFact]
    public void Cpu_rehearsal_leaves_every_file_of_a_gpu_run()
    {
        Skip.If(!OperatingSystem.IsLinux() || !File.Exists("/bin/bash"), "the script needs bash");
        string root = Root();
        string work = Path.Combine(Path.GetTempPath(), "jpeglm-gpu-run-" + Guid.NewGuid().ToString("N"));
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { Path.Combine(root, "scripts", "gpu-run.sh"), "--device", "cpu", "--quick", "--out", work })
        {
            start.ArgumentList.Add(a);
        }

        // The built CLI instead of a fresh self-contained publish; the real CUDA driver and the emulator stay out.
        start.Environment["JPEGLM"] = $"{dotnet} {typeof(Program).Assembly.Location}";
        start.Environment.Remove("JPEGLM_CUDA_EMULATOR");
        try
        {
            using Process process = Process.Start(start)!;
            Task<string> stderr = process.StandardError.ReadToEndAsync();
            string stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            string all = stdout + stderr.Result;
            Assert.True(process.ExitCode == 0, all);
            string run = Path.Combine(work, "gpu-run");
            foreach (string file in new[] { "probe.txt", "summary.txt", "gpu-check/gpu-check.log", "gpu-check/summary.txt", "gpu-check.console.txt", "nccl.txt",
                "sanitizer-memcheck.txt", "sanitizer-racecheck.txt", "train.txt", "run/model.safetensors", "run/loss.csv", "sample.txt", "eval.json" })
            {
                Assert.True(File.Exists(Path.Combine(run, file)), $"{file} missing\n{all}");
            }

            Assert.True(File.Exists(run + ".tar.gz"), all);
            Assert.Contains("\"bitsPerByte\"", File.ReadAllText(Path.Combine(run, "eval.json")));
            Assert.Contains("train", File.ReadAllText(Path.Combine(run, "summary.txt")));
        }
        finally
        {
            if (Directory.Exists(work))
            {
                Directory.Delete(work, recursive: true);
            }
        }
    }

    private static string Root()
    {
        for (string? dir = AppContext.BaseDirectory; dir != null; dir = Path.GetDirectoryName(dir))
        {
            if (File.Exists(Path.Combine(dir, "JpegLm.sln")))
            {
                return dir;
            }
        }

        throw new InvalidOperationException("JpegLm.sln not found");
    }
}
