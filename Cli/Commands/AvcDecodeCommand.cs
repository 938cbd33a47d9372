using JpegLm.Codec.Avc;
using JpegLm.Codec.Imaging;

namespace JpegLm.Cli.Commands;

/// <summary>
/// <c>jpeglm decode-avc IN.h264 OUT.yuv|OUT.y4m</c>: decodes an H.264 Annex B stream to raw
/// yuv420p or Y4M. <see cref="Run(string, string, TextWriter, TextWriter)"/> is what the general
/// <c>decode</c> command calls for .264/.h264/.jsv/.26l inputs.
/// </summary>
internal sealed class AvcDecodeCommand : ICliCommand
{
    public string Name => "decode-avc";

    public string Summary => "decode an H.264 baseline stream to .yuv (raw yuv420p) or .y4m";

    public string Usage => "jpeglm decode-avc IN.264 OUT.yuv|OUT.y4m [--tolerant] [--time]";

    public int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = new CliArgs(args, "tolerant", "time");
        string input = a.Positional(0, "input stream");
        string output = a.Positional(1, "output file");
        bool tolerant = a.Flag("tolerant");
        bool time = a.Flag("time");
        a.EnsureAllUsed(2);
        return Run(input, output, stdout, stderr, tolerant, time);
    }

    /// <summary>Decodes <paramref name="input"/> into <paramref name="output"/> (.y4m gives Y4M, anything else raw yuv420p).</summary>
    public static int Run(string input, string output, TextWriter stdout, TextWriter stderr) => Run(input, output, stdout, stderr, false, false);

    private static int Run(string input, string output, TextWriter stdout, TextWriter stderr, bool tolerant, bool time)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        if (!File.Exists(input))
        {
            stderr.WriteLine($"jpeglm decode-avc: {input}: no such file");
            return 1;
        }

        bool y4m = output.EndsWith(".y4m", StringComparison.OrdinalIgnoreCase);
        string temp = output + ".tmp-" + Environment.ProcessId;
        int frames = 0;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        TimeSpan cpu0 = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        try
        {
            var decoder = new AvcDecoder(new AvcDecoderOptions { Tolerant = tolerant });
            using (FileStream inStream = File.OpenRead(input))
            using (FileStream outStream = File.Create(temp))
            {
                foreach (Yuv420Frame frame in decoder.Decode(inStream))
                {
                    if (y4m)
                    {
                        if (frames == 0)
                        {
                            outStream.Write(System.Text.Encoding.ASCII.GetBytes($"YUV4MPEG2 W{frame.Width} H{frame.Height} F25:1 Ip A1:1 C420jpeg\n"));
                        }

                        outStream.Write("FRAME\n"u8);
                    }

                    frame.WriteRaw(outStream);
                    frames++;
                }
            }

            File.Move(temp, output, true);
            foreach (AvcSliceError e in decoder.Errors)
            {
                stderr.WriteLine($"jpeglm decode-avc: concealed slice {e.Slice} (frame {e.Frame}, first macroblock {e.FirstMb}, byte offset {e.ByteOffset}): {e.Reason}");
            }

            stdout.WriteLine(time
                ? $"{input}: {frames} frames -> {output} (decode {clock.Elapsed.TotalSeconds.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)} s, cpu {(System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalSeconds.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)} s)"
                : $"{input}: {frames} frames -> {output}");
            return 0;
        }
        catch (AvcFormatException e)
        {
            File.Delete(temp);
            stderr.WriteLine($"jpeglm decode-avc: {input}: {e.Message}");
            return 1;
        }
        catch (IOException e)
        {
            File.Delete(temp);
            stderr.WriteLine($"jpeglm decode-avc: {e.Message}");
            return 1;
        }
    }
}
