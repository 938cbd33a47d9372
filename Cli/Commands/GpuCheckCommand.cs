using JpegLm.Cuda.Checks;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm gpu-check</c>: everything a GPU session must verify, runnable from the self-contained binary
/// (no SDK on the GPU machine). The checks live in <see cref="GpuCheck"/> (JpegLm.Cuda); this adapter parses
/// the options and tells it how to start this program again, since each stage runs in its own process.
/// </summary>
internal sealed class GpuCheckCommand : ICliCommand
{
    public string Name => "gpu-check";

    public string Summary => "check the CUDA backend against the CPU and measure throughput";

    public string Usage => """
        jpeglm gpu-check [--out DIR] [--quick] [--device N] [--parity-seed S] [--parity-case NAME] [--stage NAME]
          --out DIR          write gpu-check.log, parity.tsv, resources.txt and summary.txt there
          --quick            skip the 350M T=12288 throughput run, shorter decoding runs
          --device N         CUDA device ordinal (default 0)
          --parity-seed S    seed of the parity inputs (default: a fresh one, printed so a run can be replayed)
          --parity-case NAME only the parity cases whose name contains NAME (with --stage fp32|bf16 to replay one)
          --stage NAME       run one stage (resources, fp32, bf16, throughput) in this process
        Each stage runs in its own process, so a CUDA fault in one is reported (by kernel) and the next runs.
        Exit code 0 when every check passes, 1 when one fails or no CUDA driver/device is found.
        """;

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var cli = new CliArgs(args, "quick");
        var options = new GpuCheckOptions
        {
            OutDirectory = cli.String("out"),
            Quick = cli.Flag("quick"),
            Device = cli.Int("device", 0, 0, 64),
            ParitySeed = cli.String("parity-seed") is { } s ? cli.Int("parity-seed", 1, 1) : null,
            ParityCase = cli.String("parity-case"),
            Stage = cli.String("stage"),
            SelfCommand = SelfCommand(),
        };
        cli.EnsureAllUsed(0);
        return GpuCheck.Run(options, stdout);
    }

    /// <summary>This program and the arguments that select gpu-check: the single-file binary, or <c>dotnet jpeglm.dll</c>.</summary>
    private static string[] SelfCommand()
    {
        string path = Environment.ProcessPath ?? "jpeglm";
        return Path.GetFileNameWithoutExtension(path) == "dotnet"
            ? [path, Environment.GetCommandLineArgs()[0], "gpu-check"]
            : [path, "gpu-check"];
    }
}
