using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace JpegLm.Codec.Jpeg;

/// <summary>
/// RGB → YCbCr (JFIF / T.871) in the 16-bit fixed point that libjpeg's jccolor.c uses, so results are
/// bit-identical: Y = (0.299 R + 0.587 G + 0.114 B + ½) » 16; Cb and Cr add 128 and round with ½ − 1
/// (the constant term 128·2¹⁶ + 2¹⁵ − 1), which keeps Cb/Cr ≤ 255 without a clamp.
/// Each function converts one row and replicates the last pixel out to the padded width, which is the
/// same as libjpeg's expand_right_edge on the converted row.
/// </summary>
internal static class JpegColorConverter
{
    // FIX(x) = round(x · 2^16), the jccolor.c coefficients.
    private const int YR = 19595, YG = 38470, YB = 7471;
    private const int CbR = 11059, CbG = 21709, CbB = 32768;
    private const int CrR = 32768, CrG = 27439, CrB = 5329;
    private const int Half = 1 << 15;
    private const int ChromaBias = (128 << 16) + Half - 1;

    /// <summary>Converts <paramref name="width"/> RGB pixels into Y, Cb, Cr rows of length <paramref name="paddedWidth"/>.</summary>
    public static void RgbToYCbCr(ReadOnlySpan<byte> rgb, int width, Span<byte> y, Span<byte> cb, Span<byte> cr, int paddedWidth)
    {
        int x = 0;
        if (Vector256.IsHardwareAccelerated && width >= 8)
        {
            x = RgbToYCbCrVector(rgb, width, y, cb, cr);
        }

        for (; x < width; x++)
        {
            int r = rgb[3 * x], g = rgb[(3 * x) + 1], b = rgb[(3 * x) + 2];
            y[x] = (byte)(((YR * r) + (YG * g) + (YB * b) + Half) >> 16);
            cb[x] = (byte)(((-CbR * r) - (CbG * g) + (CbB * b) + ChromaBias) >> 16);
            cr[x] = (byte)(((CrR * r) - (CrG * g) - (CrB * b) + ChromaBias) >> 16);
        }

        Replicate(y, width, paddedWidth);
        Replicate(cb, width, paddedWidth);
        Replicate(cr, width, paddedWidth);
    }

    /// <summary>Converts RGB pixels to luma only (libjpeg's rgb_gray_convert).</summary>
    public static void RgbToLuma(ReadOnlySpan<byte> rgb, int width, Span<byte> y, int paddedWidth)
    {
        for (int x = 0; x < width; x++)
        {
            int r = rgb[3 * x], g = rgb[(3 * x) + 1], b = rgb[(3 * x) + 2];
            y[x] = (byte)(((YR * r) + (YG * g) + (YB * b) + Half) >> 16);
        }

        Replicate(y, width, paddedWidth);
    }

    /// <summary>Copies a grey row as luma; with chroma rows given, fills them with 128 (grey has no colour).</summary>
    public static void GrayToYCbCr(ReadOnlySpan<byte> gray, int width, Span<byte> y, Span<byte> cb, Span<byte> cr, int paddedWidth)
    {
        gray[..width].CopyTo(y);
        Replicate(y, width, paddedWidth);
        if (!cb.IsEmpty)
        {
            cb[..paddedWidth].Fill(128);
            cr[..paddedWidth].Fill(128);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Replicate(Span<byte> row, int width, int paddedWidth)
    {
        if (paddedWidth > width)
        {
            row[width..paddedWidth].Fill(row[width - 1]);
        }
    }

    /// <summary>Eight pixels at a time in 32-bit lanes; returns how many pixels were converted.</summary>
    private static int RgbToYCbCrVector(ReadOnlySpan<byte> rgb, int width, Span<byte> y, Span<byte> cb, Span<byte> cr)
    {
        Span<int> r8 = stackalloc int[8], g8 = stackalloc int[8], b8 = stackalloc int[8];
        int x = 0;
        for (; x + 8 <= width; x += 8)
        {
            ReadOnlySpan<byte> p = rgb.Slice(3 * x, 24);
            for (int i = 0; i < 8; i++)
            {
                r8[i] = p[3 * i];
                g8[i] = p[(3 * i) + 1];
                b8[i] = p[(3 * i) + 2];
            }

            var r = Vector256.Create<int>(r8);
            var g = Vector256.Create<int>(g8);
            var b = Vector256.Create<int>(b8);
            Vector256<int> vy = ((r * YR) + (g * YG) + (b * YB) + Vector256.Create(Half)) >> 16;
            Vector256<int> vcb = ((b * CbB) - (r * CbR) - (g * CbG) + Vector256.Create(ChromaBias)) >> 16;
            Vector256<int> vcr = ((r * CrR) - (g * CrG) - (b * CrB) + Vector256.Create(ChromaBias)) >> 16;
            StoreBytes(vy, y.Slice(x, 8));
            StoreBytes(vcb, cb.Slice(x, 8));
            StoreBytes(vcr, cr.Slice(x, 8));
        }

        return x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreBytes(Vector256<int> v, Span<byte> destination)
    {
        Vector256<short> s = Vector256.Narrow(v, v);
        Vector256<byte> b = Vector256.Narrow(s.AsUInt16(), s.AsUInt16());
        for (int i = 0; i < 8; i++)
        {
            destination[i] = b[i];
        }
    }
}
