using JpegLm.Codec.Imaging;
using JpegLm.Codec.IO;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.IO;

public class MediaKindTests
{
    public static TheoryData<byte[], string> Signatures => new()
    {
        { [0xFF, 0xD8, 0xFF, 0xE0], "JPEG" },
        { [0x00, 0x00, 0x00, 0x01, 0x67], "H.264" },
        { [0x00, 0x00, 0x01, 0x65], "H.264" },
        { [0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x09], "H.264" }, // leading_zero_8bits before the start code
        { [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], "PNG" },
        { "P6\n2 2\n255\n"u8.ToArray(), "PPM" },
        { "P5 2 2 255 "u8.ToArray(), "PGM" },
        { "YUV4MPEG2 W32 H32 F3:1\n"u8.ToArray(), "Y4M" },
    };

    [Theory]
    [MemberData(nameof(Signatures))]
    public void Content_decides_whatever_the_name(byte[] head, string kind)
    {
        Assert.Equal(kind, MediaKind.FromContent(head)?.Name);
        Assert.Equal(kind, MediaKind.Detect(head, "misleading.yuv")?.Name);
    }

    [Theory]
    [InlineData("clip.jsv", "H.264")]
    [InlineData("x.AVC", "H.264")]
    [InlineData("a.jpeg", "JPEG")]
    [InlineData("frames.yuv", "raw yuv420p")]
    [InlineData("notes.txt", null)]
    public void Without_a_signature_the_extension_decides(string name, string? kind)
    {
        Assert.Equal(kind, MediaKind.Detect([0x01, 0x02, 0x03], name)?.Name);
        Assert.Null(MediaKind.FromContent([0x00, 0x01, 0x02])); // one zero byte is not a start code
    }

    [Fact]
    public void A_png_named_jpg_on_disk_is_a_png_and_loads()
    {
        string path = Path.Combine(TestPaths.NewTempDirectory(), "photo.jpg");
        PixelImage image = SyntheticImages.Make(9, 7, 1, 0);
        File.WriteAllBytes(path, PngCodec.Write(image));
        Assert.Same(MediaKind.Png, MediaKind.Detect(path));
        Assert.Equal(image.Pixels, ImageFile.Load(path).Pixels);
    }

    [Fact]
    public void Still_image_extensions_come_from_the_table()
    {
        Assert.Contains(".jpg", MediaKind.StillImageExtensions);
        Assert.Contains(".pgm", MediaKind.StillImageExtensions);
        Assert.DoesNotContain(".y4m", MediaKind.StillImageExtensions);
        Assert.Same(MediaKind.StillImageExtensions, ImageFile.InputExtensions);
        Assert.Throws<FileNotFoundException>(() => MediaKind.Detect(Path.Combine(TestPaths.NewTempDirectory(), "absent.jpg")));
    }
}
