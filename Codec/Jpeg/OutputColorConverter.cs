namespace JpegLm.Codec.Jpeg;

/// <summary>
/// Converts upsampled component rows to output pixels as djpeg does: YCbCr→RGB with libjpeg's 16-bit
/// fixed-point tables (jdcolor.c: R = Y + 1.402·Cr', G = Y − 0.34414·Cb' − 0.71414·Cr',
/// B = Y + 1.772·Cb', each product pre-rounded as in the tables), RGB copied, and 4-component
/// CMYK/YCCK reduced to RGB the way djpeg's PPM writer does (R = C·K/255 rounded, and so on).
/// </summary>
internal static class OutputColorConverter
{
    private const int ScaleBits = 16;
    private const int OneHalf = 1 << (ScaleBits - 1);

    private static readonly int[] CrToR = new int[256];
    private static readonly int[] CbToB = new int[256];
    private static readonly int[] CrToG = new int[256];
    private static readonly int[] CbToG = new int[256];

#pragma warning disable CA1810 // The tables are computed once; a static constructor states that plainly.
    static OutputColorConverter()
#pragma warning restore CA1810
    {
        for (int i = 0; i < 256; i++)
        {
            int x = i - 128;
            CrToR[i] = ((Fix(1.40200) * x) + OneHalf) >> ScaleBits;
            CbToB[i] = ((Fix(1.77200) * x) + OneHalf) >> ScaleBits;
            CrToG[i] = -Fix(0.71414) * x;
            CbToG[i] = (-Fix(0.34414) * x) + OneHalf;
        }
    }

    /// <summary>One row of YCbCr to interleaved RGB.</summary>
    public static unsafe void YCbCrToRgb(ReadOnlySpan<byte> y, ReadOnlySpan<byte> cb, ReadOnlySpan<byte> cr, Span<byte> rgb, int width)
    {
        int start = 0;
        if (OutputColorConverterVector.IsSupported && y.Length >= width && cb.Length >= width && cr.Length >= width && rgb.Length >= 3 * width)
        {
            fixed (byte* py = y)
            fixed (byte* pcb = cb)
            fixed (byte* pcr = cr)
            fixed (byte* prgb = rgb)
            {
                start = OutputColorConverterVector.YCbCrToRgb(py, pcb, pcr, prgb, width);
            }
        }

        YCbCrToRgbScalar(y, cb, cr, rgb, start, width);
    }

    /// <summary>The table-driven reference conversion of pixels <paramref name="start"/>..<paramref name="width"/>−1.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void YCbCrToRgbScalar(ReadOnlySpan<byte> y, ReadOnlySpan<byte> cb, ReadOnlySpan<byte> cr, Span<byte> rgb, int start, int width)
    {
        for (int i = start; i < width; i++)
        {
            int yy = y[i], b = cb[i], r = cr[i];
            rgb[3 * i] = Clamp(yy + CrToR[r]);
            rgb[(3 * i) + 1] = Clamp(yy + ((CbToG[b] + CrToG[r]) >> ScaleBits));
            rgb[(3 * i) + 2] = Clamp(yy + CbToB[b]);
        }
    }

    /// <summary>One row of R, G, B planes to interleaved RGB.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void PlanarToRgb(ReadOnlySpan<byte> r, ReadOnlySpan<byte> g, ReadOnlySpan<byte> b, Span<byte> rgb, int width)
    {
        for (int i = 0; i < width; i++)
        {
            rgb[3 * i] = r[i];
            rgb[(3 * i) + 1] = g[i];
            rgb[(3 * i) + 2] = b[i];
        }
    }

    /// <summary>One row of CMYK (or YCCK, converted to CMYK first as jdcolor.c does) to RGB as djpeg's PPM writer does.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public static void CmykToRgb(ReadOnlySpan<byte> c0, ReadOnlySpan<byte> c1, ReadOnlySpan<byte> c2, ReadOnlySpan<byte> k, bool ycck, Span<byte> rgb, int width)
    {
        for (int i = 0; i < width; i++)
        {
            int c, m, yel;
            if (ycck)
            {
                int yy = c0[i], b = c1[i], r = c2[i];
                c = Clamp(255 - (yy + CrToR[r]));
                m = Clamp(255 - (yy + ((CbToG[b] + CrToG[r]) >> ScaleBits)));
                yel = Clamp(255 - (yy + CbToB[b]));
            }
            else
            {
                c = c0[i];
                m = c1[i];
                yel = c2[i];
            }

            int kk = k[i];
            rgb[3 * i] = (byte)(((c * kk) + 127) / 255);
            rgb[(3 * i) + 1] = (byte)(((m * kk) + 127) / 255);
            rgb[(3 * i) + 2] = (byte)(((yel * kk) + 127) / 255);
        }
    }

    private static int Fix(double x) => (int)((x * (1 << ScaleBits)) + 0.5);

    private static byte Clamp(int v) => (byte)Math.Clamp(v, 0, 255);
}
