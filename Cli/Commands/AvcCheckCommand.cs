using System.Text;
using System.Text.Json;
using JpegLm.Codec.Avc;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm check-avc IN.h264 [--json]</c>: checks an H.264 stream's syntax slice by slice without
/// reconstructing it. Exit 0 valid, 1 corrupt slices listed, 2 unreadable or usage error.
/// </summary>
internal sealed class AvcCheckCommand : ICliCommand
{
    public string Name => "check-avc";

    public string Summary => "check an H.264 stream's slice syntax (one slice = one patch)";

    public string Usage => "jpeglm check-avc IN.h264 [--json]";

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = new CliArgs(args, "json");
        string input = a.Positional(0, "input stream");
        bool json = a.Flag("json");
        a.EnsureAllUsed(1);
        return Run(input, json, stdout, stderr);
    }

    /// <summary>Checks <paramref name="input"/>; what the general <c>check</c> command calls for H.264 files.</summary>
    public static int Run(string input, bool json, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        AvcCheckResult result;
        try
        {
            using FileStream fs = File.OpenRead(input);
            result = AvcStreamChecker.Check(fs);
        }
        catch (Exception e) when (e is AvcFormatException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"jpeglm check-avc: {input}: {e.Message}");
            return 2;
        }

        if (result.PatchCount == 0)
        {
            stderr.WriteLine($"jpeglm check-avc: {input}: no slices found");
            return 2;
        }

        if (json)
        {
            stdout.WriteLine(ToJson(result));
        }
        else
        {
            foreach (AvcSliceError e in result.Corrupt)
            {
                stdout.WriteLine($"slice {e.Slice} (frame {e.Frame}, first macroblock {e.FirstMb}, byte offset {e.ByteOffset}): {e.Reason}");
            }

            stdout.WriteLine(result.Valid ? $"{input}: valid, {result.PatchCount} slices" : $"{input}: {result.Corrupt.Count} of {result.PatchCount} slices corrupt");
        }

        return result.Valid ? 0 : 1;
    }

    /// <summary>The machine-readable report: codec, valid, patchCount, corrupt[] (patch, offset, reason, frame, firstMb).</summary>
    public static string ToJson(AvcCheckResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("codec", "avc");
            w.WriteBoolean("valid", result.Valid);
            w.WriteNumber("patchCount", result.PatchCount);
            w.WriteStartArray("corrupt");
            foreach (AvcSliceError e in result.Corrupt)
            {
                w.WriteStartObject();
                w.WriteNumber("patch", e.Slice);
                w.WriteNumber("offset", e.ByteOffset);
                w.WriteString("reason", e.Reason);
                w.WriteNumber("frame", e.Frame);
                w.WriteNumber("firstMb", e.FirstMb);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
