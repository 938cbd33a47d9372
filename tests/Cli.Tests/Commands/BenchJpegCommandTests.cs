using JpegLm.Codec.Imaging;
using JpegLm.TestSupport;

namespace JpegLm.Cli.Tests.Commands;

public class BenchJpegCommandTests
{
    [Fact]
    public void Bench_prints_encode_and_decode_rows_for_a_small_photo_folder()
    {
        string dir = TestPaths.NewTempDirectory();
        File.WriteAllBytes(Path.Combine(dir, "a.png"), PngCodec.Write(SyntheticImages.Make(300, 264, 1, 0)));
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int code = Program.Run(["bench", "jpeg", "--kodak", dir, "--iterations", "1", "--warmup", "0"], stdout, stderr);
        Assert.True(code == 0, stderr.ToString());
        string text = stdout.ToString();
        Assert.Contains("encode   256x256 crops, q25 4:2:0 restart 1 image-only", text);
        Assert.Contains("decode   full photos", text);
    }

    [Fact]
    public void Unknown_area_is_a_usage_error_and_a_missing_folder_exits_1()
    {
        Assert.Equal(2, Program.Run(["bench", "mp3"], new StringWriter(), new StringWriter()));
        Assert.Equal(1, Program.Run(["bench", "jpeg", "--kodak", Path.Combine(TestPaths.NewTempDirectory(), "none")], new StringWriter(), new StringWriter()));
    }
}
