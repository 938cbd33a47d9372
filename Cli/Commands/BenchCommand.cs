using System.CommandLine;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm bench AREA</c>: the benchmarks, one sub-command per area — <c>jpeg</c> (encode and decode against
/// libjpeg-turbo), <c>jpeg-decode</c> (decode against libjpeg-turbo in CPU time), <c>tokens</c> (BPE),
/// <c>engine</c> (GEMM, training and sampling) and <c>sampling</c> (constrained against unconstrained).
/// </summary>
internal sealed class BenchCommand : CliCommand
{
    public BenchCommand()
        : base("bench", "benchmarks: bench jpeg, bench jpeg-decode, bench tokens, bench engine, bench bf16, bench sampling", """
            Examples:
              jpeglm bench jpeg --kodak ../shared/data/kodak
              jpeglm bench tokens crops/ --vocab 320
              jpeglm bench engine --quick
              jpeglm bench sampling
            """)
    {
        AddSubcommands(new BenchJpegCommand(), new BenchJpegDecodeCommand(), new BenchTokensCommand(), new BenchEngineCommand(), new BenchBf16Command(), new BenchSamplingCommand());
        GroupOnly();
    }

    /// <summary>
    /// The Kodak photos for the JPEG benchmarks: <c>$JPEGLM_SHARED_DATA/kodak</c>, else <c>shared/data/kodak</c>
    /// in the current folder or the nearest ancestor that has one; null when none is found.
    /// </summary>
    internal static string? FindKodak()
    {
        string? env = Environment.GetEnvironmentVariable("JPEGLM_SHARED_DATA");
        if (!string.IsNullOrEmpty(env) && Directory.Exists(Path.Combine(env, "kodak")))
        {
            return Path.Combine(env, "kodak");
        }

        for (var dir = new DirectoryInfo(Directory.GetCurrentDirectory()); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data", "kodak");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    // A group has no handler; System.CommandLine reports a missing sub-command before this could run.
    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr) => throw new UsageException("missing benchmark area");
}
