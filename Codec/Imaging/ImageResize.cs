namespace JpegLm.Codec.Imaging;

/// <summary>
/// Geometry for data preparation: centre crop, area-averaging downscale and bicubic upscale. Each
/// axis is resampled separately; an axis that shrinks uses exact area weights (every source pixel
/// contributes its covered fraction), an axis that grows uses the cubic convolution
/// kernel with a = −0.5 (Keys), as Pillow's BICUBIC does. Results are rounded and clamped to 0..255.
/// </summary>
public static class ImageResize
{
    /// <summary>Cuts the largest centred window with the aspect ratio <paramref name="aspectWidth"/>:<paramref name="aspectHeight"/>.</summary>
    public static PixelImage CenterCropToAspect(PixelImage image, int aspectWidth, int aspectHeight)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(aspectWidth, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(aspectHeight, 1);
        long wByH = (long)image.Height * aspectWidth / aspectHeight;
        int w = image.Width, h = image.Height;
        if (wByH <= image.Width)
        {
            w = (int)Math.Max(1, wByH);
        }
        else
        {
            h = (int)Math.Max(1, (long)image.Width * aspectHeight / aspectWidth);
        }

        return Crop(image, (image.Width - w) / 2, (image.Height - h) / 2, w, h);
    }

    /// <summary>Copies the rectangle (x, y, width, height), which must lie inside the image.</summary>
    public static PixelImage Crop(PixelImage image, int x, int y, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (x < 0 || y < 0 || width < 1 || height < 1 || x + width > image.Width || y + height > image.Height)
        {
            throw new ArgumentOutOfRangeException(nameof(x), $"crop {width}x{height}+{x}+{y} is outside the {image.Width}x{image.Height} image");
        }

        var result = new PixelImage(width, height, image.Channels);
        int c = image.Channels;
        for (int row = 0; row < height; row++)
        {
            image.Pixels.AsSpan(((y + row) * image.Stride) + (x * c), width * c).CopyTo(result.Row(row));
        }

        return result;
    }

    /// <summary>Pads to <paramref name="width"/> x <paramref name="height"/>, centring the image on a constant background.</summary>
    public static PixelImage PadCentered(PixelImage image, int width, int height, byte background = 0)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (width < image.Width || height < image.Height)
        {
            throw new ArgumentOutOfRangeException(nameof(width), $"cannot pad {image.Width}x{image.Height} to the smaller {width}x{height}");
        }

        var result = new PixelImage(width, height, image.Channels);
        result.Pixels.AsSpan().Fill(background);
        int x0 = (width - image.Width) / 2, y0 = (height - image.Height) / 2, c = image.Channels;
        for (int row = 0; row < image.Height; row++)
        {
            image.Row(row).CopyTo(result.Pixels.AsSpan(((y0 + row) * result.Stride) + (x0 * c), image.Stride));
        }

        return result;
    }

    /// <summary>Resizes to exactly <paramref name="width"/> x <paramref name="height"/>: area averaging on shrinking axes, bicubic on growing ones.</summary>
    public static PixelImage Resize(PixelImage image, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        if (width == image.Width && height == image.Height)
        {
            return new PixelImage(width, height, image.Channels, (byte[])image.Pixels.Clone());
        }

        int c = image.Channels;
        // Horizontal pass into float rows, then vertical pass into bytes.
        Weights wx = Weights.For(image.Width, width);
        Weights wy = Weights.For(image.Height, height);
        float[] mid = new float[image.Height * width * c];
        for (int y = 0; y < image.Height; y++)
        {
            ReadOnlySpan<byte> src = image.Row(y);
            Span<float> dst = mid.AsSpan(y * width * c, width * c);
            for (int x = 0; x < width; x++)
            {
                for (int k = 0; k < c; k++)
                {
                    float acc = 0;
                    for (int t = 0; t < wx.Count[x]; t++)
                    {
                        acc += wx.Value[x][t] * src[((wx.First[x] + t) * c) + k];
                    }

                    dst[(x * c) + k] = acc;
                }
            }
        }

        var result = new PixelImage(width, height, c);
        int rowLen = width * c;
        for (int y = 0; y < height; y++)
        {
            Span<byte> dst = result.Row(y);
            for (int i = 0; i < rowLen; i++)
            {
                float acc = 0;
                for (int t = 0; t < wy.Count[y]; t++)
                {
                    acc += wy.Value[y][t] * mid[((wy.First[y] + t) * rowLen) + i];
                }

                dst[i] = (byte)Math.Clamp((int)MathF.Round(acc), 0, 255);
            }
        }

        return result;
    }

    /// <summary>Per-output-sample source windows and normalized weights along one axis.</summary>
    private sealed class Weights
    {
        public required int[] First { get; init; }

        public required int[] Count { get; init; }

        public required float[][] Value { get; init; }

        public static Weights For(int source, int target)
        {
            var first = new int[target];
            var count = new int[target];
            var value = new float[target][];
            double scale = (double)source / target;
            for (int i = 0; i < target; i++)
            {
                var taps = new List<(int Index, double Weight)>();
                if (target <= source)
                {
                    // Area: output pixel i covers source interval [i·scale, (i+1)·scale).
                    double lo = i * scale, hi = (i + 1) * scale;
                    for (int s = (int)Math.Floor(lo); s < Math.Min(source, (int)Math.Ceiling(hi)); s++)
                    {
                        double overlap = Math.Min(hi, s + 1) - Math.Max(lo, s);
                        if (overlap > 1e-12)
                        {
                            taps.Add((s, overlap));
                        }
                    }
                }
                else
                {
                    // Bicubic (Keys, a = -0.5) around the mapped centre, edges clamped.
                    double centre = ((i + 0.5) * scale) - 0.5;
                    int baseIndex = (int)Math.Floor(centre);
                    for (int s = baseIndex - 1; s <= baseIndex + 2; s++)
                    {
                        double wgt = Cubic(centre - s);
                        int clamped = Math.Clamp(s, 0, source - 1);
                        taps.Add((clamped, wgt));
                    }
                }

                int lowest = taps.Min(t => t.Index), highest = taps.Max(t => t.Index);
                double sum = taps.Sum(t => t.Weight);
                var w = new float[highest - lowest + 1];
                foreach ((int index, double weight) in taps)
                {
                    w[index - lowest] += (float)(weight / sum);
                }

                first[i] = lowest;
                count[i] = w.Length;
                value[i] = w;
            }

            return new Weights { First = first, Count = count, Value = value };
        }

        private static double Cubic(double x)
        {
            const double a = -0.5;
            x = Math.Abs(x);
            return x < 1 ? (((a + 2) * x) - (a + 3)) * x * x + 1
                : x < 2 ? (((((a * x) - (5 * a)) * x) + (8 * a)) * x) - (4 * a)
                : 0;
        }
    }
}
