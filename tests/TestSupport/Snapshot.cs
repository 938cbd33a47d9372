using System.Text;
using JpegLm.Codec.Imaging;
using Xunit.Sdk;

namespace JpegLm.TestSupport;

/// <summary>
/// Approved-file snapshots. The approved file lives in <c>testdata/snapshots/</c>; on a mismatch the
/// actual value is written beside it as <c>NAME.received.EXT</c> and the test fails with a readable
/// diff. Setting <c>JPEGLM_ACCEPT_SNAPSHOTS=1</c> turns received values into approved files.
/// </summary>
public static class Snapshot
{
    /// <summary>Environment variable that accepts received snapshots.</summary>
    public const string AcceptVariable = "JPEGLM_ACCEPT_SNAPSHOTS";

    private static bool Accepting => Environment.GetEnvironmentVariable(AcceptVariable) is "1" or "true";

    /// <summary>Compares text against <c>testdata/snapshots/NAME.txt</c> (line endings normalized).</summary>
    public static void VerifyText(string name, string actual)
    {
        actual = actual.Replace("\r\n", "\n", StringComparison.Ordinal);
        string approved = Path.Combine(TestPaths.TestData, "snapshots", name + ".txt");
        string received = Path.Combine(TestPaths.TestData, "snapshots", name + ".received.txt");
        string? expected = File.Exists(approved) ? File.ReadAllText(approved).Replace("\r\n", "\n", StringComparison.Ordinal) : null;
        if (expected == actual)
        {
            File.Delete(received);
            return;
        }

        if (Accepting)
        {
            WriteAtomically(approved, Encoding.UTF8.GetBytes(actual));
            File.Delete(received);
            return;
        }

        WriteAtomically(received, Encoding.UTF8.GetBytes(actual));
        throw new XunitException(expected == null
            ? $"no approved snapshot {approved}; received value written to {received} (set {AcceptVariable}=1 to accept)"
            : $"snapshot {name} differs (received written to {received}; set {AcceptVariable}=1 to accept):\n{LineDiff(expected, actual)}");
    }

    /// <summary>Compares bytes against <c>testdata/snapshots/NAME.EXT</c>, e.g. a decoded PNG.</summary>
    public static void VerifyBytes(string name, string extension, ReadOnlySpan<byte> actual)
    {
        string approved = Path.Combine(TestPaths.TestData, "snapshots", $"{name}.{extension}");
        string received = Path.Combine(TestPaths.TestData, "snapshots", $"{name}.received.{extension}");
        byte[]? expected = File.Exists(approved) ? File.ReadAllBytes(approved) : null;
        if (expected != null && actual.SequenceEqual(expected))
        {
            File.Delete(received);
            return;
        }

        if (Accepting)
        {
            WriteAtomically(approved, actual.ToArray());
            File.Delete(received);
            return;
        }

        WriteAtomically(received, actual.ToArray());
        if (expected == null)
        {
            throw new XunitException($"no approved snapshot {approved}; received written to {received} (set {AcceptVariable}=1 to accept)");
        }

        int first = 0;
        while (first < Math.Min(expected.Length, actual.Length) && expected[first] == actual[first])
        {
            first++;
        }

        throw new XunitException($"snapshot {name}.{extension} differs: {expected.Length} bytes approved, {actual.Length} received, first difference at byte {first}; received written to {received}");
    }

    /// <summary>
    /// Compares an image against <c>testdata/snapshots/NAME.png</c> by its pixels (not the PNG bytes, which
    /// depend on the zlib build), so a snapshot survives a runtime upgrade. Mismatch: <c>NAME.received.png</c>.
    /// </summary>
    public static void VerifyImage(string name, PixelImage actual)
    {
        ArgumentNullException.ThrowIfNull(actual);
        string approved = Path.Combine(TestPaths.TestData, "snapshots", name + ".png");
        string received = Path.Combine(TestPaths.TestData, "snapshots", name + ".received.png");
        PixelImage? expected = File.Exists(approved) ? PngCodec.Read(File.ReadAllBytes(approved)) : null;
        if (expected != null && expected.Width == actual.Width && expected.Height == actual.Height
            && expected.Channels == actual.Channels && expected.Pixels.AsSpan().SequenceEqual(actual.Pixels))
        {
            File.Delete(received);
            return;
        }

        if (Accepting)
        {
            WriteAtomically(approved, PngCodec.Write(actual));
            File.Delete(received);
            return;
        }

        WriteAtomically(received, PngCodec.Write(actual));
        if (expected == null)
        {
            throw new XunitException($"no approved snapshot {approved}; received written to {received} (set {AcceptVariable}=1 to accept)");
        }

        int differing = 0, maxDelta = 0;
        if (expected.Pixels.Length == actual.Pixels.Length)
        {
            for (int i = 0; i < actual.Pixels.Length; i++)
            {
                int d = Math.Abs(expected.Pixels[i] - actual.Pixels[i]);
                differing += d != 0 ? 1 : 0;
                maxDelta = Math.Max(maxDelta, d);
            }
        }

        throw new XunitException($"image snapshot {name} differs: approved {expected.Width}x{expected.Height}x{expected.Channels}, received {actual.Width}x{actual.Height}x{actual.Channels}; {differing} samples differ, max |delta| {maxDelta}; received written to {received}");
    }

    /// <summary>A line-by-line diff listing the first differing lines (at most 20).</summary>
    public static string LineDiff(string expected, string actual)
    {
        string[] a = expected.Split('\n'), b = actual.Split('\n');
        var sb = new StringBuilder();
        int shown = 0;
        for (int i = 0; i < Math.Max(a.Length, b.Length) && shown < 20; i++)
        {
            string? x = i < a.Length ? a[i] : null, y = i < b.Length ? b[i] : null;
            if (x == y)
            {
                continue;
            }

            sb.Append("line ").Append(i + 1).Append('\n');
            if (x != null)
            {
                sb.Append("- ").Append(x).Append('\n');
            }

            if (y != null)
            {
                sb.Append("+ ").Append(y).Append('\n');
            }

            shown++;
        }

        return sb.ToString();
    }

    private static void WriteAtomically(string path, byte[] bytes)
    {
        JpegLm.Codec.IO.AtomicFile.WriteAllBytes(path, bytes);
    }
}
