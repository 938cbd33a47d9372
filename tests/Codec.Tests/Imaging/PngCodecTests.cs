using JpegLm.Codec.Imaging;
using JpegLm.TestSupport;

namespace JpegLm.Codec.Tests.Imaging;

public class PngCodecTests
{
    [Theory]
    [InlineData("rgb8.png", "crop.ppm")]
    [InlineData("rgb8-interlaced.png", "crop.ppm")]
    [InlineData("rgba8.png", "crop.ppm")]
    [InlineData("rgb16.png", "rgb16.ppm")]
    [InlineData("gray8.png", "gray8.pgm")]
    [InlineData("gray16.png", "gray16.pgm")]
    [InlineData("gray1.png", "gray1.pgm")]
    [InlineData("palette.png", "palette.ppm")]
    [InlineData("palette4.png", "palette4.ppm")]
    public void Reads_every_colour_type_as_imagemagick_does(string png, string expectedPnm)
    {
        PixelImage actual = PngCodec.Read(File.ReadAllBytes(TestPaths.Data("imaging", png)));
        PixelImage expected = PnmCodec.Read(File.ReadAllBytes(TestPaths.Data("imaging", expectedPnm)));
        Assert.Equal((expected.Width, expected.Height, expected.Channels), (actual.Width, actual.Height, actual.Channels));
        Assert.Equal(expected.Pixels, actual.Pixels);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Write_then_read_round_trips(int channels)
    {
        var rng = new Random(7);
        var image = new PixelImage(19, 11, channels);
        rng.NextBytes(image.Pixels);
        PixelImage back = PngCodec.Read(PngCodec.Write(image));
        Assert.Equal(channels, back.Channels);
        Assert.Equal(image.Pixels, back.Pixels);
    }

    [Fact]
    public void Corrupt_files_give_typed_errors_with_offsets()
    {
        byte[] good = File.ReadAllBytes(TestPaths.Data("imaging", "rgb8.png"));
        var rng = new Random(1234);
        for (int trial = 0; trial < 300; trial++)
        {
            byte[] bad = (byte[])good.Clone();
            switch (trial % 3)
            {
                case 0:
                    bad[rng.Next(bad.Length)] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1:
                    Array.Resize(ref bad, rng.Next(bad.Length));
                    break;
                default:
                    bad[8 + rng.Next(30)] = (byte)rng.Next(256);
                    break;
            }

            try
            {
                PngCodec.Read(bad);
            }
            catch (ImageFormatException e)
            {
                Assert.Contains("at byte", e.Message);
            }
        }
    }

    [Fact]
    public void Absurd_dimensions_are_refused_before_allocating()
    {
        byte[] png = File.ReadAllBytes(TestPaths.Data("imaging", "rgb8.png"));
        var e = Assert.Throws<ImageFormatException>(() => PngCodec.Read(png, maxPixels: 100));
        Assert.Contains("pixel limit", e.Message);
    }
}
