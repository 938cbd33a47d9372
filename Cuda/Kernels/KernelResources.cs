using System.Globalization;
using System.Text.RegularExpressions;
using JpegLm.Cuda.Interop;

namespace JpegLm.Cuda.Kernels;

/// <summary>What one compiled kernel needs per thread and per block, as ptxas reports it.</summary>
/// <param name="Module">The source file, e.g. <c>attention_bf16.cu</c>.</param>
/// <param name="Kernel">The entry point.</param>
/// <param name="Registers">Registers per thread.</param>
/// <param name="StackFrameBytes">Local memory per thread: the stack frame (local arrays and spills).</param>
/// <param name="SpillStoreBytes">Bytes of register spill stores.</param>
/// <param name="SpillLoadBytes">Bytes of register spill loads.</param>
/// <param name="SharedBytes">Static shared memory per block.</param>
/// <param name="LaunchThreads">Threads per block the backend launches it with (<see cref="CudaKernels.LaunchThreads"/>).</param>
public sealed record KernelResource(string Module, string Kernel, int Registers, int StackFrameBytes, int SpillStoreBytes, int SpillLoadBytes,
    int SharedBytes, int LaunchThreads)
{
    /// <summary>Registers a block needs (allocated per warp in units of 256).</summary>
    public int RegistersPerBlock => (Registers * 32 + 255) / 256 * 256 * ((LaunchThreads + 31) / 32);

    /// <summary>One line for the report: <c>module kernel regs stack spills smem threads regs/block</c>.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Module,-18} {Kernel,-34} {Registers,4} regs {StackFrameBytes,6} B stack {SpillStoreBytes,4}/{SpillLoadBytes,-4} B spill st/ld {SharedBytes,6} B smem x{LaunchThreads,-5} = {RegistersPerBlock,6} regs/block");
}

/// <summary>
/// The resource report of every kernel: each module compiled by NVRTC with ptxas' verbose output and its
/// "Function properties" / "Used N registers" lines parsed. <c>gpu-check</c> prints it for the GPU's NVRTC;
/// the tests assert it for the NVRTC of CI (no spills in the tensor-core attention; registers × threads
/// within the 65,536 registers of an SM for every kernel as launched).
/// </summary>
public static partial class KernelResources
{
    /// <summary>Registers available to one block on sm_80 and sm_90.</summary>
    public const int RegistersPerSm = 65536;

    /// <summary>Compiles every module for <c>sm_{arch}</c> and returns one entry per kernel.</summary>
    public static IReadOnlyList<KernelResource> Measure(Nvrtc nvrtc, int arch)
    {
        ArgumentNullException.ThrowIfNull(nvrtc);
        var all = new List<KernelResource>();
        foreach (string module in KernelSources.Modules)
        {
            nvrtc.CompileToCubin(KernelSources.Read(module), module, KernelSources.Headers, arch, [.. KernelSources.Options, "--ptxas-options=--verbose"], out string log);
            all.AddRange(Parse(module, log));
        }

        return all;
    }

    /// <summary>Parses ptxas' verbose output for one module.</summary>
    public static IReadOnlyList<KernelResource> Parse(string module, string log)
    {
        ArgumentNullException.ThrowIfNull(log);
        var result = new List<KernelResource>();
        string? kernel = null;
        (int Stack, int Stores, int Loads) frame = (0, 0, 0);
        foreach (string line in log.Split('\n'))
        {
            if (FunctionProperties().Match(line) is { Success: true } f)
            {
                kernel = f.Groups[1].Value;
                frame = (0, 0, 0);
            }
            else if (Frame().Match(line) is { Success: true } s)
            {
                frame = (Int(s.Groups[1]), Int(s.Groups[2]), Int(s.Groups[3]));
            }
            else if (kernel != null && Used().Match(line) is { Success: true } u)
            {
                int shared = u.Groups[2].Success ? Int(u.Groups[2]) : 0;
                result.Add(new KernelResource(module, kernel, Int(u.Groups[1]), frame.Stack, frame.Stores, frame.Loads, shared, CudaKernels.LaunchThreads(kernel)));
                kernel = null;
            }
        }

        return result;
    }

    private static int Int(Group g) => int.Parse(g.Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"Function properties for (\w+)")]
    private static partial Regex FunctionProperties();

    [GeneratedRegex(@"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")]
    private static partial Regex Frame();

    [GeneratedRegex(@"Used (\d+) registers(?:, (\d+) bytes smem)?")]
    private static partial Regex Used();
}
