using JpegLm.Cuda.Interop;

namespace JpegLm.Cli.Tests.Commands;

public sealed class GpuCheckCommandTests
{
    [Fact]
    public void Unknown_option_is_a_usage_error()
    {
        var err = new StringWriter();
        Assert.Equal(2, Program.Run(["gpu-check", "--bogus", "1"], new StringWriter(), err));
        Assert.Contains("unknown option --bogus", err.ToString());
    }

    [SkippableFact]
    public void Without_a_driver_it_prints_the_probe_and_fails_cleanly()
    {
        Skip.If(LibraryResolver.ResolveDriver(SystemLibraryProbe.Instance).Success, "a CUDA driver is present: gpu-check would run the real checks");
        string dir = Path.Combine(Path.GetTempPath(), "jpeglm-gpu-check-" + Guid.NewGuid().ToString("N"));
        var output = new StringWriter();
        try
        {
            Assert.Equal(1, Program.Run(["gpu-check", "--out", dir], output, new StringWriter()));
            string text = output.ToString();
            Assert.Contains("== library probe", text);
            Assert.Contains("Driver    skipped libcuda.so.1", text);
            Assert.Contains("no CUDA driver found", text);
            Assert.Contains("cuda driver", File.ReadAllText(Path.Combine(dir, "summary.txt")));
            Assert.True(File.Exists(Path.Combine(dir, "gpu-check.log")));
        }
        finally
        {
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }
}
