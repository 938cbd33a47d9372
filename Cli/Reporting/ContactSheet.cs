using JpegLm.Codec.Imaging;

namespace JpegLm.Cli.Reporting;

/// <summary>
/// Lays images out in rows on a white sheet with a gap between them (e.g. one row per prompt:
/// prompt | samples | original). Images of different sizes are top-aligned; grey images become RGB.
/// </summary>
public static class ContactSheet
{
    /// <summary>Composes <paramref name="rows"/> into one RGB image.</summary>
    /// <param name="rows">Each inner list is one row of the sheet, left to right.</param>
    /// <param name="gap">Pixels of white between images and around the edge.</param>
    /// <param name="scale">Integer nearest-neighbour magnification, so tiny images stay visible.</param>
    public static PixelImage Compose(IReadOnlyList<IReadOnlyList<PixelImage>> rows, int gap = 4, int scale = 1)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentOutOfRangeException.ThrowIfLessThan(scale, 1);
        if (rows.Count == 0 || rows.All(r => r.Count == 0))
        {
            throw new ArgumentException("a contact sheet needs at least one image", nameof(rows));
        }

        int width = gap, height = gap;
        foreach (IReadOnlyList<PixelImage> row in rows)
        {
            width = Math.Max(width, gap + row.Sum(i => (i.Width * scale) + gap));
            height += row.Count == 0 ? 0 : row.Max(i => i.Height * scale) + gap;
        }

        var sheet = new PixelImage(width, height, 3);
        sheet.Pixels.AsSpan().Fill(255);
        int y0 = gap;
        foreach (IReadOnlyList<PixelImage> row in rows)
        {
            int x0 = gap;
            foreach (PixelImage source in row)
            {
                PixelImage rgb = source.ToRgb();
                for (int y = 0; y < rgb.Height * scale; y++)
                {
                    ReadOnlySpan<byte> src = rgb.Row(y / scale);
                    Span<byte> dst = sheet.Row(y0 + y).Slice(x0 * 3, rgb.Width * scale * 3);
                    for (int x = 0; x < rgb.Width * scale; x++)
                    {
                        int s = (x / scale) * 3;
                        dst[3 * x] = src[s];
                        dst[(3 * x) + 1] = src[s + 1];
                        dst[(3 * x) + 2] = src[s + 2];
                    }
                }

                x0 += (rgb.Width * scale) + gap;
            }

            y0 += row.Count == 0 ? 0 : row.Max(i => i.Height * scale) + gap;
        }

        return sheet;
    }
}
