using JpegLm.Codec.Imaging;
using JpegLm.Codec.Jpeg;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Imaging;

public class ImageFileTests
{
    [Fact]
    public void Formats_are_recognized_by_content_not_name()
    {
        string dir = TestPaths.NewTempDirectory();
        PixelImage image = SyntheticImages.Make(20, 12, 5, 0);
        File.WriteAllBytes(Path.Combine(dir, "a.dat"), PngCodec.Write(image));
        File.WriteAllBytes(Path.Combine(dir, "b.dat"), PnmCodec.Write(image));
        File.WriteAllBytes(Path.Combine(dir, "c.dat"), JpegEncoder.Encode(image, new JpegEncoderOptions { Quality = 100, Subsampling = JpegSubsampling.S444 }));
        Assert.Equal(image.Pixels, ImageFile.Load(Path.Combine(dir, "a.dat")).Pixels);
        Assert.Equal(image.Pixels, ImageFile.Load(Path.Combine(dir, "b.dat")).Pixels);
        PixelImage jpeg = ImageFile.Load(Path.Combine(dir, "c.dat"));
        Assert.True(ImageMetrics.Psnr(image, jpeg) > 35);
    }

    [Fact]
    public void Unknown_bytes_are_a_typed_error()
    {
        Assert.Throws<ImageFormatException>(() => ImageFile.Decode("hello"u8));
    }

    [Fact]
    public void Save_writes_by_extension_and_leaves_no_temporary_files()
    {
        string dir = TestPaths.NewTempDirectory();
        PixelImage image = SyntheticImages.Make(9, 7, 5, 1);
        ImageFile.Save(Path.Combine(dir, "x.png"), image);
        ImageFile.Save(Path.Combine(dir, "x.pgm"), image);
        Assert.Equal(image.Pixels, ImageFile.Load(Path.Combine(dir, "x.png")).Pixels);
        Assert.Equal(1, ImageFile.Load(Path.Combine(dir, "x.pgm")).Channels);
        Assert.Equal(2, Directory.GetFiles(dir).Length);
        Assert.Throws<ArgumentException>(() => ImageFile.Save(Path.Combine(dir, "x.gif"), image));
    }
}
