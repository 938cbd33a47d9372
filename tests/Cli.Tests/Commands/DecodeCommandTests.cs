using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.TestSupport;

namespace JpegLm.Cli.Tests.Commands;

public class DecodeCommandTests
{
    private static string Golden(string name) => TestPaths.Data("jpeg-dec", name);

    [Theory]
    [InlineData("cj_s420_odd.jpg", "out.png", 3)]
    [InlineData("cj_s420_odd.jpg", "out.ppm", 3)]
    [InlineData("cj_gray_prog.jpg", "out.pgm", 1)]
    public void Decodes_to_the_format_of_the_output_extension(string input, string outputName, int channels)
    {
        string dir = TestPaths.NewTempDirectory();
        string output = Path.Combine(dir, outputName);
        var stdout = new StringWriter();
        Assert.Equal(0, Program.Run(["decode", Golden(input), output], stdout, new StringWriter()));
        byte[] written = File.ReadAllBytes(output);
        PixelImage image = outputName.EndsWith(".png") ? PngCodec.Read(written) : PnmCodec.Read(written);
        PixelImage expected = JpegDecoder.Decode(File.ReadAllBytes(Golden(input)));
        Assert.Equal(channels, image.Channels);
        Assert.Equal(expected.Pixels, image.Pixels);
        Assert.Single(Directory.GetFiles(dir)); // No temporary file left behind.
        Assert.Contains("->", stdout.ToString());
    }

    [Fact]
    public void Bad_input_exits_1_and_names_the_byte_offset()
    {
        string dir = TestPaths.NewTempDirectory();
        string input = Path.Combine(dir, "cut.jpg");
        byte[] jpeg = File.ReadAllBytes(Golden("cj_q75.jpg"));
        File.WriteAllBytes(input, jpeg[..(jpeg.Length / 2)]);
        var stderr = new StringWriter();
        Assert.Equal(1, Program.Run(["decode", input, Path.Combine(dir, "out.png")], new StringWriter(), stderr));
        Assert.Contains("at byte", stderr.ToString());
        Assert.False(File.Exists(Path.Combine(dir, "out.png")));
    }

    [Fact]
    public void Tolerant_flag_writes_the_image_and_lists_the_damage()
    {
        string dir = TestPaths.NewTempDirectory();
        string input = Path.Combine(dir, "cut.jpg");
        byte[] jpeg = File.ReadAllBytes(Golden("cj_restart_mcu_q25.jpg"));
        File.WriteAllBytes(input, jpeg[..(jpeg.Length * 2 / 3)]);
        var stderr = new StringWriter();
        Assert.Equal(0, Program.Run(["decode", input, Path.Combine(dir, "out.ppm"), "--tolerant"], new StringWriter(), stderr));
        Assert.Contains("painted grey", stderr.ToString());
        Assert.True(File.Exists(Path.Combine(dir, "out.ppm")));
    }

    [Fact]
    public void Tables_option_supplies_the_tables_of_an_image_only_stream()
    {
        string dir = TestPaths.NewTempDirectory();
        byte[] jpeg = File.ReadAllBytes(Golden("cj_opt.jpg"));
        // Drop DQT (FFDB) and DHT (FFC4) segments before SOS to make an image-only stream.
        var imageOnly = new List<byte> { 0xFF, 0xD8 };
        int p = 2;
        while (true)
        {
            int length = (jpeg[p + 2] << 8) | jpeg[p + 3];
            if (jpeg[p + 1] == 0xDA)
            {
                imageOnly.AddRange(jpeg[p..]);
                break;
            }

            if (jpeg[p + 1] is not (0xDB or 0xC4))
            {
                imageOnly.AddRange(jpeg[p..(p + 2 + length)]);
            }

            p += 2 + length;
        }

        string input = Path.Combine(dir, "image-only.jpg");
        File.WriteAllBytes(input, [.. imageOnly]);
        string output = Path.Combine(dir, "out.ppm");
        var stderr = new StringWriter();
        Assert.Equal(1, Program.Run(["decode", input, output], new StringWriter(), stderr));
        Assert.Contains("quantization table", stderr.ToString());
        Assert.Equal(0, Program.Run(["decode", input, output, "--tables", Golden("cj_opt.jpg")], new StringWriter(), new StringWriter()));
        Assert.Equal(JpegDecoder.Decode(jpeg).Pixels, PnmCodec.Read(File.ReadAllBytes(output)).Pixels);
    }

