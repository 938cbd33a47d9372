using System.Diagnostics;

namespace JpegLm.TestSupport;

/// <summary>What an outside decoder said of a file: its exit code, its stderr, and (ffmpeg) the frames it decoded.</summary>
/// <param name="ExitCode">The process's exit code.</param>
/// <param name="Stderr">Everything it wrote to stderr (empty for a clean decode).</param>
/// <param name="Frames">Frames decoded (ffmpeg only; 0 for djpeg).</param>
public sealed record OutsideVerdict(int ExitCode, string Stderr, int Frames)
{
    /// <summary>Exit code 0 and nothing on stderr: decoded without an error or a warning.</summary>
    public bool Clean => ExitCode == 0 && Stderr.Length == 0;
}

/// <summary>
/// Decoders we did not write, as second opinions on what our grammar lets through: <c>djpeg -strict</c>
/// (libjpeg-turbo, Debian's libjpeg-turbo-progs), which turns every warning into a failure, and
/// <c>ffmpeg -v error -xerror -err_detect explode</c>, which stops at the first error it can detect.
/// Tests skip with <see cref="DjpegMissing"/> / <see cref="FfmpegMissing"/> as the reason when a tool is absent.
/// </summary>
public static class OutsideDecoders
{
    private static readonly Lazy<string?> DjpegPath = new(() => Find("djpeg"));
    private static readonly Lazy<string?> FfmpegPath = new(() => Find("ffmpeg"));

    /// <summary>Why djpeg checks cannot run, or null when djpeg is on the PATH.</summary>
    public static string? DjpegMissing => DjpegPath.Value == null ? "djpeg is not installed (apt-get install libjpeg-turbo-progs)" : null;

    /// <summary>Why ffmpeg checks cannot run, or null when ffmpeg is on the PATH.</summary>
    public static string? FfmpegMissing => FfmpegPath.Value == null ? "ffmpeg is not installed (apt-get install ffmpeg)" : null;

    /// <summary>Decodes a JPEG with <c>djpeg -strict</c> to nowhere.</summary>
    public static OutsideVerdict Djpeg(string file)
    {
        (int code, string stdout, string stderr) = Run(DjpegPath.Value ?? throw new InvalidOperationException(DjpegMissing), ["-strict", "-outfile", "/dev/null", file]);
        _ = stdout;
        return new OutsideVerdict(code, stderr, 0);
    }

    /// <summary>
    /// Decodes an H.264 Annex B file with ffmpeg, stopping at any detectable error, and counts the frames
    /// it outputs (one framemd5 line each).
    /// </summary>
    public static OutsideVerdict Ffmpeg(string file)
    {
        (int code, string stdout, string stderr) = Run(FfmpegPath.Value ?? throw new InvalidOperationException(FfmpegMissing),
            ["-nostdin", "-hide_banner", "-v", "error", "-xerror", "-err_detect", "explode", "-f", "h264", "-i", file, "-f", "framemd5", "-"]);
        int frames = stdout.Split('\n').Count(l => l.Length > 0 && l[0] != '#');
        return new OutsideVerdict(code, stderr, frames);
    }

    private static (int Code, string Stdout, string Stderr) Run(string exe, string[] args)
    {
        var info = new ProcessStartInfo(exe)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            info.ArgumentList.Add(a);
        }

        using Process p = Process.Start(info) ?? throw new InvalidOperationException($"cannot start {exe}");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{exe} did not finish in 2 minutes");
        }

        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string? Find(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            string candidate = Path.Combine(dir, name);
            if (dir.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
