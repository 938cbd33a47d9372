namespace JpegLm.Codec.Imaging;

/// <summary>
/// Full-reference quality measures between two images of the same size, optionally restricted to a
/// rectangle (e.g. the completed lower half of a prompted sample): PSNR over all samples, and SSIM
/// (Wang et al. 2004: 11x11 Gaussian window, σ = 1.5, K1 = 0.01, K2 = 0.03) on the luma of each.
/// </summary>
public static class ImageMetrics
{
    /// <summary>Peak signal-to-noise ratio in dB over the rectangle (whole image by default); +∞ when identical.</summary>
    public static double Psnr(PixelImage a, PixelImage b, int x = 0, int y = 0, int width = -1, int height = -1)
    {
        (x, y, width, height) = CheckRegion(a, b, x, y, width, height);
        double sum = 0;
        long count = 0;
        int c = a.Channels;
        for (int row = y; row < y + height; row++)
        {
            ReadOnlySpan<byte> ra = a.Row(row).Slice(x * c, width * c), rb = b.Row(row).Slice(x * c, width * c);
            for (int i = 0; i < ra.Length; i++)
            {
                double d = ra[i] - rb[i];
                sum += d * d;
            }

            count += ra.Length;
        }

        double mse = sum / count;
        return mse == 0 ? double.PositiveInfinity : 10 * Math.Log10(255.0 * 255.0 / mse);
    }

    /// <summary>Mean SSIM of the luma planes over the rectangle (whole image by default), in [−1, 1].</summary>
    public static double Ssim(PixelImage a, PixelImage b, int x = 0, int y = 0, int width = -1, int height = -1)
    {
        (x, y, width, height) = CheckRegion(a, b, x, y, width, height);
        PixelImage ga = a.ToGray(), gb = b.ToGray();
        const int radius = 5;
        Span<double> kernel = stackalloc double[(2 * radius) + 1];
        double ksum = 0;
        for (int i = -radius; i <= radius; i++)
        {
            kernel[i + radius] = Math.Exp(-(i * i) / (2 * 1.5 * 1.5));
            ksum += kernel[i + radius];
        }

        for (int i = 0; i < kernel.Length; i++)
        {
            kernel[i] /= ksum;
        }

        const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
        double total = 0;
        for (int py = y; py < y + height; py++)
        {
            for (int px = x; px < x + width; px++)
            {
                double ma = 0, mb = 0, saa = 0, sbb = 0, sab = 0, wsum = 0;
                for (int dy = -radius; dy <= radius; dy++)
                {
                    int sy = py + dy;
                    if (sy < y || sy >= y + height)
                    {
                        continue;
                    }

                    for (int dx = -radius; dx <= radius; dx++)
                    {
                        int sx = px + dx;
                        if (sx < x || sx >= x + width)
                        {
                            continue;
                        }

                        double w = kernel[dy + radius] * kernel[dx + radius];
                        double va = ga.Pixels[(sy * ga.Width) + sx], vb = gb.Pixels[(sy * gb.Width) + sx];
                        ma += w * va;
                        mb += w * vb;
                        saa += w * va * va;
                        sbb += w * vb * vb;
                        sab += w * va * vb;
                        wsum += w;
                    }
                }

                ma /= wsum;
                mb /= wsum;
                double va2 = (saa / wsum) - (ma * ma), vb2 = (sbb / wsum) - (mb * mb), cov = (sab / wsum) - (ma * mb);
                total += ((2 * ma * mb) + c1) * ((2 * cov) + c2) / (((ma * ma) + (mb * mb) + c1) * (va2 + vb2 + c2));
            }
        }

        return total / ((long)width * height);
    }

    private static (int X, int Y, int W, int H) CheckRegion(PixelImage a, PixelImage b, int x, int y, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Width != b.Width || a.Height != b.Height || a.Channels != b.Channels)
        {
            throw new ArgumentException($"images differ in shape: {a.Width}x{a.Height}x{a.Channels} vs {b.Width}x{b.Height}x{b.Channels}", nameof(b));
        }

        if (width < 0)
        {
            width = a.Width - x;
        }

        if (height < 0)
        {
            height = a.Height - y;
        }

        if (x < 0 || y < 0 || width < 1 || height < 1 || x + width > a.Width || y + height > a.Height)
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"region {width}x{height}+{x}+{y} is outside the {a.Width}x{a.Height} image");
        }

        return (x, y, width, height);
    }
}
