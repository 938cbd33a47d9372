using JpegLm.Codec.Imaging;

namespace JpegLm.Codec.Tests.Imaging;

public class ImageMetricsTests
{
    [Fact]
    public void Identical_images_have_infinite_psnr_and_unit_ssim()
    {
        PixelImage a = SyntheticImages.Make(24, 20, 1, 0);
        Assert.Equal(double.PositiveInfinity, ImageMetrics.Psnr(a, a));
        Assert.Equal(1.0, ImageMetrics.Ssim(a, a), 12);
    }

    [Fact]
    public void Psnr_of_a_constant_offset_matches_the_formula()
    {
        var a = new PixelImage(8, 8, 1);
        var b = new PixelImage(8, 8, 1);
        b.Pixels.AsSpan().Fill(5);
        Assert.Equal(10 * Math.Log10(255.0 * 255.0 / 25.0), ImageMetrics.Psnr(a, b), 9);
    }

    [Fact]
    public void Noise_lowers_ssim_and_the_region_restricts_it()
    {
        PixelImage a = SyntheticImages.Make(32, 32, 9, 1);
        var b = new PixelImage(32, 32, 3, (byte[])a.Pixels.Clone());
        var rng = new Random(3);
        for (int i = 16 * 32 * 3; i < b.Pixels.Length; i++)
        {
            b.Pixels[i] = (byte)Math.Clamp(b.Pixels[i] + rng.Next(-60, 61), 0, 255);
        }

        Assert.Equal(1.0, ImageMetrics.Ssim(a, b, 0, 0, 32, 16), 12);
        double lower = ImageMetrics.Ssim(a, b, 0, 16, 32, 16);
        Assert.InRange(lower, -1, 0.9);
        Assert.True(ImageMetrics.Psnr(a, b, 0, 16, 32, 16) < 30);
    }
}
