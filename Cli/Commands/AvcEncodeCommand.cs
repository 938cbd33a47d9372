using JpegLm.Codec.Avc.Encoder;
using JpegLm.Codec.Imaging;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm encode-avc IN.y4m OUT.h264 [options]</c>: encodes a Y4M video with the AVC-LM settings
/// (constrained baseline, CAVLC, QP 37, one macroblock per slice, 3 references) or variations.
/// <see cref="Run(IReadOnlyList{string}, TextWriter, TextWriter)"/> is what the general <c>encode</c>
/// command calls for .h264/.264 outputs.
/// </summary>
internal sealed class AvcEncodeCommand : ICliCommand
{
    public string Name => "encode-avc";

    public string Summary => "encode a Y4M video to H.264 baseline (AVC-LM settings by default)";

    public string Usage => """
        jpeglm encode-avc IN.y4m OUT.h264 [--qp 37] [--ipoffset 3] [--refs 3] [--slice-max-mbs 1 (0: one slice per picture)]
                          [--keyint 250] [--qpel] [--partitions] [--i4x4-in-p] [--no-deblock] [--range 16] [--recon R.y4m]
        """;

    int ICliCommand.Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr) => Run(args, stdout, stderr);

    /// <summary>Runs the command; exit code 0 success, 1 bad input, 2 usage.</summary>
    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var a = new CliArgs(args, "qpel", "partitions", "i4x4-in-p", "no-deblock");
        string input = a.Positional(0, "input .y4m");
        string output = a.Positional(1, "output .h264");
        var options = new AvcEncoderOptions
        {
            Qp = a.Int("qp", 37, 0, 51),
            IntraQpOffset = a.Int("ipoffset", 3, -51, 51),
            Refs = a.Int("refs", 3, 1, 16),
            SliceMaxMbs = a.Int("slice-max-mbs", 1, 0, 1 << 20),
            Keyint = a.Int("keyint", 250, 1, 1 << 20),
            SearchRange = a.Int("range", 16, 1, 64),
            QuarterPel = a.Flag("qpel"),
            InterPartitions = a.Flag("partitions"),
            Intra4x4InP = a.Flag("i4x4-in-p"),
            DisableDeblocking = a.Flag("no-deblock"),
        };
        string? recon = a.String("recon");
        a.EnsureAllUsed(2);
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }

        if (!File.Exists(input))
        {
            stderr.WriteLine($"jpeglm encode-avc: {input}: no such file");
            return 1;
        }

        string temp = output + ".tmp-" + Environment.ProcessId;
        string? reconTemp = recon == null ? null : recon + ".tmp-" + Environment.ProcessId;
        try
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            List<Yuv420Frame> frames;
            Y4mHeader header;
            using (var reader = new Y4mReader(File.OpenRead(input)))
            using (FileStream outStream = File.Create(temp))
            {
                header = reader.Header;
                frames = AvcEncoder.EncodeY4m(reader, outStream, options);
            }

            watch.Stop();
            if (reconTemp != null)
            {
                using FileStream r = File.Create(reconTemp);
                Y4mReader.WriteHeader(r, header with { Width = frames.Count > 0 ? frames[0].Width : header.Width, Height = frames.Count > 0 ? frames[0].Height : header.Height });
                foreach (Yuv420Frame f in frames)
                {
                    Y4mReader.WriteFrame(r, f);
                }
            }

            File.Move(temp, output, true);
            if (reconTemp != null)
            {
                File.Move(reconTemp, recon!, true);
            }

            long bytes = new FileInfo(output).Length;
            stdout.WriteLine($"{input}: {frames.Count} frames, {bytes} bytes -> {output} ({frames.Count / Math.Max(watch.Elapsed.TotalSeconds, 1e-9):F1} frames/s)");
            return 0;
        }
        catch (Exception e) when (e is ImageFormatException or IOException or ArgumentException)
        {
            File.Delete(temp);
            if (reconTemp != null)
            {
                File.Delete(reconTemp);
            }

            stderr.WriteLine($"jpeglm encode-avc: {input}: {e.Message}");
            return 1;
        }
    }
}
