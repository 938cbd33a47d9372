namespace JpegLm.Codec.Jpeg;

/// <summary>
/// Box-filter chroma downsampling with libjpeg's exact rounding (jcsample.c): 2x1 and 2x2 use an
/// alternating ordered-dither bias (0,1,… for 2x1; 1,2,… for 2x2, restarting on every output row) so
/// that rounding does not drift one way; other integral ratios (4x1, 1x2) round half up.
/// </summary>
internal static class ChromaDownsampler
{
    /// <summary>
    /// Downsamples <paramref name="factorV"/> full-resolution rows (each <paramref name="fullStride"/>
    /// samples, already padded to <paramref name="outWidth"/> · <paramref name="factorH"/>) into one row
    /// of <paramref name="outWidth"/> samples.
    /// </summary>
    public static void Downsample(ReadOnlySpan<byte> rows, int fullStride, int factorH, int factorV, Span<byte> destination, int outWidth)
    {
        if (factorH == 2 && factorV == 2)
        {
            ReadOnlySpan<byte> a = rows[..fullStride], b = rows.Slice(fullStride, fullStride);
            for (int x = 0; x < outWidth; x++)
            {
                int bias = 1 + (x & 1);
                destination[x] = (byte)((a[2 * x] + a[(2 * x) + 1] + b[2 * x] + b[(2 * x) + 1] + bias) >> 2);
            }
        }
        else if (factorH == 2 && factorV == 1)
        {
            for (int x = 0; x < outWidth; x++)
            {
                destination[x] = (byte)((rows[2 * x] + rows[(2 * x) + 1] + (x & 1)) >> 1);
            }
        }
        else
        {
            int count = factorH * factorV;
            for (int x = 0; x < outWidth; x++)
            {
                int sum = 0;
                for (int v = 0; v < factorV; v++)
                {
                    ReadOnlySpan<byte> row = rows.Slice(v * fullStride, fullStride);
                    for (int h = 0; h < factorH; h++)
                    {
                        sum += row[(x * factorH) + h];
                    }
                }

                destination[x] = (byte)((sum + (count / 2)) / count);
            }
        }
    }
}
