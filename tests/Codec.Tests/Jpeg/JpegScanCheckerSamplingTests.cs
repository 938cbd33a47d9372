using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;
using Xunit.Abstractions;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>
/// Grammar-constrained random streams as complete interchange files (tables included), judged by our checker
/// and by libjpeg-turbo's <c>djpeg -strict</c>, which we did not write. Half the bytes are drawn uniformly
/// from the allowed ones and half are the allowed byte that leaves the longest shortest completion, which
/// drives blocks into long codes, ZRL chains up to coefficient 63 and FF bytes. Set JPEGLM_SAMPLE_DIR to keep the files.
/// </summary>
public class JpegScanCheckerSamplingTests(ITestOutputHelper output)
{
    private static readonly Lazy<List<(string Name, byte[] File)>> Files = new(Sample);

    [Fact]
    public void Sampled_streams_make_complete_files_that_the_checker_accepts()
    {
        foreach ((string name, byte[] file) in Files.Value)
        {
            JpegScanReport report = JpegScanChecker.CheckFile(file);
            Assert.True(report.IsValid, $"{name}: {string.Join("; ", report.Issues.Select(i => i.Reason))}");
            Assert.NotNull(JpegDecoder.Decode(file));
        }
    }

    [SkippableFact]
    public void Djpeg_strict_decodes_every_sampled_stream_without_a_warning()
    {
        Skip.If(OutsideDecoders.DjpegMissing != null, OutsideDecoders.DjpegMissing);
        string dir = Environment.GetEnvironmentVariable("JPEGLM_SAMPLE_DIR") is { Length: > 0 } d ? d : TestPaths.NewTempDirectory();
        Directory.CreateDirectory(dir);
        var failures = new List<string>();
        foreach ((string name, byte[] file) in Files.Value)
        {
            string path = Path.Combine(dir, name);
            File.WriteAllBytes(path, file);
            OutsideVerdict v = OutsideDecoders.Djpeg(path);
            if (!v.Clean)
            {
                failures.Add($"{name}: exit {v.ExitCode}: {v.Stderr.Trim()}");
            }
        }

        output.WriteLine($"djpeg -strict: {Files.Value.Count - failures.Count}/{Files.Value.Count} sampled files clean ({dir})");
        Assert.Empty(failures);
    }

    private static List<(string, byte[])> Sample()
    {
        var rng = new Random(2026);
        Span<ulong> mask = stackalloc ulong[4];
        JpegProfile[] profiles =
        [
            JpegProfile.Standard("c", 64, 48, 25, JpegProfile.Yuv420, 1),
            JpegProfile.FashionMnist(),
            JpegProfile.Standard("h", 40, 24, 75, JpegProfile.Yuv444, 2),
            JpegProfile.Standard("n", 24, 16, 50, JpegProfile.Grey, 0),
        ];
        var files = new List<(string, byte[])>();
        var allowed = new List<byte>();
        foreach (JpegProfile p in profiles)
        {
            for (int trial = 0; trial < 8; trial++)
            {
                bool drag = trial % 2 == 1;
                var state = new JpegScanState(p.TokenGrammar());
                var body = new List<byte>();
                while (!state.IsComplete)
                {
                    state.FillAllowedMask(mask);
                    allowed.Clear();
                    for (int b = 0; b < 256; b++)
                    {
                        if ((mask[b >> 6] & (1UL << (b & 63))) != 0)
                        {
                            allowed.Add((byte)b);
                        }
                    }

                    byte next = drag && rng.Next(2) == 0 ? Longest(state, allowed) : allowed[rng.Next(allowed.Count)];
                    Assert.True(state.Consume(next));
                    body.Add(next);
                }

                byte[] imageOnly = p.FromTokenBytes([.. body]);
                byte[] tables = p.TablesStream();
                // Interchange file: SOI, the tables (without their SOI/EOI), then the image-only stream after its SOI.
                byte[] full = [.. imageOnly.AsSpan(0, 2), .. tables.AsSpan(2, tables.Length - 4), .. imageOnly.AsSpan(2)];
                files.Add(($"sampled-{files.Count:D2}-{p.Name}{(drag ? "-drag" : "")}.jpg", full));
            }
        }

        return files;
    }

    private static byte Longest(JpegScanState state, List<byte> allowed)
    {
        byte best = allowed[0];
        long most = -1;
        foreach (byte b in allowed)
        {
            JpegScanState next = state;
            next.Consume(b);
            long rest = next.ShortestCompletion();
            if (rest > most)
            {
                (most, best) = (rest, b);
            }
        }

        return best;
    }
}
