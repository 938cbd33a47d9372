using JpegLm.TestSupport;
using static JpegLm.Cli.Tests.CliRun;

namespace JpegLm.Cli.Tests.Commands;

public class EncodeCommandTests
{
    [Theory]
    [InlineData("k23_37x21.ppm", "cj_k23_37x21_q75_s422_r2", "--quality", "75", "--subsampling", "4:2:2", "--restart-interval", "2")]
    [InlineData("k05_64x64.ppm", "pil_k05_64x64_q25_r1_st2", "--restart-interval", "1", "--stream", "image-only")]
    [InlineData("k19_45x29.pgm", "cj_k19_45x29_q75_gray_opt", "--quality", "75", "--optimize")]
    [InlineData("k23_37x21.ppm", "cj_k23_37x21_q5_s420_ext", "--quality", "5", "--no-force-baseline")]
    public void Encode_writes_the_reference_bytes(string input, string golden, params string[] options)
    {
        string dir = TestPaths.NewTempDirectory();
        string output = Path.Combine(dir, "out.jpg");
        var (code, stdout, stderr) = Run(["encode", TestPaths.Data("jpeg-enc", "in", input), output, .. options]);
        Assert.True(code == 0, stderr);
        Assert.Contains("bytes", stdout);
        Assert.Equal(File.ReadAllBytes(TestPaths.Data("jpeg-enc", "out", golden + ".jpg")), File.ReadAllBytes(output));
        Assert.Single(Directory.GetFiles(dir));
    }

    [Fact]
    public void Bad_input_exits_1_naming_the_byte_offset()
    {
        string dir = TestPaths.NewTempDirectory();
        string input = Path.Combine(dir, "bad.ppm");
        File.WriteAllBytes(input, "P6\n4 4\n255\n\u0001\u0002"u8.ToArray());
        var (code, _, stderr) = Run("encode", input, Path.Combine(dir, "out.jpg"));
        Assert.Equal(1, code);
        Assert.Contains("at byte", stderr);
        Assert.False(File.Exists(Path.Combine(dir, "out.jpg")));
    }

    [Fact]
    public void Missing_file_exits_1()
    {
        string dir = TestPaths.NewTempDirectory();
        Assert.Equal(1, Run("encode", Path.Combine(dir, "none.png"), Path.Combine(dir, "o.jpg")).Code);
    }

    [Fact]
    public void Jpeg_input_is_decoded_and_reencoded_and_a_corrupt_one_exits_1_with_the_offset()
    {
        string dir = TestPaths.NewTempDirectory();
        byte[] original = File.ReadAllBytes(TestPaths.Data("jpeg-enc", "out", "cj_k23_37x21_q75_s420.jpg"));
        string jpg = Path.Combine(dir, "in.jpg");
        File.WriteAllBytes(jpg, original);
        var (code, _, stderr) = Run("encode", jpg, Path.Combine(dir, "o.jpg"), "--quality", "50");
        Assert.True(code == 0, stderr);
        Assert.True(File.ReadAllBytes(Path.Combine(dir, "o.jpg")).AsSpan().StartsWith(new byte[] { 0xFF, 0xD8 }));

        File.WriteAllBytes(jpg, original.AsSpan(0, 100).ToArray());
        (code, _, stderr) = Run("encode", jpg, Path.Combine(dir, "o2.jpg"));
        Assert.Equal(1, code);
        Assert.Contains("at byte", stderr);
        Assert.False(File.Exists(Path.Combine(dir, "o2.jpg")));
    }

    [Theory]
    [InlineData("encode")]
    [InlineData("encode", "a.png")]
    [InlineData("encode", "a.png", "b.bmp")]
    [InlineData("encode", "a.png", "b.jpg", "--quality", "0")]
    [InlineData("encode", "a.png", "b.jpg", "--subsampling", "4:2:1")]
    [InlineData("encode", "a.png", "b.jpg", "--stream", "partial")]
    [InlineData("encode", "a.png", "b.jpg", "--stream", "image-only", "--optimize")]
    [InlineData("encode", "a.png", "b.jpg", "--bogus", "1")]
    public void Usage_errors_exit_2(params string[] args) => Assert.Equal(2, Run(args).Code);
}
