using JpegLm.Codec.Imaging;

namespace JpegLm.Codec.Tests.Imaging;

public class ImageResizeTests
{
    [Fact]
    public void Area_downscale_by_two_averages_each_two_by_two_block()
    {
        var image = new PixelImage(4, 2, 1, [0, 10, 20, 30, 100, 110, 120, 130]);
        PixelImage half = ImageResize.Resize(image, 2, 1);
        Assert.Equal(new byte[] { 55, 75 }, half.Pixels);
    }

    [Fact]
    public void Area_downscale_by_a_fraction_weights_partial_pixels()
    {
        // 3 -> 2: output 0 covers [0, 1.5) = 1·a + 0.5·b, over 1.5.
        var image = new PixelImage(3, 1, 1, [0, 90, 180]);
        PixelImage r = ImageResize.Resize(image, 2, 1);
        Assert.Equal(new byte[] { 30, 150 }, r.Pixels);
    }

    [Fact]
    public void Upscale_of_a_constant_image_is_constant_and_keeps_channels()
    {
        var image = new PixelImage(3, 2, 3);
        image.Pixels.AsSpan().Fill(77);
        PixelImage r = ImageResize.Resize(image, 7, 5);
        Assert.All(r.Pixels, v => Assert.Equal(77, v));
        Assert.Equal(3, r.Channels);
    }

    [Fact]
    public void Bicubic_upscale_interpolates_a_ramp_monotonically()
    {
        var image = new PixelImage(4, 1, 1, [0, 80, 160, 240]);
        PixelImage r = ImageResize.Resize(image, 8, 1);
        for (int i = 1; i < 8; i++)
        {
            Assert.True(r.Pixels[i] >= r.Pixels[i - 1], $"not monotone at {i}: {string.Join(",", r.Pixels)}");
        }
    }

    [Fact]
    public void Center_crop_to_square_keeps_the_middle()
    {
        var image = new PixelImage(6, 2, 1, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        PixelImage sq = ImageResize.CenterCropToAspect(image, 1, 1);
        Assert.Equal(new byte[] { 3, 4, 9, 10 }, sq.Pixels);
    }

    [Fact]
    public void Pad_centres_the_image_on_the_background()
    {
        var image = new PixelImage(1, 1, 1, [200]);
        PixelImage p = ImageResize.PadCentered(image, 3, 3, 5);
        Assert.Equal(new byte[] { 5, 5, 5, 5, 200, 5, 5, 5, 5 }, p.Pixels);
    }
}
