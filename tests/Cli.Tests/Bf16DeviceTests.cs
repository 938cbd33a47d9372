using JpegLm.TestSupport;
using Xunit.Abstractions;
using static JpegLm.Cli.Tests.TrainingRuns;

namespace JpegLm.Cli.Tests;

/// <summary>
/// <c>--device cpu-bf16</c> where the optional native kernel cannot be used: a usage error naming why, never a crash.
/// The library is loaded once per process, so each case runs in its own <c>jpeglm</c> process with
/// <c>JPEGLM_BF16_LIBRARY</c> pointing at what to try.
/// </summary>
public class Bf16DeviceTests(ITestOutputHelper output)
{
    public static TheoryData<string, string> Libraries => new()
    {
        { "/nonexistent/libjpeglm_bf16.so", "not found" },
        { Path.Combine(TestPaths.RepoRoot, "README.md"), "could not be loaded" },
        { "/lib/x86_64-linux-gnu/libc.so.6", "lacks the jpeglm_bf16_* exports" },
    };

    [SkippableTheory]
    [MemberData(nameof(Libraries))]
    public void A_library_that_cannot_serve_is_a_usage_error_that_says_why(string library, string reason)
    {
        Skip.If(reason.Contains("exports", StringComparison.Ordinal) && !File.Exists(library), $"{library} is not on this machine");
        string model = Path.Combine(TestPaths.RepoRoot, "docs", "quality", "fmnist", "model");
        using ProcessRun run = ProcessRun.Start(Dotnet, [JpeglmDll, "score", "--model", model, "--tokens", "1,2,3", "--device", "cpu-bf16"],
            [("JPEGLM_BF16_LIBRARY", library)]);
        Assert.Equal(2, run.Wait(TimeSpan.FromMinutes(2), output));
        Assert.Contains($"--device cpu-bf16: {library} {reason}", run.Stderr, StringComparison.Ordinal);
    }
}
