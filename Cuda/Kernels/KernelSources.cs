using System.Reflection;
using System.Security.Cryptography;
using System.Text;

namespace JpegLm.Cuda.Kernels;

/// <summary>
/// The CUDA C kernel sources embedded in this assembly (<c>Cuda/Kernels/*.cu</c>) and the shared header
/// <c>common.cuh</c>, which NVRTC receives as an in-memory header (no file system, no CUDA headers).
/// </summary>
public static class KernelSources
{
    private const string Prefix = "JpegLm.Cuda.Kernels.";

    /// <summary>The compile options every kernel is built with (no fast math: the fp32 path must match the CPU).</summary>
    public static IReadOnlyList<string> Options { get; } = ["--std=c++17", "-default-device", "-lineinfo"];

    /// <summary>The kernel modules, by file name (e.g. <c>rmsnorm.cu</c>).</summary>
    public static IReadOnlyList<string> Modules { get; } = [.. Names().Where(n => n.EndsWith(".cu", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    /// <summary>Headers by include name.</summary>
    public static IReadOnlyDictionary<string, string> Headers { get; } =
        Names().Where(n => n.EndsWith(".cuh", StringComparison.Ordinal)).ToDictionary(n => n, Read, StringComparer.Ordinal);

    /// <summary>The text of one embedded source.</summary>
    public static string Read(string fileName)
    {
        using Stream stream = typeof(KernelSources).Assembly.GetManifestResourceStream(Prefix + fileName)
            ?? throw new ArgumentException($"no embedded kernel source {fileName}", nameof(fileName));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>A hash of a module's source, the headers and the options: the cache key of its CUBIN.</summary>
    public static string Hash(string module)
    {
        var text = new StringBuilder(Read(module));
        foreach (KeyValuePair<string, string> header in Headers.OrderBy(h => h.Key, StringComparer.Ordinal))
        {
            text.Append('\0').Append(header.Key).Append('\0').Append(header.Value);
        }

        text.Append('\0').AppendJoin(' ', Options);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    private static IEnumerable<string> Names()
    {
        Assembly assembly = typeof(KernelSources).Assembly;
        foreach (string name in assembly.GetManifestResourceNames())
        {
            if (name.StartsWith(Prefix, StringComparison.Ordinal))
            {
                yield return name[Prefix.Length..];
            }
        }
    }
}
