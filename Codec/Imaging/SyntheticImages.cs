namespace JpegLm.Codec.Imaging;

/// <summary>
/// A deterministic synthetic image set for the demo and for tests of the whole pipeline: each image is a
/// smooth two-colour gradient background with one or two filled shapes (disc, rectangle, triangle) or a
/// striped/checked texture patch. The same (seed, index) always gives the same pixels on every machine:
/// only integer arithmetic and a local PCG-style generator are used, never <see cref="Random"/>'s
/// unspecified algorithm.
/// </summary>
public static class SyntheticImages
{
    /// <summary>Makes image number <paramref name="index"/> of the set with <paramref name="seed"/>.</summary>
    /// <param name="width">Width in pixels.</param>
    /// <param name="height">Height in pixels.</param>
    /// <param name="seed">Seed of the whole set.</param>
    /// <param name="index">Which image of the set.</param>
    public static PixelImage Make(int width, int height, ulong seed, int index)
    {
        var rng = new Pcg(seed, (ulong)index);
        var image = new PixelImage(width, height, 3);
        (int r, int g, int b) c0 = Palette(rng.Next(16)), c1 = Palette(rng.Next(16));
        bool vertical = rng.Next(2) == 0;
        for (int y = 0; y < height; y++)
        {
            Span<byte> row = image.Row(y);
            for (int x = 0; x < width; x++)
            {
                int t = vertical ? (y * 256 / Math.Max(1, height - 1)) : (x * 256 / Math.Max(1, width - 1));
                row[3 * x] = (byte)(((c0.r * (256 - t)) + (c1.r * t)) >> 8);
                row[(3 * x) + 1] = (byte)(((c0.g * (256 - t)) + (c1.g * t)) >> 8);
                row[(3 * x) + 2] = (byte)(((c0.b * (256 - t)) + (c1.b * t)) >> 8);
            }
        }

        int shapes = 1 + rng.Next(2);
        for (int s = 0; s < shapes; s++)
        {
            (int r, int g, int b) colour = Palette(rng.Next(16));
            int kind = rng.Next(4);
            int cx = rng.Next(width), cy = rng.Next(height);
            int size = Math.Max(2, (Math.Min(width, height) / 5) + rng.Next(Math.Max(1, Math.Min(width, height) / 3)));
            int period = 2 + rng.Next(4);
            for (int y = Math.Max(0, cy - size); y < Math.Min(height, cy + size); y++)
            {
                for (int x = Math.Max(0, cx - size); x < Math.Min(width, cx + size); x++)
                {
                    int dx = x - cx, dy = y - cy;
                    bool inside = kind switch
                    {
                        0 => (dx * dx) + (dy * dy) < size * size,               // disc
                        1 => Math.Abs(dx) < size && Math.Abs(dy) < size * 2 / 3, // rectangle
                        2 => dy > -size && Math.Abs(dx) * 2 < dy + size,         // triangle, apex up
                        _ => Math.Abs(dx) < size && Math.Abs(dy) < size && ((x / period) + (y / period)) % 2 == 0, // checks
                    };
                    if (inside)
                    {
                        image.Pixels[(y * image.Stride) + (3 * x)] = (byte)colour.r;
                        image.Pixels[(y * image.Stride) + (3 * x) + 1] = (byte)colour.g;
                        image.Pixels[(y * image.Stride) + (3 * x) + 2] = (byte)colour.b;
                    }
                }
            }
        }

        return image;
    }

    /// <summary>
    /// Makes image number <paramref name="index"/> of the demo's <i>continuable</i> grey set: everything in the lower
    /// half follows from the upper half — a background that is either constant down each column (a left-to-right
    /// gradient) or a top-to-bottom linear ramp, and one to three vertical bars that run the full height, some with a
    /// ramp of their own. A model that completes half-images can therefore be judged against the truth (its error
    /// should beat filling the half with the prompt's mean), which random shapes and textures would not allow.
    /// </summary>
    public static PixelImage MakeContinuable(int width, int height, ulong seed, int index)
    {
        var rng = new Pcg(seed ^ 0xC0A7_1DB1E5UL, (ulong)index);
        var image = new PixelImage(width, height, 1);
        int a = 20 + rng.Next(216), b = 20 + rng.Next(216);
        bool columns = rng.Next(2) == 0;
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int t = columns ? (x * 256 / Math.Max(1, width - 1)) : (y * 256 / Math.Max(1, height - 1));
                image.Pixels[(y * width) + x] = (byte)(((a * (256 - t)) + (b * t)) >> 8);
            }
        }

        int bars = 1 + rng.Next(3);
        for (int i = 0; i < bars; i++)
        {
            int barWidth = Math.Max(2, (width / 10) + rng.Next(Math.Max(1, width / 6)));
            int x0 = rng.Next(Math.Max(1, width - barWidth));
            int top = rng.Next(2) == 0 ? 30 : 225;
            int bottom = rng.Next(3) == 0 ? 255 - top : top; // a third of the bars fade from one end to the other
            for (int y = 0; y < height; y++)
            {
                byte level = (byte)(((top * (height - 1 - y)) + (bottom * y)) / Math.Max(1, height - 1));
                image.Pixels.AsSpan((y * width) + x0, barWidth).Fill(level);
            }
        }

        return image;
    }

    private static (int R, int G, int B) Palette(int i) => i switch
    {
        0 => (230, 25, 75), 1 => (60, 180, 75), 2 => (255, 225, 25), 3 => (0, 130, 200),
        4 => (245, 130, 48), 5 => (145, 30, 180), 6 => (70, 240, 240), 7 => (240, 50, 230),
        8 => (210, 245, 60), 9 => (250, 190, 212), 10 => (0, 128, 128), 11 => (220, 190, 255),
        12 => (170, 110, 40), 13 => (255, 250, 200), 14 => (30, 30, 30), _ => (240, 240, 240),
    };

    /// <summary>PCG-XSH-RR 32-bit generator: fixed, portable output for a (seed, stream) pair.</summary>
    private struct Pcg
    {
        private ulong _state;
        private readonly ulong _increment;

        public Pcg(ulong seed, ulong stream)
        {
            _increment = (stream << 1) | 1;
            _state = 0;
            NextUInt();
            _state += seed;
            NextUInt();
        }

        public int Next(int bound) => (int)(NextUInt() % (uint)bound);

        private uint NextUInt()
        {
            ulong old = _state;
            _state = unchecked((old * 6364136223846793005UL) + _increment);
            uint xorShifted = (uint)(((old >> 18) ^ old) >> 27);
            int rot = (int)(old >> 59);
            return (xorShifted >> rot) | (xorShifted << ((-rot) & 31));
        }
    }
}
