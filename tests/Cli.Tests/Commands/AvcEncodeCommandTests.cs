using JpegLm.Codec.Avc;
using JpegLm.Codec.Imaging;
using JpegLm.TestSupport;

namespace JpegLm.Cli.Tests.Commands;

public class AvcEncodeCommandTests
{
    [Fact]
    public void Encodes_a_clip_and_its_reconstruction_matches_the_decoded_stream()
    {
        string dir = Directory.CreateTempSubdirectory("jpeglm-encode-avc").FullName;
        try
        {
            string input = TestPaths.Data("avc-enc", "zoom_100x60.y4m");
            string stream = Path.Combine(dir, "out.h264"), recon = Path.Combine(dir, "recon.y4m");
            var stdout = new StringWriter();
            Assert.Equal(0, Program.Run(["encode", input, stream, "--refs", "2", "--recon", recon], stdout, new StringWriter()));
            Assert.Contains("6 frames", stdout.ToString());
            Assert.Empty(Directory.GetFiles(dir, "*.tmp-*"));

            List<Yuv420Frame> decoded = AvcDecoder.DecodeFile(stream);
            using var reader = new Y4mReader(File.OpenRead(recon));
            List<Yuv420Frame> expected = [.. reader.ReadAll()];
            Assert.Equal(expected.Count, decoded.Count);
            for (int i = 0; i < decoded.Count; i++)
            {
                Assert.Equal(expected[i].Y, decoded[i].Y);
                Assert.Equal(expected[i].V, decoded[i].V);
            }
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Bad_settings_are_usage_errors_and_bad_input_is_exit_1()
    {
        var err = new StringWriter();
        Assert.Equal(2, Program.Run(["encode", "a.y4m", "b.h264", "--qp", "60"], new StringWriter(), err));
        Assert.Contains("--qp", err.ToString());
        Assert.Equal(2, Program.Run(["encode", "a.y4m"], new StringWriter(), new StringWriter()));

        string dir = Directory.CreateTempSubdirectory("jpeglm-encode-avc").FullName;
        try
        {
            string bad = Path.Combine(dir, "bad.y4m");
            File.WriteAllText(bad, "not a y4m file");
            err = new StringWriter();
            Assert.Equal(1, Program.Run(["encode", bad, Path.Combine(dir, "o.h264")], new StringWriter(), err));
            Assert.Contains("bad.y4m: at byte", err.ToString());
            Assert.False(File.Exists(Path.Combine(dir, "o.h264")));
            Assert.Equal(1, Program.Run(["encode", Path.Combine(dir, "missing.y4m"), Path.Combine(dir, "o.h264")], new StringWriter(), new StringWriter()));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }
}
