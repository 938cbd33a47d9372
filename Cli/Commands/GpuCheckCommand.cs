using System.CommandLine;
using JpegLm.Cli.Distributed.Nccl;
using JpegLm.Cuda.Checks;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm gpu-check</c>: everything a GPU session must verify, runnable from the self-contained binary
/// (no SDK on the GPU machine). The checks live in <see cref="GpuCheck"/> (JpegLm.Cuda); this adapter parses
/// the options and tells it how to start this program again, since each stage runs in its own process.
/// </summary>
internal sealed class GpuCheckCommand : CliCommand
{
    private readonly Option<string?> _out = CliOptions.Text("--out", "DIR", "write gpu-check.log, parity.tsv, resources.txt and summary.txt there");
    private readonly Option<bool> _quick = CliOptions.Flag("--quick", "skip the 350M T=12288 throughput run, shorter decoding runs");
    private readonly Option<int> _device = CliOptions.Number("--device", 0, 0, 64, "CUDA device ordinal");
    private readonly Option<int?> _paritySeed = CliOptions.OptionalNumber("--parity-seed", 1, int.MaxValue, "seed of the parity inputs (default: a fresh one, printed so a run can be replayed)", "S");
    private readonly Option<string?> _parityCase = CliOptions.Text("--parity-case", "NAME", "only the parity cases whose name contains NAME (with --stage fp32|bf16 to replay one)");
    private readonly Option<string?> _stage = CliOptions.Text("--stage", "NAME", $"run one stage ({string.Join(", ", GpuCheck.Stages)}) in this process");
    private readonly Option<bool> _nccl = CliOptions.Flag("--nccl", "instead of the stages: a one-rank NCCL communicator (no MPI) sums and broadcasts a device buffer on the backend's stream");

    public GpuCheckCommand()
        : base("gpu-check", "check the CUDA backend against the CPU and measure throughput", """
            Each stage runs in its own process, so a CUDA fault in one is reported (by kernel) and the next runs.
            Exit code 0 when every check passes, 1 when one fails or no CUDA driver/device is found.

            Example:
              jpeglm gpu-check --out logs/ --quick
            """)
    {
        Add(_out, _quick, _device, _paritySeed, _parityCase, _stage, _nccl);
    }

    protected override int Run(ParseResult parsed, TextWriter stdout, TextWriter stderr)
    {
        if (parsed.Value(_nccl))
        {
            return NcclCheck.Run(parsed.Value(_device), stdout);
        }

        var options = new GpuCheckOptions
        {
            OutDirectory = parsed.GetValue(_out),
            Quick = parsed.Value(_quick),
            Device = parsed.Value(_device),
            ParitySeed = parsed.GetValue(_paritySeed),
            ParityCase = parsed.GetValue(_parityCase),
            Stage = parsed.GetValue(_stage),
            SelfCommand = SelfCommand(),
        };
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