    [Fact]
    public void A_missing_h264_stream_is_bad_input_not_an_unknown_kind()
    {
        string dir = TestPaths.NewTempDirectory();
        var stderr = new StringWriter();
        Assert.Equal(1, Program.Run(["decode", Path.Combine(dir, "missing.264"), Path.Combine(dir, "b.yuv")], new StringWriter(), stderr));
        Assert.DoesNotContain("unknown input kind", stderr.ToString());
    }

    [Fact]
    public void An_h264_stream_with_an_odd_extension_is_recognised_by_its_start_code()
    {
        string dir = TestPaths.NewTempDirectory();
        string input = Path.Combine(dir, "x.avc"), odd = Path.Combine(dir, "clip.bin");
        File.Copy(TestPaths.Data("avc", "x264", "pan_kodim01.264"), input);
        File.Copy(input, odd);
        var stdout = new StringWriter();
        Assert.Equal(0, Program.Run(["decode", input, Path.Combine(dir, "a.yuv")], stdout, new StringWriter()));
        Assert.Contains("15 frames", stdout.ToString());
        Assert.Equal(0, Program.Run(["decode", odd, Path.Combine(dir, "b.yuv")], new StringWriter(), new StringWriter()));
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir, "a.yuv")), File.ReadAllBytes(Path.Combine(dir, "b.yuv")));

        // The two codecs' output kinds and options do not mix.
        Assert.Equal(2, Program.Run(["decode", input, Path.Combine(dir, "c.png")], new StringWriter(), new StringWriter()));
        Assert.Equal(2, Program.Run(["decode", input, Path.Combine(dir, "c.yuv"), "--tables", input], new StringWriter(), new StringWriter()));
    }

    [Fact]
    public void A_png_named_jpg_is_told_apart_by_content()
    {
        string dir = TestPaths.NewTempDirectory();
        string fake = Path.Combine(dir, "photo.jpg");
        File.WriteAllBytes(fake, PngCodec.Write(SyntheticImages.Make(24, 16, 1, 0)));
        var stderr = new StringWriter();
        Assert.Equal(2, Program.Run(["decode", fake, Path.Combine(dir, "o.png")], new StringWriter(), stderr));
        Assert.Contains("a PNG file", stderr.ToString());

        // encode reads it as the PNG it is, whatever its name.
        var stdout = new StringWriter();
        Assert.Equal(0, Program.Run(["encode", fake, Path.Combine(dir, "real.jpg")], stdout, new StringWriter()));
        Assert.Contains("24x16", stdout.ToString());
    }

    [Theory]
    [InlineData("decode")]
    [InlineData("decode in.jpg")]
    [InlineData("decode in.jpg out.bmp")]
    [InlineData("decode in.jpg out.png --bogus 1")]
    public void Usage_errors_exit_2(string commandLine)
    {
        string dir = TestPaths.NewTempDirectory();
        File.WriteAllBytes(Path.Combine(dir, "in.jpg"), File.ReadAllBytes(Golden("cj_q75.jpg")));
        File.WriteAllBytes(Path.Combine(dir, "in.h264"), [0, 0, 0, 1]);
        string[] args = [.. commandLine.Split(' ').Select(a => a.Contains('.') && !a.StartsWith('-') ? Path.Combine(dir, a) : a)];
        Assert.Equal(2, Program.Run(args, new StringWriter(), new StringWriter()));
    }
}
