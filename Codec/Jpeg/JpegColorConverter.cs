using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

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

    /// <summary>Converts <paramref name="width"/> RGB pixels into Y, Cb, Cr rows of length <paramref name="paddedWidth"/> (<paramref name="vectorize"/> = false: scalar only).</summary>
    public static void RgbToYCbCr(ReadOnlySpan<byte> rgb, int width, Span<byte> y, Span<byte> cb, Span<byte> cr, int paddedWidth, bool vectorize = true)
    {
        int x = 0;
        if (vectorize && width >= 16)
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

    /// <summary>
    /// Sixteen pixels per step with AVX2: byte shuffles pick (R,G), (B,G), (B,B), (R,R), (G,B) pairs as
    /// 16-bit lanes straight from the interleaved row (four pixels per 128-bit half), and pmaddwd forms
    /// the three dot products in 32 bits. Coefficients above 32767 are split into two halves so every
    /// factor fits a signed 16-bit lane: 0.587 = 0.337 + 0.250, and 0.5 = 0.25 + 0.25. Returns how many
    /// pixels were converted (the rest go to the scalar loop).
    /// </summary>
    private static int RgbToYCbCrVector(ReadOnlySpan<byte> rgb, int width, Span<byte> y, Span<byte> cb, Span<byte> cr)
    {
        if (!Avx2.IsSupported)
        {
            return 0;
        }

        const byte Z = 0x80;
        Vector256<byte> pickRg = Vector256.Create((byte)0, Z, 1, Z, 3, Z, 4, Z, 6, Z, 7, Z, 9, Z, 10, Z, 0, Z, 1, Z, 3, Z, 4, Z, 6, Z, 7, Z, 9, Z, 10, Z);
        Vector256<byte> pickBg = Vector256.Create((byte)2, Z, 1, Z, 5, Z, 4, Z, 8, Z, 7, Z, 11, Z, 10, Z, 2, Z, 1, Z, 5, Z, 4, Z, 8, Z, 7, Z, 11, Z, 10, Z);
        Vector256<byte> pickBb = Vector256.Create((byte)2, Z, 2, Z, 5, Z, 5, Z, 8, Z, 8, Z, 11, Z, 11, Z, 2, Z, 2, Z, 5, Z, 5, Z, 8, Z, 8, Z, 11, Z, 11, Z);
        Vector256<byte> pickRr = Vector256.Create((byte)0, Z, 0, Z, 3, Z, 3, Z, 6, Z, 6, Z, 9, Z, 9, Z, 0, Z, 0, Z, 3, Z, 3, Z, 6, Z, 6, Z, 9, Z, 9, Z);
        Vector256<byte> pickGb = Vector256.Create((byte)1, Z, 2, Z, 4, Z, 5, Z, 7, Z, 8, Z, 10, Z, 11, Z, 1, Z, 2, Z, 4, Z, 5, Z, 7, Z, 8, Z, 10, Z, 11, Z);
        var yFromRg = Vector256.Create(YR | (22086 << 16)).AsInt16();
        var yFromBg = Vector256.Create(YB | (16384 << 16)).AsInt16();
        var cbFromRg = Vector256.Create(-CbR & 0xFFFF | (-CbG << 16)).AsInt16();
        var quarter = Vector256.Create((short)16384);
        var crFromGb = Vector256.Create(-CrG & 0xFFFF | (-CrB << 16)).AsInt16();
        var half = Vector256.Create(Half);
        var chromaBias = Vector256.Create(ChromaBias);

        ref byte source = ref MemoryMarshal.GetReference(rgb);
        int x = 0;

        // Each step reads 52 bytes from 3·x (the last 128-bit load starts at byte 36 of the step).
        for (; x + 16 <= width && (3 * x) + 52 <= rgb.Length; x += 16)
        {
            ref byte p = ref Unsafe.Add(ref source, 3 * x);
            Vector256<byte> a = Vector256.Create(Vector128.LoadUnsafe(ref p), Vector128.LoadUnsafe(ref p, 12));
            Vector256<byte> b = Vector256.Create(Vector128.LoadUnsafe(ref p, 24), Vector128.LoadUnsafe(ref p, 36));
            Convert8(a, out Vector256<int> ya, out Vector256<int> cba, out Vector256<int> cra);
            Convert8(b, out Vector256<int> yb, out Vector256<int> cbb, out Vector256<int> crb);
            StoreBytes(ya, yb, y.Slice(x, 16));
            StoreBytes(cba, cbb, cb.Slice(x, 16));
            StoreBytes(cra, crb, cr.Slice(x, 16));
        }

        return x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void Convert8(Vector256<byte> pixels, out Vector256<int> vy, out Vector256<int> vcb, out Vector256<int> vcr)
        {
            Vector256<short> rg = Avx2.Shuffle(pixels, pickRg).AsInt16();
            Vector256<short> bg = Avx2.Shuffle(pixels, pickBg).AsInt16();
            Vector256<short> bb = Avx2.Shuffle(pixels, pickBb).AsInt16();
            Vector256<short> rr = Avx2.Shuffle(pixels, pickRr).AsInt16();
            Vector256<short> gb = Avx2.Shuffle(pixels, pickGb).AsInt16();
            vy = (Avx2.MultiplyAddAdjacent(rg, yFromRg) + Avx2.MultiplyAddAdjacent(bg, yFromBg) + half) >> 16;
            vcb = (Avx2.MultiplyAddAdjacent(rg, cbFromRg) + Avx2.MultiplyAddAdjacent(bb, quarter) + chromaBias) >> 16;
            vcr = (Avx2.MultiplyAddAdjacent(rr, quarter) + Avx2.MultiplyAddAdjacent(gb, crFromGb) + chromaBias) >> 16;
        }
    }

    /// <summary>Stores two vectors of eight 0..255 values as sixteen bytes in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreBytes(Vector256<int> first, Vector256<int> second, Span<byte> destination)
    {
        // packssdw interleaves the 128-bit halves; the qword permute restores pixel order.
        Vector256<short> words = Avx2.Permute4x64(Avx2.PackSignedSaturate(first, second).AsInt64(), 0b11_01_10_00).AsInt16();
        Sse2.PackUnsignedSaturate(words.GetLower(), words.GetUpper()).StoreUnsafe(ref MemoryMarshal.GetReference(destination));
    }
}
