using JpegLm.Codec.Jpeg;
using JpegLm.Codec.Tokens;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Jpeg;

/// <summary>
/// Grammar-constrained random streams as complete interchange files. scripts/check-sampled-with-djpeg.sh
/// runs this with JPEGLM_SAMPLE_DIR set and decodes every file with djpeg (which the tests never call).
/// </summary>
public class JpegScanCheckerSamplingTests
{
    [Fact]
    public void Sampled_streams_make_complete_files_that_the_checker_accepts()
    {
        string dir = Environment.GetEnvironmentVariable("JPEGLM_SAMPLE_DIR") is { Length: > 0 } d ? d : TestPaths.NewTempDirectory();
        Directory.CreateDirectory(dir);
        var rng = new Random(2026);
        Span<ulong> mask = stackalloc ulong[4];
        JpegProfile[] profiles =
        [
            JpegProfile.Standard("c", 64, 48, 25, JpegProfile.Yuv420, 1),
            JpegProfile.Standard("g", 32, 32, 25, JpegProfile.Grey, 1),
            JpegProfile.Standard("h", 40, 24, 75, JpegProfile.Yuv444, 2),
        ];
        int n = 0;
        foreach (JpegProfile p in profiles)
        {
            for (int trial = 0; trial < 8; trial++)
            {
                var state = new JpegScanState(p.TokenGrammar());
                var body = new List<byte>();
                while (!state.IsComplete)
                {
                    state.FillAllowedMask(mask);
                    int count = 0;
                    for (int w = 0; w < 4; w++)
                    {
                        count += System.Numerics.BitOperations.PopCount(mask[w]);
                    }

                    int pick = rng.Next(count);
                    for (int b = 0; b < 256; b++)
                    {
                        if ((mask[b >> 6] & (1UL << (b & 63))) != 0 && pick-- == 0)
                        {
                            Assert.True(state.Consume((byte)b));
                            body.Add((byte)b);
                            break;
                        }
                    }
                }

                byte[] imageOnly = p.FromTokenBytes([.. body]);
                byte[] tables = p.TablesStream();
                // Interchange file: SOI, the tables (without their SOI/EOI), then the image-only stream after its SOI.
                byte[] full = [.. imageOnly.AsSpan(0, 2), .. tables.AsSpan(2, tables.Length - 4), .. imageOnly.AsSpan(2)];
                Assert.True(JpegScanChecker.CheckFile(full).IsValid || JpegScanChecker.CheckFile(full, p.HuffmanSpecs()).IsValid);
                File.WriteAllBytes(Path.Combine(dir, $"sampled-{n++:D2}-{p.Name}.jpg"), full);
            }
        }
    }
}
