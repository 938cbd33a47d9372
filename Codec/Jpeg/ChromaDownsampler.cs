using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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
    /// of <paramref name="outWidth"/> samples. <paramref name="vectorize"/> = false forces the scalar path (tests).
    /// </summary>
    public static void Downsample(ReadOnlySpan<byte> rows, int fullStride, int factorH, int factorV, Span<byte> destination, int outWidth, bool vectorize = true)
    {
        if (factorH == 2 && factorV == 2)
        {
            ReadOnlySpan<byte> a = rows[..fullStride], b = rows.Slice(fullStride, fullStride);
            for (int x = vectorize && Avx2.IsSupported ? DownsampleVector(a, b, destination, outWidth) : 0; x < outWidth; x++)
            {
                int bias = 1 + (x & 1);
                destination[x] = (byte)((a[2 * x] + a[(2 * x) + 1] + b[2 * x] + b[(2 * x) + 1] + bias) >> 2);
            }
        }
        else if (factorH == 2 && factorV == 1)
        {
            for (int x = vectorize && Avx2.IsSupported ? DownsampleVector(rows[..fullStride], default, destination, outWidth) : 0; x < outWidth; x++)
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

    /// <summary>
    /// Sixteen outputs per step: pmaddubsw with ones adds horizontal pairs, the second row (if any) is
    /// added, then the alternating bias and the shift. Returns how many outputs were produced.
    /// </summary>
    private static int DownsampleVector(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, Span<byte> destination, int outWidth)
    {
        bool twoRows = !b.IsEmpty;
        Vector256<sbyte> ones = Vector256.Create((sbyte)1);
        Vector256<short> bias = twoRows ? Vector256.Create((short)1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2, 1, 2) : Vector256.Create((short)0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1);
        int x = 0;
        for (; x + 16 <= outWidth; x += 16)
        {
            Vector256<short> sum = Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(a), (nuint)(2 * x)), ones);
            if (twoRows)
            {
                sum += Avx2.MultiplyAddAdjacent(Vector256.LoadUnsafe(ref MemoryMarshal.GetReference(b), (nuint)(2 * x)), ones);
                sum = (sum + bias) >> 2;
            }
            else
            {
                sum = (sum + bias) >> 1;
            }

            Sse2.PackUnsignedSaturate(sum.GetLower(), sum.GetUpper()).StoreUnsafe(ref MemoryMarshal.GetReference(destination), (nuint)x);
        }

        return x;
    }
}
